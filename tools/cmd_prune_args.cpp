#include "tools/cmd_prune_args.h"

#include <cmath>
#include <cstdlib>

namespace edgepack::cli {

Expected<prune_method> parse_prune_method(const std::string& text) {
  if (text == "magnitude") return prune_method::magnitude;
  if (text == "wanda") return prune_method::wanda;
  if (text == "sparsegpt") return prune_method::sparsegpt;
  return bad_usage("--method '" + text + "' is not available (available: magnitude, wanda, sparsegpt)");
}

Expected<compression_scheme> parse_default_prune_scheme(const prune_args& args) {
  const int given = (args.sparsity.empty() ? 0 : 1) + (args.pattern.empty() ? 0 : 1) + (args.scheme.empty() ? 0 : 1);
  if (given == 0) return bad_usage("say how much to prune: --sparsity FRACTION (e.g. 0.5), --pattern N:M (e.g. 2:4) or --scheme S (e.g. s2:4+w4g32)");
  if (given > 1) return bad_usage("give only one of --sparsity, --pattern and --scheme");
  if (!args.pattern.empty()) {
    if (args.pattern.find(':') == std::string::npos) return bad_usage("--pattern '" + args.pattern + "' must be N:M (e.g. 2:4); use --sparsity for unstructured pruning");
    auto p = parse_sparsity_term("s" + args.pattern);
    if (!p.ok()) return bad_usage("--pattern '" + args.pattern + "': " + p.status().message());
    return compression_scheme{.sparsity = *p, .weights = std::nullopt};
  }
  if (!args.scheme.empty()) {
    EP_ASSIGN_OR_RETURN(compression_scheme s, parse_compression_scheme(args.scheme));
    if (!s.sparsity) return bad_usage("--scheme '" + args.scheme + "' has no sparsity term (s50, s2:4, ...); quantize-only schemes belong to 'edgepack quantize'");
    return s;
  }
  char* end = nullptr;
  const double fraction = std::strtod(args.sparsity.c_str(), &end);
  if (end == args.sparsity.c_str() || *end != '\0' || !std::isfinite(fraction) || fraction < 0 || fraction >= 1.0)
    return bad_usage("--sparsity '" + args.sparsity + "' must be a fraction in [0, 1) (0.5 prunes half the weights)");
  const sparsity_pattern p = sparsity_pattern::unstructured(fraction);
  EP_RETURN_IF_ERROR(validate_sparsity_pattern(p));
  return compression_scheme{.sparsity = p, .weights = std::nullopt};
}

Expected<std::vector<prune_override>> parse_prune_overrides(const std::vector<std::string>& rules) {
  std::vector<prune_override> result;
  for (const auto& rule : rules) {
    const auto eq = rule.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == rule.size())
      return bad_usage("--override '" + rule + "' must look like REGEX=SCHEME (e.g. 'down_proj=s4:8' or 'lm_head=s0')");
    prune_override o;
    o.rule = rule;
    try {
      o.regex = std::regex(rule.substr(0, eq), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return bad_usage("--override '" + rule + "': invalid regular expression '" + rule.substr(0, eq) + "': " + e.what());
    }
    auto s = parse_compression_scheme(rule.substr(eq + 1));
    if (!s.ok()) return bad_usage("--override '" + rule + "': " + s.status().message());
    if (!s->sparsity) return bad_usage("--override '" + rule + "': the scheme needs a sparsity term (s50, s2:4, s0 to keep the tensor dense)");
    o.scheme = *s;
    result.push_back(std::move(o));
  }
  return result;
}

Status check_prune_args(const prune_args& args, prune_method method, const compression_scheme& scheme, const std::vector<prune_override>& overrides) {
  const bool calibrated = method != prune_method::magnitude;
  const bool any_calib = !args.calib.calib.empty() || !args.calib.calib_windows.empty();
  if (calibrated && !any_calib)
    return bad_usage("--method " + args.method + " needs calibration data: --calib TEXT (or --calib-windows FILE.json) for LLMs, --calib DIR of .npy input sets for ONNX models");
  if (!calibrated && any_calib) return bad_usage("--calib/--calib-windows need --method wanda or sparsegpt (magnitude pruning uses no calibration data)");
  if (!args.calib.calib.empty() && !args.calib.calib_windows.empty()) return bad_usage("give either --calib or --calib-windows, not both");
  if (!args.calib.calib_windows.empty() && !args.calib.calib_range.empty()) return bad_usage("--calib-range applies to --calib text, not to --calib-windows");
  if (args.calib.act_order || args.calib.static_groups) return bad_usage("--act-order/--static-groups are GPTQ options; prune does not take them");
  auto joint = [&](const compression_scheme& s) { return s.weights.has_value(); };
  if (method != prune_method::sparsegpt) {
    if (joint(scheme)) return bad_usage("--scheme '" + args.scheme + "' prunes and quantizes in one pass, which needs --method sparsegpt");
    for (const auto& o : overrides)
      if (joint(o.scheme)) return bad_usage("--override '" + o.rule + "' prunes and quantizes in one pass, which needs --method sparsegpt");
  }
  if (args.global) {
    if (method != prune_method::magnitude) return bad_usage("--global applies to --method magnitude only");
    if (scheme.sparsity->kind != sparsity_kind::unstructured) return bad_usage("--global applies to unstructured sparsity (--sparsity), not to N:M patterns");
    if (args.per_row || args.per_tensor) return bad_usage(std::string("give either --global or ") + (args.per_row ? "--per-row" : "--per-tensor") + ", not both");
  }
  if (args.per_row && args.per_tensor) return bad_usage("give either --per-row or --per-tensor, not both");
  return Status::ok_status();
}

mask_scope prune_scope(const prune_args& args, prune_method method) {
  if (args.per_row) return mask_scope::per_row;
  if (args.per_tensor) return mask_scope::per_tensor;
  return method == prune_method::magnitude ? mask_scope::per_tensor : mask_scope::per_row;
}

const char* prune_scope_name(const prune_args& args, prune_method method, const compression_scheme& scheme) {
  if (scheme.sparsity->kind == sparsity_kind::n_of_m) return "group";
  if (args.global) return "global";
  return prune_scope(args, method) == mask_scope::per_row ? "row" : "tensor";
}

}  // namespace edgepack::cli

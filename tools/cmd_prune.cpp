// edgepack prune MODEL -o OUT.epk --method magnitude|wanda|sparsegpt (--sparsity F | --pattern N:M | --scheme S)
// (docs/cli.md, docs/pruning.md "Pruning a model").
#include <chrono>
#include <filesystem>
#include <optional>

#include "calibration/calib_windows.h"
#include "core/sparsity.h"
#include "formats/epk.h"
#include "passes/pack_sparse.h"
#include "tools/cmd_prune_args.h"
#include "tools/progress.h"
#include "tools/provenance.h"

namespace edgepack::cli {

namespace {

Status prune(const prune_args& args) {
  const auto start = std::chrono::steady_clock::now();
  EP_ASSIGN_OR_RETURN(prune_method method, parse_prune_method(args.method));
  EP_ASSIGN_OR_RETURN(compression_scheme scheme, parse_default_prune_scheme(args));
  EP_ASSIGN_OR_RETURN(std::vector<prune_override> overrides, parse_prune_overrides(args.calib.overrides));
  EP_RETURN_IF_ERROR(check_prune_args(args, method, scheme, overrides));
  if (method != prune_method::magnitude) EP_RETURN_IF_ERROR(parse_calib_sampling(args.calib.calib_sampling).status());
  if (std::filesystem::exists(args.output) && std::filesystem::exists(args.input) && std::filesystem::equivalent(args.input, args.output))
    return bad_usage("the output " + args.output + " is the input model; choose another path");
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  auto hashes = start_source_hashing(m.sources);
  EP_ASSIGN_OR_RETURN(std::vector<selected_weight> selected, select_weights(m.g, {args.include, args.exclude, args.min_elements}));
  if (selected.empty()) {
    if (m.g.nodes.empty()) return bad_usage(args.input + ": a bare tensor file has no graph to find linear layers in; choose tensors with --include REGEX");
    return bad_usage(args.input + ": no tensor selected for pruning: no dense float weight of at least " + std::to_string(args.min_elements) +
                     " elements is read only as the weight of MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU or RNN nodes (check --include/--exclude/--min-elements)");
  }
  prune_model_options options;
  options.method = method;
  options.magnitude_scope = args.per_row ? mask_scope::per_row : mask_scope::per_tensor;
  options.global = args.global;
  options.damp = args.calib.damp;
  options.block_size = args.calib.block_size;
  options.scale_search_steps = args.scale_search;
  options.threads = globals().threads;
  for (const auto& s : selected) {
    compression_scheme chosen = scheme;
    for (const auto& o : overrides)
      if (std::regex_search(s.name, o.regex)) {
        chosen = o.scheme;
        break;
      }
    const sparsity_pattern& p = *chosen.sparsity;
    if (p.kind == sparsity_kind::unstructured && p.fraction == 0 && !chosen.weights) continue;  // s0: stays as it is
    prune_weight_plan plan;
    plan.view = encoding_for(chosen.weights.value_or(quant_encoding{}), s.view);
    plan.pattern = p;
    if (chosen.weights) plan.quantize = plan.view;
    const tensor& w = m.g.weights.at(s.name);
    const int64_t cols = quant_view_of(w.shape, plan.view).cols;
    if (p.kind == sparsity_kind::n_of_m && cols < p.m)
      return bad_usage("tensor '" + s.name + "' " + shape_to_string(w.shape) + " has " + std::to_string(cols) + " columns in its matrix view, fewer than M = " +
                       std::to_string(p.m) + " of " + sparsity_pattern_name(p) + "; exclude it (--exclude) or give it another pattern (--override)");
    if (args.global && p.kind != sparsity_kind::unstructured)
      return bad_usage("--global applies to unstructured sparsity; --override gives tensor '" + s.name + "' " + sparsity_pattern_name(p));
    options.weights[s.name] = plan;
  }
  if (options.weights.empty()) return bad_usage(args.input + ": every selected tensor was overridden to s0; nothing to prune");
  std::vector<tensor_map> windows;
  nlohmann::json calibration;
  if (method != prune_method::magnitude) {
    EP_ASSIGN_OR_RETURN(windows, calibration_inputs(m, args.calib, calibration));
  }
  const std::string scheme_text =
      !args.scheme.empty() ? args.scheme : sparsity_pattern_name(*scheme.sparsity);
  std::optional<progress_bar> bar;
  options.progress = [&](int64_t done, int64_t total, const std::string&) {
    if (!bar) bar.emplace(std::string(method == prune_method::magnitude ? "pruning " : "pruning, true sequential, ") + args.method + " " + scheme_text, total);
    bar->update(done);
    if (done == total) bar->finish();
  };
  EP_ASSIGN_OR_RETURN(prune_model_result r, prune_model(m, windows, options));
  if (method != prune_method::magnitude)
    info(args.method + ": " + std::to_string(r.stages) + " stages; forward " + std::to_string(r.seconds_forward) + " s, Hessians " +
         std::to_string(r.seconds_hessian) + " s, pruning " + std::to_string(r.seconds_prune) + " s");

  // Packing (unless --no-pack): each pruned weight in its matrix view, when the sparse layout is
  // smaller than the dense one (N:M always is; a bitmask pays off above ~1/32 sparsity for f32).
  std::map<std::string, std::string> layouts;
  if (!args.no_pack) {
    for (auto& [name, t] : r.weights) {
      const prune_weight_plan& plan = options.weights.at(name);
      tensor candidate = t;
      if (!candidate.is_quantized()) {
        candidate.quant.col_axis = plan.view.col_axis;
        candidate.quant.transposed = plan.view.transposed;
      }
      const std::optional<uint64_t> bytes = packed_sparse_bytes(candidate, plan.pattern);
      if (!bytes || *bytes >= t.stored_bytes()) continue;
      auto packed = pack_sparse_tensor(candidate, plan.pattern);
      if (!packed.ok()) return packed.status().with_context("packing tensor '" + name + "'");
      t = std::move(packed).value();
      layouts[name] = sparse_encoding_name(t.sparsity);
    }
  }
  for (auto& j : r.tensors) {
    const std::string name = j["name"];
    j["layout"] = layouts.count(name) ? layouts.at(name) : "dense";
    j["bytes_after"] = r.weights.at(name).stored_bytes();
  }
  model out = m;
  for (auto& [name, t] : r.weights) out.g.weights[name] = std::move(t);
  nlohmann::json recorded = {{"method", args.method}, {"scheme", scheme_text}, {"include", args.include}, {"exclude", args.exclude},
                             {"scope", scheme.sparsity->kind == sparsity_kind::n_of_m ? "group"
                                       : args.global                                 ? "global"
                                       : method != prune_method::magnitude || args.per_row ? "row"
                                                                                           : "tensor"},
                             {"packed", !args.no_pack}};
  if (args.min_elements != default_min_quantized_elements) recorded["min_elements"] = args.min_elements;
  if (!args.calib.overrides.empty()) recorded["overrides"] = args.calib.overrides;
  if (method != prune_method::magnitude) {
    recorded["calibration"] = calibration;
    recorded["stages"] = r.stages;
    recorded["windows"] = r.windows;
  }
  if (method == prune_method::sparsegpt) {
    recorded["damp"] = args.calib.damp;
    recorded["block_size"] = args.calib.block_size;
  }
  epk_write_options write_options;
  write_options.extra_metadata = {{"pass", {{"pass", "prune"}, {"method", args.method}, {"scheme", scheme_text}, {"tensors", r.tensors}}},
                                  {"options", recorded}};
  EP_ASSIGN_OR_RETURN(out.sources, finish_source_hashing(std::move(hashes)));
  info("writing " + args.output);
  EP_RETURN_IF_ERROR(write_epk(args.output, out, write_options));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t elements = 0, pruned = 0;
  uint64_t before = 0, after = 0;
  for (const auto& t : r.tensors) {
    elements += t["elements"].get<int64_t>();
    pruned += t["pruned"].get<int64_t>();
    before += t["bytes_before"].get<uint64_t>();
    after += t["bytes_after"].get<uint64_t>();
  }
  const auto file_bytes = std::filesystem::file_size(args.output);
  const double sparsity = elements > 0 ? static_cast<double>(pruned) / static_cast<double>(elements) : 0.0;
  if (args.json) {
    print_json({{"output", args.output}, {"method", args.method}, {"scheme", scheme_text}, {"file_bytes", file_bytes}, {"elements", elements},
                {"pruned", pruned}, {"sparsity", sparsity}, {"pruned_bytes_before", before}, {"pruned_bytes_after", after}, {"seconds", seconds},
                {"tensors", r.tensors}});
  } else {
    std::printf("%s: %zu tensors pruned (%s, %s), %lld of %lld weights zero (%.2f %%); file %llu bytes (%.2fs)\n", args.output.c_str(), r.tensors.size(),
                args.method.c_str(), scheme_text.c_str(), static_cast<long long>(pruned), static_cast<long long>(elements), 100.0 * sparsity,
                static_cast<unsigned long long>(file_bytes), seconds);
  }
  return Status::ok_status();
}

}  // namespace

void register_prune(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<prune_args>();
  CLI::App* cmd = app.add_subcommand("prune", "Prune a model's weights (magnitude, Wanda, SparseGPT; unstructured or N:M; optionally joint with quantization) and write .epk");
  cmd->add_option("model", args->input, "Model: ONNX, llama2.c .bin, Hugging Face directory, safetensors or .epk")->required();
  cmd->add_option("-o,--output", args->output, "Output .epk path (written atomically)")->required();
  cmd->add_option("--method", args->method, "magnitude (no data), wanda or sparsegpt (calibrated, need --calib)")->capture_default_str();
  cmd->add_option("--sparsity", args->sparsity, "Unstructured: fraction of the weights to zero, in [0, 1) (0.5 = 50 %)");
  cmd->add_option("--pattern", args->pattern, "N:M: at most N non-zeros in every M consecutive input columns (2:4, 4:8)");
  cmd->add_option("--scheme", args->scheme, "Scheme term(s): s50, s2:4, or joint s2:4+w4g32 (sparsegpt prunes and quantizes in one pass)");
  cmd->add_flag("--global", args->global, "magnitude, unstructured: one threshold over all selected weights");
  cmd->add_flag("--per-row", args->per_row, "magnitude, unstructured: the fraction in every output row (default: per tensor)");
  cmd->add_flag("--no-pack", args->no_pack, "Store the pruned weights dense (zeros included) instead of packed (N:M indices or bitmask)");
  cmd->add_option("--include", args->include, "Also prune 2-D float weights whose name matches this regex");
  cmd->add_option("--exclude", args->exclude, "Keep weights whose name matches this regex as they are");
  cmd->add_option("--min-elements", args->min_elements, "Weights with fewer elements stay as they are (unless --include names them)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--scale-search", args->scale_search, "Joint quantization: RTN scale candidates tried on each side of the absmax scale")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  add_gptq_options(*cmd, args->calib);
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(prune(*args)); });
}

}  // namespace edgepack::cli

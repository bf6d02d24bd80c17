#include "tools/pack_step.h"

#include "passes/pack_sparse.h"

namespace edgepack::cli {

namespace {

Expected<pack_sparse_options> pack_options(const pack_args& args) {
  pack_sparse_options options;
  options.allow_bitmask = !args.no_bitmask;
  options.allow_n_of_m = !args.no_n_of_m;
  options.min_elements = args.min_elements;
  if (args.pattern != "auto") {
    // "2:4", "s2:4" and "s50"-style terms; an unstructured term packs bitmasks where they pay off.
    const std::string term = args.pattern.starts_with("s") ? args.pattern : "s" + args.pattern;
    EP_ASSIGN_OR_RETURN(options.pattern, parse_sparsity_term(term));
  }
  if (!options.pattern && !options.allow_bitmask && !options.allow_n_of_m)
    return bad_usage("--no-bitmask and --no-n-of-m together leave nothing to pack");
  return options;
}

}  // namespace

Status check_pack_args(const pack_args& args) { return pack_options(args).status(); }

Expected<step_output> run_pack_step(const model& m, const pack_args& args, nlohmann::json& stats) {
  EP_ASSIGN_OR_RETURN(pack_sparse_options options, pack_options(args));
  EP_ASSIGN_OR_RETURN(pass_result result, pack_sparse(m, options));
  stats = result.stats;
  step_output out{std::move(result.out), nlohmann::json::object(), ""};
  out.extra = {{"pass", {{"pass", "pack_sparse"}, {"tensors", stats["tensors"]}}},
               {"options", {{"pattern", args.pattern}, {"bitmask", options.allow_bitmask}, {"n_of_m", options.allow_n_of_m}}}};
  out.summary = std::to_string(stats["packed_tensors"].get<int64_t>()) + " tensors packed, weights " + std::to_string(stats["bytes_before"].get<uint64_t>()) +
                " -> " + std::to_string(stats["bytes_after"].get<uint64_t>()) + " bytes";
  return out;
}

}  // namespace edgepack::cli

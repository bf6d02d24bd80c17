// edgepack pack IN -o OUT.epk [--pattern 2:4|auto] [--no-bitmask] [--no-n-of-m] [--json]: stores
// pruned weights sparse (docs/format.md §5.1). Lossless: the output decodes to the same values.
#include <cstdio>

#include "formats/epk.h"
#include "passes/pack_sparse.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

namespace {

struct pack_args {
  std::string input;
  std::string output;
  std::string pattern = "auto";
  bool no_bitmask = false;
  bool no_n_of_m = false;
  int64_t min_elements = 1024;
  bool json = false;
  load_options load;
};

Status pack_model(const pack_args& args) {
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
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  EP_ASSIGN_OR_RETURN(pass_result result, pack_sparse(m, options));
  epk_write_options write_options;
  write_options.extra_metadata = {{"pass", {{"pass", "pack_sparse"}, {"tensors", result.stats["tensors"]}}},
                                  {"options", {{"pattern", args.pattern}, {"bitmask", options.allow_bitmask}, {"n_of_m", options.allow_n_of_m}}}};
  info("writing " + args.output);
  EP_RETURN_IF_ERROR(write_epk(args.output, result.out, write_options));
  if (args.json) {
    nlohmann::json j = result.stats;
    j["input"] = args.input;
    j["output"] = args.output;
    print_json(j);
  } else {
    for (const auto& t : result.stats["tensors"])
      std::printf("%-48s %-8s %10llu -> %10llu bytes\n", t["name"].get<std::string>().c_str(), t["layout"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(t["bytes_before"].get<uint64_t>()), static_cast<unsigned long long>(t["bytes_after"].get<uint64_t>()));
    std::printf("%s: %lld tensors packed, weights %llu -> %llu bytes\n", args.output.c_str(), static_cast<long long>(result.stats["packed_tensors"].get<int64_t>()),
                static_cast<unsigned long long>(result.stats["bytes_before"].get<uint64_t>()),
                static_cast<unsigned long long>(result.stats["bytes_after"].get<uint64_t>()));
  }
  return Status::ok_status();
}

}  // namespace

void register_pack(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<pack_args>();
  CLI::App* cmd = app.add_subcommand("pack", "Store pruned weights sparse (N:M with indices, or bitmask) in an .epk; lossless");
  cmd->add_option("model", args->input, "Model: .epk, ONNX, llama2.c .bin or Hugging Face directory")->required();
  cmd->add_option("-o,--output", args->output, "Output .epk path (written atomically)")->required();
  cmd->add_option("--pattern", args->pattern, "auto (smallest of 2:4, 4:8, 1:4, 1:2 and bitmask per weight), an N:M pattern such as 2:4, or s<pct> for bitmasks")
      ->capture_default_str();
  cmd->add_flag("--no-bitmask", args->no_bitmask, "auto: never use the bitmask layout");
  cmd->add_flag("--no-n-of-m", args->no_n_of_m, "auto: never use N:M layouts");
  cmd->add_option("--min-elements", args->min_elements, "Weights with fewer elements stay as they are")->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 62));
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(pack_model(*args)); });
}

}  // namespace edgepack::cli

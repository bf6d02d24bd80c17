// edgepack pack IN -o OUT.epk [--pattern 2:4|auto] [--no-bitmask] [--no-n-of-m] [--json]: stores
// pruned weights sparse (docs/format.md §5.1). Lossless: the output decodes to the same values.
#include <cstdio>

#include "formats/epk.h"
#include "passes/pass.h"
#include "tools/pack_step.h"

namespace edgepack::cli {

namespace {

Status pack_model(const pack_args& args) {
  EP_RETURN_IF_ERROR(check_pack_args(args));
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  nlohmann::json stats;
  EP_ASSIGN_OR_RETURN(step_output packed, run_pack_step(m, args, stats));
  epk_write_options write_options;
  write_options.extra_metadata = packed.extra;
  pass_result result{std::move(packed.out), true, stats};
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

// edgepack prune MODEL -o OUT.epk --method magnitude|wanda|sparsegpt (--sparsity F | --pattern N:M | --scheme S)
// (docs/cli.md, docs/pruning.md "Pruning a model").
#include <chrono>
#include <filesystem>

#include "formats/epk.h"
#include "tools/prune_step.h"
#include "tools/provenance.h"

namespace edgepack::cli {

namespace {

Status prune(const prune_args& args) {
  const auto start = std::chrono::steady_clock::now();
  EP_RETURN_IF_ERROR(check_prune_command(args));
  if (std::filesystem::exists(args.output) && std::filesystem::exists(args.input) && std::filesystem::equivalent(args.input, args.output))
    return bad_usage("the output " + args.output + " is the input model; choose another path");
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  auto hashes = start_source_hashing(m.sources);
  EP_ASSIGN_OR_RETURN(prune_step_output step, run_prune_step(m, args));
  const nlohmann::json& tensors = step.tensors;
  const std::string scheme_text = step.step.extra["pass"]["scheme"];
  epk_write_options write_options;
  write_options.extra_metadata = step.step.extra;
  model& out = step.step.out;
  EP_ASSIGN_OR_RETURN(out.sources, finish_source_hashing(std::move(hashes)));
  info("writing " + args.output);
  EP_RETURN_IF_ERROR(write_epk(args.output, out, write_options));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t elements = 0, pruned = 0;
  uint64_t before = 0, after = 0;
  for (const auto& t : tensors) {
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
                {"tensors", tensors}});
  } else {
    std::printf("%s: %zu tensors pruned (%s, %s), %lld of %lld weights zero (%.2f %%); file %llu bytes (%.2fs)\n", args.output.c_str(), tensors.size(),
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
  cmd->add_flag("--per-row", args->per_row, "Unstructured: the fraction in every output row (default for wanda and sparsegpt)");
  cmd->add_flag("--per-tensor", args->per_tensor, "Unstructured: one comparison over each whole tensor (default for magnitude)");
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

// edgepack quantize MODEL -o OUT.epk --scheme S: round-to-nearest weight quantization.
#include <chrono>
#include <filesystem>

#include "formats/epk.h"
#include "tools/progress.h"
#include "tools/provenance.h"
#include "tools/quantize_step.h"

namespace edgepack::cli {

namespace {

Status quantize(const quantize_args& args) {
  const auto start = std::chrono::steady_clock::now();
  EP_RETURN_IF_ERROR(check_quantize_args(args));
  if (std::filesystem::exists(args.output) && std::filesystem::equivalent(args.input, args.output))
    return bad_usage("the output " + args.output + " is the input model; choose another path");
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  auto hashes = start_source_hashing(m.sources);  // overlaps hashing with quantization
  EP_ASSIGN_OR_RETURN(quantize_plan plan, plan_quantize(m, args));  // GPTQ quantizes everything before the file is written
  // The output model holds only layouts for the selected weights; their bytes are produced one
  // tensor at a time while the file is written, so memory stays near one tensor's worth.
  const model out = quantized_layout(m, plan);
  nlohmann::json tensor_stats = nlohmann::json::array();
  progress_bar bar("quantizing " + std::to_string(plan.encodings.size()) + " tensors to " + quant_encoding_name(plan.encoding),
                   static_cast<int64_t>(plan.encodings.size()));
  int64_t done = 0;
  auto produce = [&](const std::string& name, const tensor&) -> Expected<tensor> {
    if (!plan.encodings.count(name)) return out.g.weights.at(name);  // as is, or tuned (--tune-epochs)
    auto quantized = quantize_planned_weight(m, plan, name, tensor_stats);
    if (quantized.ok()) bar.update(++done);
    return quantized;
  };
  epk_write_options write_options;
  write_options.extra_metadata = quantize_extra(args, plan, tensor_stats);
  write_options.final_extra_metadata = [&] { return quantize_extra(args, plan, tensor_stats); };
  // Room for one stats entry per quantized tensor: its name plus ~100 bytes of numbers and keys.
  for (const auto& [name, e] : plan.encodings) write_options.metadata_reserve_bytes += name.size() + 112;
  write_options.final_sources = [&hashes] { return finish_source_hashing(std::move(hashes)); };
  info("writing " + args.output);
  EP_RETURN_IF_ERROR(write_epk_streaming(args.output, out, write_options, produce));
  bar.finish();
  if (plan.gptq) tensor_stats = plan.gptq->tensors;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t before = 0, after = 0;
  for (const auto& t : tensor_stats) {
    before += t["bytes_before"].get<uint64_t>();
    after += t["bytes_after"].get<uint64_t>();
  }
  const std::string scheme = quant_encoding_name(plan.encoding);
  const auto file_bytes = std::filesystem::file_size(args.output);
  if (args.json) {
    print_json({{"output", args.output}, {"scheme", scheme}, {"file_bytes", file_bytes}, {"quantized_bytes_before", before},
                {"quantized_bytes_after", after}, {"seconds", seconds}, {"tensors", tensor_stats}});
  } else {
    std::printf("%s: %zu tensors quantized to %s, %llu -> %llu bytes; file %llu bytes (%.2fs)\n", args.output.c_str(), tensor_stats.size(),
                scheme.c_str(), static_cast<unsigned long long>(before), static_cast<unsigned long long>(after),
                static_cast<unsigned long long>(file_bytes), seconds);
  }
  return Status::ok_status();
}

}  // namespace

void register_quantize(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<quantize_args>();
  CLI::App* cmd = app.add_subcommand("quantize", "Quantize a model's weights (MatMul/Gemm/Conv/ConvTranspose/LSTM/GRU) and write .epk");
  cmd->add_option("model", args->input, "Model: ONNX, llama2.c .bin, Hugging Face directory, safetensors or .epk")->required();
  cmd->add_option("-o,--output", args->output, "Output .epk path (written atomically)")->required();
  cmd->add_option("--scheme", args->scheme, "w<bits>[g<group>][_asym]: w8, w4g32, w4g128, w3g32, w2g32_asym, ...")->capture_default_str();
  cmd->add_option("--method", args->method, "Quantization method: rtn (round-to-nearest) or gptq (calibrated, needs --calib)")->capture_default_str();
  cmd->add_option("--include", args->include, "Also quantize 2-D float weights whose name matches this regex");
  cmd->add_option("--exclude", args->exclude, "Keep weights whose name matches this regex as they are");
  cmd->add_option("--min-elements", args->min_elements, "Weights with fewer elements stay float (unless --include names them)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--scale-search", args->scale_search, "RTN scale candidates tried on each side of the absmax scale (0 = plain absmax)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  add_gptq_options(*cmd, args->gptq);
  add_gptq_quantize_options(*cmd, args->gptq);
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(quantize(*args)); });
}

}  // namespace edgepack::cli

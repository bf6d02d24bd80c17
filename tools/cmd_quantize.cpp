// edgepack quantize MODEL -o OUT.epk --scheme S: round-to-nearest weight quantization.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "core/sha256.h"
#include "formats/epk.h"
#include "passes/quantize_rtn.h"
#include "passes/scheme.h"
#include "tools/cli_common.h"
#include "tools/cmd_quantize_gptq.h"
#include "tools/progress.h"
#include "tools/provenance.h"

namespace edgepack::cli {

namespace {

struct quantize_args {
  std::string input;
  std::string output;
  std::string scheme = "w4g32";
  std::string method = "rtn";
  std::string include;
  std::string exclude;
  int scale_search = 4;
  gptq_cli_args gptq;  // --method gptq, calibration, --override
  int64_t min_elements = default_min_quantized_elements;
  bool json = false;
  load_options load;
};

Status quantize(const quantize_args& args) {
  const auto start = std::chrono::steady_clock::now();
  EP_RETURN_IF_ERROR(check_calibration_args(args.method, args.gptq));
  EP_ASSIGN_OR_RETURN(std::vector<scheme_override> overrides, parse_scheme_overrides(args.gptq.overrides));
  EP_ASSIGN_OR_RETURN(quant_encoding encoding, parse_weight_scheme(args.scheme));
  if (std::filesystem::exists(args.output) && std::filesystem::equivalent(args.input, args.output))
    return bad_usage("the output " + args.output + " is the input model; choose another path");
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  auto hashes = start_source_hashing(m.sources);  // overlaps hashing with quantization
  quantize_rtn_options options;
  options.encoding = encoding;
  options.selection = {args.include, args.exclude, args.min_elements};
  options.rows.scale_search_steps = args.scale_search;
  options.threads = globals().threads;
  auto selected = select_weights(m.g, options.selection);
  if (!selected.ok()) return selected.status();
  if (selected->empty()) {
    if (m.g.nodes.empty())
      return bad_usage(args.input + ": a bare tensor file has no graph to find linear layers in; choose tensors with --include REGEX");
    return bad_usage(args.input + ": no tensor selected for quantization: no dense float weight of at least " + std::to_string(args.min_elements) +
                     " elements is read only as the weight of MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU or RNN nodes "
                     "(check --include/--exclude/--min-elements)");
  }
  std::map<std::string, quant_encoding> encodings;  // the scheme in each weight's matrix view
  for (const auto& s : *selected) encodings[s.name] = encoding_for(scheme_for(s.name, encoding, overrides), s.view);
  std::optional<gptq_cli_result> gptq;  // GPTQ quantizes everything before the file is written
  if (args.method == "gptq") {
    EP_ASSIGN_OR_RETURN(gptq, run_gptq(m, encodings, args.gptq, args.scale_search));
  }
  // The output model holds only layouts for the selected weights; their bytes are produced one
  // tensor at a time while the file is written, so memory stays near one tensor's worth.
  model out = m;
  std::set<std::string> chosen;
  for (const auto& [name, weight_encoding] : encodings) {
    tensor layout;
    layout.type = dtype::f32;
    layout.shape = m.g.weights.at(name).shape;
    layout.kind = encoding_kind::quantized;
    layout.quant = weight_encoding;
    out.g.weights[name] = layout;
    chosen.insert(name);
  }
  nlohmann::json tensor_stats = nlohmann::json::array();
  progress_bar bar("quantizing " + std::to_string(chosen.size()) + " tensors to " + quant_encoding_name(encoding), static_cast<int64_t>(chosen.size()));
  int64_t done = 0;
  auto produce = [&](const std::string& name, const tensor&) -> Expected<tensor> {
    const tensor& original = m.g.weights.at(name);
    if (!chosen.count(name)) return original;
    if (gptq) {
      bar.update(++done);
      return gptq->quantized.at(name);
    }
    quantized_tensor_stats stats;
    quantize_rtn_options weight_options = options;
    weight_options.encoding = encodings.at(name);
    auto quantized = quantize_tensor_rtn(original, weight_options, &stats);
    release_file_pages(original.data.owner, original.data.data, original.data.size);  // done with the input bytes
    if (!quantized.ok()) return quantized.status();
    tensor_stats.push_back(quantized_tensor_stats_json(name, stats));
    bar.update(++done);
    return quantized;
  };
  nlohmann::json recorded_options = {{"method", args.method}, {"scheme", quant_encoding_name(encoding)}, {"include", args.include},
                                     {"exclude", args.exclude}, {"scale_search", args.scale_search}};
  // Recorded only when changed, so files written with the defaults keep their bytes.
  if (args.min_elements != default_min_quantized_elements) recorded_options["min_elements"] = args.min_elements;
  std::string pass_name = "quantize_rtn";
  if (gptq) {
    pass_name = "quantize_gptq";
    tensor_stats = gptq->tensors;
    recorded_options["calibration"] = gptq->calibration;
    recorded_options["gptq"] = gptq->summary;
    if (!args.gptq.overrides.empty()) recorded_options["overrides"] = args.gptq.overrides;
  } else if (!args.gptq.overrides.empty()) {
    recorded_options["overrides"] = args.gptq.overrides;
  }
  epk_write_options write_options;
  write_options.extra_metadata = {{"pass", {{"pass", pass_name}, {"scheme", quant_encoding_name(encoding)}, {"tensors", gptq ? tensor_stats : nlohmann::json::array()}}},
                                  {"options", recorded_options}};
  write_options.final_extra_metadata = [&] {
    return nlohmann::json{{"pass", {{"pass", pass_name}, {"scheme", quant_encoding_name(encoding)}, {"tensors", tensor_stats}}}, {"options", recorded_options}};
  };
  // Room for one stats entry per quantized tensor: its name plus ~100 bytes of numbers and keys.
  for (const auto& name : chosen) write_options.metadata_reserve_bytes += name.size() + 112;
  write_options.final_sources = [&hashes] { return finish_source_hashing(std::move(hashes)); };
  info("writing " + args.output);
  EP_RETURN_IF_ERROR(write_epk_streaming(args.output, out, write_options, produce));
  bar.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t before = 0, after = 0;
  for (const auto& t : tensor_stats) {
    before += t["bytes_before"].get<uint64_t>();
    after += t["bytes_after"].get<uint64_t>();
  }
  const auto file_bytes = std::filesystem::file_size(args.output);
  if (args.json) {
    print_json({{"output", args.output}, {"scheme", quant_encoding_name(encoding)}, {"file_bytes", file_bytes}, {"quantized_bytes_before", before},
                {"quantized_bytes_after", after}, {"seconds", seconds}, {"tensors", tensor_stats}});
  } else {
    std::printf("%s: %zu tensors quantized to %s, %llu -> %llu bytes; file %llu bytes (%.2fs)\n", args.output.c_str(), tensor_stats.size(),
                quant_encoding_name(encoding).c_str(), static_cast<unsigned long long>(before), static_cast<unsigned long long>(after),
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
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(quantize(*args)); });
}

}  // namespace edgepack::cli

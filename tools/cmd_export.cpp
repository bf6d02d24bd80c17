// edgepack export MODEL -o OUT.onnx [--opset N] [--json]: a standard ONNX model (docs/export.md).
// Quantized weights become integer codes + DequantizeLinear (opset 21); a float model keeps its
// opset, so `edgepack export model.onnx -o out.onnx` is the float round trip.
#include <cstdio>
#include <filesystem>

#include "formats/onnx_writer.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

namespace {

struct export_args {
  std::string input;
  std::string output;
  int64_t opset = 0;
  bool json = false;
  load_options load;
};

Status export_model(const export_args& args) {
  namespace fs = std::filesystem;
  const fs::path out(args.output);
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return io_failure(args.output + ": the output directory '" + dir.string() + "' does not exist");
  if (fs::is_directory(out, ec)) return io_failure(args.output + ": is a directory");
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  if (m.g.nodes.empty()) return bad_input(args.input + ": holds no graph (a bare tensor file cannot become an ONNX model)");
  onnx_write_options options;
  options.min_opset = args.opset;
  onnx_write_stats stats;
  EP_RETURN_IF_ERROR(write_onnx(args.output, m, options, &stats).with_context(args.input));
  if (args.json) {
    print_json({{"input", args.input}, {"output", args.output}, {"bytes", stats.bytes}, {"opset_in", stats.opset_in}, {"opset_out", stats.opset_out},
                {"quantized_weights", stats.quantized_weights}, {"dense_weights", stats.dense_weights}});
  } else {
    std::printf("%s: ONNX opset %lld (from %lld), %lld quantized + %lld float weights, %llu bytes\n", args.output.c_str(),
                static_cast<long long>(stats.opset_out), static_cast<long long>(stats.opset_in), static_cast<long long>(stats.quantized_weights),
                static_cast<long long>(stats.dense_weights), static_cast<unsigned long long>(stats.bytes));
  }
  return Status::ok_status();
}

}  // namespace

void register_export(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<export_args>();
  CLI::App* cmd = app.add_subcommand("export", "Write a model (.epk, ONNX, ...) as a standard ONNX file; quantized weights become DequantizeLinear");
  cmd->add_option("model", args->input, "Model: .epk, ONNX, llama2.c .bin or Hugging Face directory")->required();
  cmd->add_option("-o,--output", args->output, "Output .onnx path (written atomically)")->required();
  cmd->add_option("--opset", args->opset, "Lowest ai.onnx opset to write (0 = the model's; 21 at least when weights are quantized)")
      ->capture_default_str()
      ->check(CLI::Range(0, 23));
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(export_model(*args)); });
}

}  // namespace edgepack::cli

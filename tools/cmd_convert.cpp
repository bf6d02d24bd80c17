// edgepack convert MODEL -o OUT.epk [--json]: the model as it is (float weights keep their dtype,
// encoded ones their encoding) in the .epk format. The float starting point of a pipeline, and
// the first leg of the ONNX -> .epk -> ONNX round trip (docs/export.md).
#include <cstdio>
#include <filesystem>

#include "formats/epk.h"
#include "tools/cli_common.h"
#include "tools/provenance.h"

namespace edgepack::cli {

namespace {

struct convert_args {
  std::string input;
  std::string output;
  bool json = false;
  load_options load;
};

Status convert_model(const convert_args& args) {
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  if (m.g.nodes.empty()) return bad_input(args.input + ": holds no graph (a bare tensor file cannot become an .epk model)");
  auto hashes = start_source_hashing(m.sources);
  epk_write_options options;
  options.extra_metadata = {{"pass", {{"pass", "convert"}}}};
  options.final_sources = [&hashes] { return finish_source_hashing(std::move(hashes)); };
  info("writing " + args.output);
  // Streaming with the model's own tensors: mmapped inputs are copied one tensor at a time.
  EP_RETURN_IF_ERROR(write_epk_streaming(args.output, m, options, [&m](const std::string& name, const tensor&) -> Expected<tensor> {
    return m.g.weights.at(name);
  }));
  const auto bytes = std::filesystem::file_size(args.output);
  if (args.json) {
    print_json({{"input", args.input}, {"output", args.output}, {"format_in", m.format}, {"weights", m.g.weights.size()}, {"nodes", m.g.nodes.size()},
                {"bytes", bytes}});
  } else {
    std::printf("%s: %zu nodes, %zu weights from %s, %llu bytes\n", args.output.c_str(), m.g.nodes.size(), m.g.weights.size(), m.format.c_str(),
                static_cast<unsigned long long>(bytes));
  }
  return Status::ok_status();
}

}  // namespace

void register_convert(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<convert_args>();
  CLI::App* cmd = app.add_subcommand("convert", "Write a model (ONNX, llama2.c .bin, Hugging Face directory, .epk) unchanged as an .epk file");
  cmd->add_option("model", args->input, "Model: ONNX, llama2.c .bin, Hugging Face directory or .epk")->required();
  cmd->add_option("-o,--output", args->output, "Output .epk path (written atomically)")->required();
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(convert_model(*args)); });
}

}  // namespace edgepack::cli

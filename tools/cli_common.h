// Shared pieces of the CLI commands: error reporting (the only place errors become exit codes),
// model loading options, JSON output.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "core/model.h"
#include "core/status.h"
#include "formats/model_loader.h"

namespace edgepack::cli {

// Prints "edgepack: error: ..." on stderr and returns the documented exit code (docs/errors.md).
int report(const Status& status);

struct global_options {
  bool quiet = false;
  int threads = 0;
};
global_options& globals();

// "--tokenizer PATH" shared by commands that load models.
void add_tokenizer_option(CLI::App& command, load_options& options);
Expected<model> load(const std::string& path, const load_options& options);

void print_json(const nlohmann::json& value);
// Human progress/info on stderr unless --quiet.
void info(const std::string& line);

// Each subcommand: registers options and returns the callback's exit code through `exit_code`.
void register_inspect(CLI::App& app, int& exit_code);
void register_quantize(CLI::App& app, int& exit_code);
void register_run(CLI::App& app, int& exit_code);
void register_eval(CLI::App& app, int& exit_code);
void register_verify(CLI::App& app, int& exit_code);
void register_export(CLI::App& app, int& exit_code);
void register_pack(CLI::App& app, int& exit_code);
void register_prune(CLI::App& app, int& exit_code);
void register_convert(CLI::App& app, int& exit_code);
void register_report(CLI::App& app, int& exit_code);
void register_compress(CLI::App& app, int& exit_code);
void register_distill_targets(CLI::App& app, int& exit_code);

}  // namespace edgepack::cli

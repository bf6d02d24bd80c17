#include "tools/cli_common.h"

#include <iostream>

namespace edgepack::cli {

int report(const Status& status) {
  if (status.ok()) return 0;
  std::cerr << "edgepack: error: " << status.message() << "\n";
  return static_cast<int>(status.code());
}

global_options& globals() {
  static global_options options;
  return options;
}

void add_tokenizer_option(CLI::App& command, load_options& options) {
  command.add_option("--tokenizer", options.tokenizer_path,
                     "llama2.c tokenizer file (default: tokenizer.bin or tok<vocab>.bin beside the model)");
}

Expected<model> load(const std::string& path, const load_options& options) {
  info("loading " + path);
  return load_model(path, options);
}

void print_json(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

void info(const std::string& line) {
  if (!globals().quiet) std::cerr << line << "\n";
}

}  // namespace edgepack::cli

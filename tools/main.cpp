// edgepack: compress models for edge devices and prove the result. One cmd_<name>.cpp per command.
#include <iostream>

#include "tools/cli_common.h"

int main(int argc, char** argv) {
  using namespace edgepack;
  CLI::App app{"edgepack " EDGEPACK_VERSION " - compress neural networks for edge devices and verify the result"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("edgepack ") + EDGEPACK_VERSION);
  app.add_flag("-q,--quiet", cli::globals().quiet, "Print nothing but results and errors");
  app.add_option("--threads", cli::globals().threads, "Worker threads (0 = all cores; results do not depend on it)")->check(CLI::NonNegativeNumber);
  app.footer("Exit codes: 0 ok, 1 verification threshold not met, 2 bad command line, 3 bad/unsupported input file, 4 I/O failure, 5 internal error.\n"
             "Docs: docs/cli.md, docs/errors.md, docs/format.md");
  int exit_code = 0;
  cli::register_inspect(app, exit_code);
  cli::register_quantize(app, exit_code);
  cli::register_run(app, exit_code);
  cli::register_eval(app, exit_code);
  cli::register_verify(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors are exit 2 (docs/errors.md)
  } catch (const std::exception& e) {
    std::cerr << "edgepack: internal error: " << e.what() << "\n";
    return 5;
  }
  return exit_code;
}

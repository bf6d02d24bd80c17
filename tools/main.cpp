// edgepack: compress models for edge devices and prove the result. One cmd_<name>.cpp per command.
#include <iostream>

#include "tools/cli_common.h"

// CLI11 reports a mistyped command only as "A subcommand is required"; name the word instead.
static std::string usage_problem(CLI::App& app, const CLI::ParseError& e) {
  if (app.get_subcommands().empty()) {
    const std::vector<std::string> extras = app.remaining();
    if (!extras.empty() && !extras.front().starts_with("-")) {
      std::string known;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) known += (known.empty() ? "" : ", ") + sub->get_name();
      return "unknown command '" + extras.front() + "' (commands: " + known + ")";
    }
  }
  return e.what();
}

int main(int argc, char** argv) {
  using namespace edgepack;
  CLI::App app{"edgepack " EDGEPACK_VERSION " - compress neural networks for edge devices and verify the result"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--quiet, --threads) may also follow the subcommand
  app.set_version_flag("--version", std::string("edgepack ") + EDGEPACK_VERSION);
  app.add_flag("-q,--quiet", cli::globals().quiet, "Print nothing but results and errors");
  app.add_option("--threads", cli::globals().threads, "Worker threads (0 = all cores; results do not depend on it)")->check(CLI::Range(0, 4096));
  app.footer("Exit codes: 0 ok, 1 verification threshold not met, 2 bad command line, 3 bad/unsupported input file, 4 I/O failure, 5 internal error.\n"
             "Docs: docs/cli.md, docs/errors.md, docs/format.md");
  int exit_code = 0;
  cli::register_inspect(app, exit_code);
  cli::register_quantize(app, exit_code);
  cli::register_prune(app, exit_code);
  cli::register_run(app, exit_code);
  cli::register_eval(app, exit_code);
  cli::register_verify(app, exit_code);
  cli::register_export(app, exit_code);
  cli::register_pack(app, exit_code);
  cli::register_convert(app, exit_code);
  cli::register_report(app, exit_code);
  cli::register_compress(app, exit_code);
  cli::register_distill_targets(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // Usage errors are exit 2 and use the same "edgepack: error:" form as every other error.
    std::cerr << "edgepack: error: " << usage_problem(app, e) << "\nRun 'edgepack --help' or 'edgepack <command> --help' for usage.\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "edgepack: internal error: " << e.what() << "\n";
    return 5;
  }
  return exit_code;
}

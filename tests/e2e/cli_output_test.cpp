// Output discipline of every command (issue: "every long command shows progress; --quiet and --json
// keep stdout clean"): with --json, stdout is exactly one JSON document whatever else happens; with
// -q, stderr stays empty on success; long commands report progress on stderr when not quiet. The
// table must name every command `edgepack --help` lists, so a new command cannot skip the rules.
#include <cstdlib>
#include <regex>
#include <set>

#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

using nlohmann::json;

struct command_case {
  std::string command;            // the subcommand the case exercises
  std::vector<std::string> args;  // after the subcommand; "{dir}" becomes the case's temp dir
  bool long_running = false;      // must print progress on stderr without -q
};

// Files several cases read: a quantized LLM, a pruned (unpacked) LLM, a quantized mnist-8.
class CommandOutputRules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new temp_dir;
    const auto must = [](const std::vector<std::string>& args) {
      const auto r = run_cli(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    must({"-q", "quantize", bundled_model(), "--scheme", "w4g32", "-o", path("q.epk")});
    must({"-q", "prune", bundled_model(), "--pattern", "2:4", "--no-pack", "-o", path("p.epk")});
    must({"-q", "quantize", mnist(), "--scheme", "w8", "-o", path("mnist.epk")});
    must({"-q", "distill-targets", bundled_model(), "--data", bundled_text(), "--samples", "2", "--seq", "32", "--top-k", "8", "-o", path("targets")});
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static std::string path(const std::string& name) { return (*files_ / name).string(); }
  static std::string mnist() { return (datasets_dir() / "mnist-8" / "mnist-8.onnx").string(); }

  static std::vector<command_case> cases() {
    const std::string model = bundled_model(), text = bundled_text();
    const std::string calib_range = "0:200000", eval_range = "-60000:";
    return {
        {"inspect", {path("q.epk"), "--json"}},
        {"quantize", {model, "--scheme", "w4g32", "-o", "{dir}/out.epk", "--json"}},
        {"quantize", {model, "--method", "gptq", "--calib", text, "--calib-samples", "4", "--calib-seq", "64", "--scheme", "w4g32", "-o", "{dir}/out.epk", "--json"}, true},
        {"prune", {model, "--method", "sparsegpt", "--pattern", "2:4", "--calib", text, "--calib-samples", "4", "--calib-seq", "64", "-o", "{dir}/out.epk", "--json"}, true},
        {"pack", {path("p.epk"), "-o", "{dir}/out.epk", "--json"}},
        {"run", {model, "--prompt", "Once upon", "-n", "8", "--json"}},
        {"run", {mnist(), "--input", "Input3=" + (datasets_dir() / "mnist-8" / "golden" / "digit_3" / "input_0.npy").string(), "-o", "{dir}", "--json"}},
        {"eval", {path("q.epk"), "--data", text, "--max-windows", "3", "--json"}, true},
        {"eval", {path("q.epk"), "--distill-targets", path("targets"), "--json"}, true},
        {"verify", {path("q.epk"), "--against", model, "--data", text, "--max-windows", "3", "--max-kld", "10", "--json"}, true},
        {"export", {path("mnist.epk"), "-o", "{dir}/out.onnx", "--json"}},
        {"convert", {mnist(), "-o", "{dir}/out.epk", "--json"}},
        {"distill-targets", {model, "--data", text, "--samples", "2", "--seq", "32", "-o", "{dir}/t", "--json"}, true},
        {"compress", {model, "--recipe", (source_dir() / "recipes" / "stories260k-w4-gptq.json").string(), "-o", "{dir}/out.epk", "--json"}, true},
        {"report", {path("q.epk"), "--json"}},
    };
  }

  static std::vector<std::string> with_dir(const std::vector<std::string>& args, const temp_dir& dir) {
    std::vector<std::string> out;
    for (std::string a : args) {
      const auto at = a.find("{dir}");
      if (at != std::string::npos) a.replace(at, 5, dir.path().string());
      out.push_back(a);
    }
    return out;
  }

  static temp_dir* files_;
};
temp_dir* CommandOutputRules::files_ = nullptr;

std::string describe(const command_case& c) {
  std::string s = c.command;
  for (const auto& a : c.args) s += " " + a;
  return s;
}

TEST_F(CommandOutputRules, EveryCommandHasACase) {
  const auto help = run_cli({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  // CLI11 lists subcommands as "  name   description" lines after "Subcommands:".
  const auto list = help.out.substr(help.out.find("Subcommands:"));
  const std::regex line(R"(\n  ([a-z][a-z-]*) )");
  std::set<std::string> listed, covered;
  for (std::sregex_iterator it(list.begin(), list.end(), line), end; it != end; ++it) listed.insert((*it)[1]);
  for (const auto& c : cases()) covered.insert(c.command);
  EXPECT_GE(listed.size(), 12u) << help.out;
  for (const auto& name : listed) EXPECT_TRUE(covered.count(name)) << "no output-discipline case for command '" << name << "'";
}

TEST_F(CommandOutputRules, JsonKeepsStdoutOneDocumentAndQuietKeepsStderrEmpty) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(describe(c));
    temp_dir dir;
    std::vector<std::string> args = {"-q", c.command};
    for (const auto& a : with_dir(c.args, dir)) args.push_back(a);
    const auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "-q must leave stderr empty on success";
    EXPECT_TRUE(json::accept(r.out)) << "stdout is not one JSON document:\n" << r.out.substr(0, 2000);
  }
}

TEST_F(CommandOutputRules, LongCommandsShowProgressOnStderrOnly) {
  // Plain progress lines also for work this short (tools/progress.h); the child inherits it.
  ::setenv("EDGEPACK_PROGRESS", "plain", 1);
  for (const auto& c : cases()) {
    if (!c.long_running) continue;
    SCOPED_TRACE(describe(c));
    temp_dir dir;
    std::vector<std::string> args = {c.command};
    for (const auto& a : with_dir(c.args, dir)) args.push_back(a);
    const auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Not a terminal: the progress bar writes plain lines with a percentage (tools/progress.h).
    EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(\b100 ?%)"))) << "no progress on stderr:\n" << r.err;
    EXPECT_TRUE(json::accept(r.out)) << "progress leaked into stdout:\n" << r.out.substr(0, 2000);
  }
  ::unsetenv("EDGEPACK_PROGRESS");
}

}  // namespace
}  // namespace edgepack::testing

// compress end to end: the same bytes as the single commands run in sequence, the same bytes at any
// --threads, and the commands of docs/ci.md (read from the doc itself, so doc and test cannot
// drift) on the bundled stories260K: exit 0 with the report's gate fields, exit 1 on an impossible
// threshold with the report still written.
#include <fstream>
#include <regex>
#include <sstream>

#include "formats/epk.h"
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

std::string blob(const byte_view& v) { return std::string(reinterpret_cast<const char*>(v.data), v.size); }

// Every weight of a and b has the same encoding and bytes (metadata "extra" may differ).
void expect_same_weights(const std::string& a, const std::string& b) {
  auto ma = read_epk(a), mb = read_epk(b);
  ASSERT_TRUE(ma.ok() && mb.ok());
  ASSERT_EQ(ma->g.weights.size(), mb->g.weights.size());
  for (const auto& [name, ta] : ma->g.weights) {
    const tensor* tb = mb->g.find_weight(name);
    ASSERT_NE(tb, nullptr) << name;
    EXPECT_EQ(ta.shape, tb->shape) << name;
    EXPECT_EQ(ta.kind, tb->kind) << name;
    EXPECT_EQ(quant_encoding_name(ta.quant), quant_encoding_name(tb->quant)) << name;
    EXPECT_EQ(sparse_encoding_name(ta.sparsity), sparse_encoding_name(tb->sparsity)) << name;
    for (auto part : {&tensor::data, &tensor::scales, &tensor::zeros, &tensor::indices, &tensor::mask}) EXPECT_EQ(blob(ta.*part), blob(tb->*part)) << name;
  }
}

// A small, cheap SparseGPT 2:4 + w4g32 recipe (8 windows of 64 tokens) with absolute paths.
nlohmann::json cheap_2of4() {
  return {{"edgepack_recipe", 1},
          {"calibration", {{"data", bundled_text()}, {"range", ":200000"}, {"samples", 8}, {"seq", 64}, {"seed", 3}}},
          {"steps", {{{"pass", "prune"}, {"method", "sparsegpt"}, {"scheme", "s2:4+w4g32"}}, {{"pass", "pack"}}}}};
}

TEST(Compress, SameWeightsAsTheSingleCommandsInSequence) {
  temp_dir dir;
  write_file(dir / "r.json", cheap_2of4().dump());
  auto run = run_cli({"-q", "compress", bundled_model(), "--recipe", (dir / "r.json").string(), "-o", (dir / "c.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = run_cli({"-q", "prune", bundled_model(), "-o", (dir / "p.epk").string(), "--method", "sparsegpt", "--scheme", "s2:4+w4g32", "--no-pack", "--calib",
                 bundled_text(), "--calib-range", ":200000", "--calib-samples", "8", "--calib-seq", "64", "--calib-seed", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = run_cli({"-q", "pack", (dir / "p.epk").string(), "-o", (dir / "pp.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_same_weights((dir / "c.epk").string(), (dir / "pp.epk").string());

  const std::string mnist = (datasets_dir() / "mnist-8" / "mnist-8.onnx").string();
  run = run_cli({"-q", "compress", mnist, "--recipe", (source_dir() / "recipes" / "mnist-w8.json").string(), "-o", (dir / "m.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = run_cli({"-q", "quantize", mnist, "--scheme", "w8", "--min-elements", "0", "-o", (dir / "q.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_same_weights((dir / "m.epk").string(), (dir / "q.epk").string());
}

TEST(Compress, GptqRefinementKeysAreTheQuantizeFlags) {
  temp_dir dir;
  const nlohmann::json recipe = {
      {"edgepack_recipe", 1},
      {"calibration", {{"data", bundled_text()}, {"range", ":200000"}, {"samples", 8}, {"seq", 64}, {"seed", 5}}},
      {"steps", {{{"pass", "quantize"}, {"method", "gptq"}, {"scheme", "w4g32"}, {"float_targets", true}, {"refine", 1}}}}};
  write_file(dir / "r.json", recipe.dump());
  auto run = run_cli({"-q", "compress", bundled_model(), "--recipe", (dir / "r.json").string(), "-o", (dir / "c.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = run_cli({"-q", "quantize", bundled_model(), "--method", "gptq", "--scheme", "w4g32", "--float-targets", "--refine", "1", "--calib",
                 bundled_text(), "--calib-range", ":200000", "--calib-samples", "8", "--calib-seq", "64", "--calib-seed", "5", "-o",
                 (dir / "q.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_same_weights((dir / "c.epk").string(), (dir / "q.epk").string());
  // And they do change the result: plain GPTQ on the same windows gives other codes.
  run = run_cli({"-q", "quantize", bundled_model(), "--method", "gptq", "--scheme", "w4g32", "--calib", bundled_text(), "--calib-range", ":200000",
                 "--calib-samples", "8", "--calib-seq", "64", "--calib-seed", "5", "-o", (dir / "plain.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(read_file(dir / "plain.epk"), read_file(dir / "q.epk"));
}

TEST(Compress, TuneKeysAreTheQuantizeFlags) {
  temp_dir dir;
  const nlohmann::json recipe = {
      {"edgepack_recipe", 1},
      {"calibration", {{"data", bundled_text()}, {"range", ":200000"}, {"samples", 8}, {"seq", 64}, {"seed", 5}}},
      {"steps",
       {{{"pass", "quantize"}, {"method", "gptq"}, {"scheme", "w4g32"}, {"tune_epochs", 2}, {"tune_lr", 0.004}, {"tune_code_lr", 5}, {"tune_batch", 3},
         {"tune_norms", false}}}}};
  write_file(dir / "r.json", recipe.dump());
  auto run = run_cli({"-q", "compress", bundled_model(), "--recipe", (dir / "r.json").string(), "-o", (dir / "c.epk").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> common = {"-q", "quantize", bundled_model(), "--method", "gptq", "--scheme", "w4g32", "--calib", bundled_text(),
                                           "--calib-range", ":200000", "--calib-samples", "8", "--calib-seq", "64", "--calib-seed", "5"};
  std::vector<std::string> tuned = common;
  for (const char* a : {"--tune-epochs", "2", "--tune-lr", "0.004", "--tune-code-lr", "5", "--tune-batch", "3", "--tune-no-norms", "-o"}) tuned.push_back(a);
  tuned.push_back((dir / "q.epk").string());
  run = run_cli(tuned);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_same_weights((dir / "c.epk").string(), (dir / "q.epk").string());
  std::vector<std::string> plain = common;
  plain.push_back("-o");
  plain.push_back((dir / "plain.epk").string());
  run = run_cli(plain);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(read_file(dir / "plain.epk"), read_file(dir / "q.epk"));
}

TEST(Compress, ByteIdenticalAtAnyThreadCount) {
  temp_dir dir;
  write_file(dir / "r.json", cheap_2of4().dump());
  for (const char* threads : {"1", "2"}) {
    auto run = run_cli({"-q", "--threads", threads, "compress", bundled_model(), "--recipe", (dir / "r.json").string(), "-o",
                        (dir / (std::string("t") + threads + ".epk")).string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  EXPECT_EQ(read_file(dir / "t1.epk"), read_file(dir / "t2.epk"));
}

// The lines between the ci-commands markers of docs/ci.md that start with "edgepack ".
std::vector<std::vector<std::string>> ci_commands() {
  std::ifstream in(source_dir() / "docs" / "ci.md");
  std::string line;
  bool inside = false;
  std::vector<std::vector<std::string>> commands;
  while (std::getline(in, line)) {
    if (line.find("<!-- ci-commands:begin -->") != std::string::npos) inside = true;
    if (line.find("<!-- ci-commands:end -->") != std::string::npos) inside = false;
    const auto start = line.find_first_not_of(' ');
    if (!inside || start == std::string::npos || line.compare(start, 9, "edgepack ") != 0) continue;
    std::istringstream words(line.substr(start + 9));
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    commands.push_back(args);
  }
  return commands;
}

// Repository paths become absolute; out/ paths go to `out`.
std::vector<std::string> localized(std::vector<std::string> args, const std::filesystem::path& out, const std::string& recipe_override) {
  for (auto& a : args) {
    if (a.starts_with("out/")) a = (out / a.substr(4)).string();
    else if (a.starts_with("recipes/") && !recipe_override.empty()) a = recipe_override;
    else if (a.starts_with("recipes/") || a.starts_with("datasets/")) a = (source_dir() / a).string();
  }
  return args;
}

TEST(Compress, DocsCiCommandsGateStories260K) {
  const auto commands = ci_commands();
  ASSERT_EQ(commands.size(), 2u) << "docs/ci.md must hold the compress and verify commands between the ci-commands markers";
  ASSERT_EQ(commands[0][0], "compress");
  ASSERT_EQ(commands[1][0], "verify");
  temp_dir dir;
  auto run = run_cli(localized(commands[0], dir.path(), ""));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto summary = nlohmann::json::parse(run.out);
  EXPECT_TRUE(summary["passed"].get<bool>());
  const auto report = nlohmann::json::parse(read_file(dir / "report.json"));
  EXPECT_EQ(report["edgepack_report"], 1);
  EXPECT_TRUE(report["quality"]["passed"].get<bool>());
  EXPECT_LT(report["quality"]["metrics"]["kld"].get<double>(), report["quality"]["thresholds"]["max_kld"].get<double>());
  EXPECT_LT(report["totals"]["bits_per_weight_after"].get<double>(), report["totals"]["bits_per_weight_before"].get<double>());
  EXPECT_EQ(report["recipe_sha256"], summary["recipe_sha256"]);
  ASSERT_FALSE(report["passes"].empty());
  EXPECT_GT(report["passes"][0]["peak_rss_bytes"].get<int64_t>(), 0);
  run = run_cli(localized(commands[1], dir.path(), ""));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(nlohmann::json::parse(run.out)["passed"].get<bool>());

  // The same recipe with an impossible threshold: exit 1, and the .epk and report are still written.
  std::string recipe_path = commands[0][std::find(commands[0].begin(), commands[0].end(), "--recipe") - commands[0].begin() + 1];
  auto recipe = nlohmann::json::parse(read_file(source_dir() / recipe_path));
  const auto recipe_dir = (source_dir() / recipe_path).parent_path();
  recipe["calibration"]["data"] = (recipe_dir / recipe["calibration"]["data"].get<std::string>()).string();
  recipe["calibration"]["samples"] = 8;  // cheaper: only the gate's outcome matters here
  for (auto& step : recipe["steps"])
    if (step["pass"] == "verify") {
      step["data"] = (recipe_dir / step["data"].get<std::string>()).string();
      step["max_windows"] = 4;
      step["max_kld"] = 0.0;
    }
  write_file(dir / "strict.json", recipe.dump());
  std::filesystem::remove(dir / "report.json");
  run = run_cli(localized(commands[0], dir.path(), (dir / "strict.json").string()));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const auto failed = nlohmann::json::parse(read_file(dir / "report.json"));
  EXPECT_FALSE(failed["quality"]["passed"].get<bool>());
  EXPECT_FALSE(nlohmann::json::parse(run.out)["passed"].get<bool>());
  run = run_cli(localized(commands[1], dir.path(), (dir / "strict.json").string()));
  EXPECT_EQ(run.exit_code, 1) << run.err;
}

}  // namespace
}  // namespace edgepack::testing

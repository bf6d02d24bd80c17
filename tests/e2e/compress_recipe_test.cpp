// compress --recipe: every kind of recipe problem is exit 2 naming the file and the JSON path and
// writes nothing; --print-recipe round-trips; the .epk records the resolved recipe and its hash.
#include "core/sha256.h"
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

std::string mnist() { return (datasets_dir() / "mnist-8" / "mnist-8.onnx").string(); }

struct bad_recipe {
  std::string model;
  nlohmann::json recipe;
  std::string path_and_phrase;  // "steps[1].scheme: ..." as it must appear after "<file>: "
};

nlohmann::json steps(std::initializer_list<nlohmann::json> list) { return {{"edgepack_recipe", 1}, {"steps", list}}; }
nlohmann::json with_calibration(nlohmann::json r) {
  r["calibration"] = {{"data", bundled_text()}, {"samples", 4}, {"seq", 32}};
  return r;
}

TEST(CompressRecipe, EveryProblemIsExit2NamingTheKeyAndWritesNothing) {
  const std::string llm = bundled_model();
  const nlohmann::json verify_llm = {{"pass", "verify"}, {"data", bundled_text()}, {"max_kld", 1.0}};
  const std::vector<bad_recipe> cases = {
      {llm, {{"steps", {{{"pass", "quantize"}}}}}, "edgepack_recipe: missing"},
      {llm, {{"edgepack_recipe", 2}, {"steps", {{{"pass", "quantize"}}}}}, "edgepack_recipe: version 2 is not supported"},
      {llm, {{"edgepack_recipe", 1}, {"stepz", 1}}, "stepz: unknown key"},
      {llm, steps({}), "steps: must be a non-empty list"},
      {llm, steps({{{"pass", "distill"}}}), "steps[0].pass: 'distill' is not a pass"},
      {llm, steps({{{"pass", "quantize"}, {"sheme", "w4g32"}}}), "steps[0].sheme: unknown key"},
      {llm, steps({{{"pass", "quantize"}, {"scheme", 4}}}), "steps[0].scheme: must be a string"},
      {llm, steps({{{"pass", "quantize"}, {"scheme", "w9g32"}}}), "steps[0].scheme: "},
      {llm, steps({{{"pass", "quantize"}, {"scale_search", 100}}}), "steps[0].scale_search: 100 is out of range"},
      {llm, steps({{{"pass", "quantize"}, {"overrides", {"wq=w8", 3}}}}), "steps[0].overrides[1]: must be a string"},
      {llm, steps({{{"pass", "prune"}, {"sparsity", 1.0}}}), "steps[0].sparsity: 1.0 is out of range"},
      {llm, steps({{{"pass", "prune"}, {"sparsity", 0.5}, {"pattern", "2:4"}}}), "steps[0]: say how much to prune with exactly one"},
      {llm, steps({{{"pass", "prune"}, {"scheme", "s2:4+w4g32"}}}), "steps[0].scheme: 's2:4+w4g32' prunes and quantizes in one pass, which needs method sparsegpt"},
      {llm, steps({{{"pass", "quantize"}}, {{"pass", "prune"}, {"pattern", "2:4"}}}), "steps[1].pass: 'prune' cannot come after 'quantize'"},
      {llm, steps({{{"pass", "quantize"}}, {{"pass", "quantize"}}}), "steps[1].pass: a second 'quantize' step"},
      {llm, with_calibration(steps({{{"pass", "prune"}, {"method", "sparsegpt"}, {"scheme", "s2:4+w4g32"}}, {{"pass", "quantize"}}})),
       "steps[1].pass: steps[0].scheme 's2:4+w4g32' already quantizes"},
      {llm, with_calibration(steps({{{"pass", "prune"}, {"pattern", "2:4"}}, {{"pass", "quantize"}, {"method", "gptq"}}})),
       "steps[1].method: gptq after prune would fill the pruned weights in again"},
      {llm, steps({{{"pass", "quantize"}, {"method", "gptq"}}}), "steps[0].method: 'gptq' needs calibration data"},
      {llm, steps({{{"pass", "quantize"}, {"refine", 2}}}), "steps[0].refine: is a GPTQ option"},
      {llm, steps({{{"pass", "quantize"}, {"float_targets", true}}}), "steps[0].float_targets: is a GPTQ option"},
      {llm, steps({{{"pass", "quantize"}, {"refine", -2}}}), "steps[0].refine: -2 is out of range"},
      {llm, with_calibration(steps({{{"pass", "quantize"}}})), "calibration: no step uses calibration data"},
      {llm, steps({{{"pass", "quantize"}}, {{"pass", "verify"}, {"data", bundled_text()}}}), "steps[1]: needs at least one threshold"},
      {llm, steps({{{"pass", "quantize"}}, {{"pass", "verify"}, {"inputs", "x"}, {"max_kld", 0.1}}}), "steps[1].max_kld: applies to language models"},
      {llm, steps({{{"pass", "quantize"}}, {{"pass", "verify"}, {"inputs", "x"}, {"min_cosine", 0.9}}}), "steps[1].inputs: the model is a language model"},
      {mnist(), steps({{{"pass", "quantize"}}, verify_llm}), "steps[1].data: the model is a graph (ONNX) model"},
      {llm, steps({{{"pass", "quantize"}}, verify_llm, {{"pass", "pack"}}}), "steps[2].pass: 'pack' cannot come after 'verify'"},
  };
  for (const auto& c : cases) {
    temp_dir dir;
    const auto recipe = dir / "recipe.json";
    write_file(recipe, c.recipe.dump());
    expect_error_keeps_output({"compress", c.model, "--recipe", recipe.string(), "--report", (dir / "report.json").string()},
                              {2, recipe.string(), recipe.string() + ": " + c.path_and_phrase});
    EXPECT_FALSE(std::filesystem::exists(dir / "report.json")) << c.path_and_phrase;
  }
}

TEST(CompressRecipe, MalformedJsonAndDuplicateKeysAreExit2) {
  temp_dir dir;
  const auto recipe = dir / "recipe.json";
  write_file(recipe, R"({"edgepack_recipe": 1, "steps": [{"pass": "quantize", "scheme": "w8", "scheme": "w4g32"}]})");
  expect_error_keeps_output({"compress", bundled_model(), "--recipe", recipe.string()}, {2, recipe.string(), "duplicate key 'scheme'"});
  write_file(recipe, R"({"edgepack_recipe": 1, "steps": [)");
  expect_error_keeps_output({"compress", bundled_model(), "--recipe", recipe.string()}, {2, recipe.string(), "not valid JSON"});
}

TEST(CompressRecipe, PrintRecipeFillsDefaultsAndRoundTrips) {
  temp_dir dir;
  const auto first = run_cli({"compress", "--print-recipe", "--recipe", (source_dir() / "recipes" / "stories260k-2of4-w4.json").string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto printed = nlohmann::json::parse(first.out);
  EXPECT_EQ(printed["steps"][0]["damp"], 0.01);  // defaults of `prune` filled in
  EXPECT_FALSE(printed["steps"][0].contains("no_pack"));  // a recipe packs in its pack step
  EXPECT_EQ(printed["steps"][1]["pattern"], "auto");
  EXPECT_EQ(printed["calibration"]["sampling"], "random");
  write_file(dir / "printed.json", first.out);
  const auto second = run_cli({"compress", "--print-recipe", "--recipe", (dir / "printed.json").string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  // Without --recipe: the default recipe, itself a valid recipe.
  const auto fallback = run_cli({"compress", "--print-recipe"});
  ASSERT_EQ(fallback.exit_code, 0) << fallback.err;
  EXPECT_EQ(nlohmann::json::parse(fallback.out)["steps"][0]["scheme"], "w4g32");
}

// Every shipped recipe resolves (the slow ones are not run here; the demo runs the tuned one).
TEST(CompressRecipe, EveryShippedRecipeResolves) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "recipes")) {
    if (entry.path().extension() != ".json") continue;
    const auto r = run_cli({"compress", "--print-recipe", "--recipe", entry.path().string()});
    EXPECT_EQ(r.exit_code, 0) << entry.path() << ": " << r.err;
    ++count;
  }
  EXPECT_GE(count, 4);
}

TEST(CompressRecipe, EpkRecordsTheResolvedRecipeAndItsHash) {
  temp_dir dir;
  const std::string recipe = (source_dir() / "recipes" / "mnist-w8.json").string();
  const auto out = dir / "mnist.epk";
  const auto run = run_cli({"-q", "compress", mnist(), "--recipe", recipe, "-o", out.string(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto printed = run_cli({"compress", "--print-recipe", "--recipe", recipe});
  const nlohmann::json resolved = nlohmann::json::parse(printed.out);
  const std::string canonical = resolved.dump();
  const std::string hash = sha256::hex(std::as_bytes(std::span(canonical.data(), canonical.size())));
  const auto inspect = run_cli({"inspect", out.string(), "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto extra = nlohmann::json::parse(inspect.out)["provenance"]["extra"];
  EXPECT_EQ(extra["recipe"], resolved);
  EXPECT_EQ(extra["recipe_sha256"], hash);
  EXPECT_EQ(extra["report"]["recipe_sha256"], hash);
  EXPECT_TRUE(extra["report"]["quality"]["passed"].get<bool>());
  EXPECT_FALSE(extra["report"]["passes"][0].contains("seconds"));  // timings only in --report: the .epk stays reproducible
  EXPECT_EQ(nlohmann::json::parse(run.out)["recipe_sha256"], hash);
  // verify --recipe without --against: the base is the input the .epk records; a flag overrides the recipe.
  auto verify = run_cli({"-q", "verify", out.string(), "--recipe", recipe, "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(nlohmann::json::parse(verify.out)["against"], mnist());
  verify = run_cli({"-q", "verify", out.string(), "--recipe", recipe, "--min-cosine", "1", "--max-nmse", "0", "--json"});
  EXPECT_EQ(verify.exit_code, 1) << verify.err;
}

}  // namespace
}  // namespace edgepack::testing

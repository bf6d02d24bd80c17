// passes/recipe: resolution fills every default, is idempotent (resolving a resolved recipe changes
// nothing, so the hash is stable), keeps paths as written, and names the JSON path of each problem.
#include <gtest/gtest.h>

#include "passes/recipe.h"

namespace edgepack {
namespace {

nlohmann::json minimal() {
  return {{"edgepack_recipe", 1},
          {"calibration", {{"data", "text.txt"}}},
          {"steps", {{{"pass", "prune"}, {"method", "sparsegpt"}, {"scheme", "s2:4+w4g32"}}, {{"pass", "pack"}}, {{"pass", "verify"}, {"data", "text.txt"}, {"max_kld", 1.5}}}}};
}

TEST(Recipe, ResolutionFillsDefaultsAndIsIdempotent) {
  auto resolved = resolve_recipe(minimal(), "r.json");
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  EXPECT_EQ((*resolved)["calibration"]["samples"], 128);
  EXPECT_EQ((*resolved)["steps"][0]["block_size"], 128);
  EXPECT_EQ((*resolved)["steps"][1]["pattern"], "auto");
  EXPECT_EQ((*resolved)["steps"][2]["ctx"], 256);
  EXPECT_TRUE((*resolved)["steps"][2]["min_top1"].is_null());
  EXPECT_FALSE((*resolved)["steps"][2].contains("min_cosine"));  // graph-model keys stay out of a text verify step
  EXPECT_EQ((*resolved)["calibration"]["data"], "text.txt");    // paths as written
  auto again = resolve_recipe(*resolved, "r.json");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(canonical_recipe_text(*again), canonical_recipe_text(*resolved));
  EXPECT_EQ(recipe_sha256(*again), recipe_sha256(*resolved));
  EXPECT_EQ(recipe_sha256(*resolved).size(), 64u);
  auto changed = minimal();
  changed["steps"][2]["max_kld"] = 1.25;
  EXPECT_NE(recipe_sha256(resolve_recipe(changed, "r.json").value()), recipe_sha256(*resolved));
}

TEST(Recipe, ProblemsNameTheJsonPath) {
  auto expect_problem = [](nlohmann::json doc, const std::string& phrase) {
    auto r = resolve_recipe(doc, "r.json");
    ASSERT_FALSE(r.ok()) << phrase;
    EXPECT_EQ(r.status().code(), error_code::bad_usage);
    EXPECT_NE(r.status().message().find("r.json: " + phrase), std::string::npos) << r.status().message();
  };
  auto doc = minimal();
  doc["steps"][0]["damp"] = "high";
  expect_problem(doc, "steps[0].damp: must be a number");
  doc = minimal();
  doc["steps"][0]["block_size"] = 0;
  expect_problem(doc, "steps[0].block_size: 0 is out of range");
  doc = minimal();
  doc["calibration"]["seq"] = 1.5;
  expect_problem(doc, "calibration.seq: must be an integer");
  doc = minimal();
  doc["calibration"]["color"] = "red";
  expect_problem(doc, "calibration.color: unknown key");
  doc = minimal();
  doc["steps"][2]["protocol"] = "perplexity";
  expect_problem(doc, "steps[2].protocol: 'perplexity' is not available");
  doc = minimal();
  doc["steps"][2]["task"] = {"argmax"};
  expect_problem(doc, "steps[2].task: applies to graph models");
  doc = minimal();
  doc.erase("calibration");
  expect_problem(doc, "steps[0].method: 'sparsegpt' needs calibration data");
}

TEST(Recipe, ModelKindChecks) {
  auto resolved = resolve_recipe(minimal(), "r.json").value();
  EXPECT_TRUE(check_recipe_for_model(resolved, recipe_model_kind::language_model, "r.json").ok());
  const Status s = check_recipe_for_model(resolved, recipe_model_kind::graph_model, "r.json");
  EXPECT_NE(s.message().find("r.json: steps[2].data: the model is a graph"), std::string::npos) << s.message();
  EXPECT_EQ(resolve_recipe_path("recipes/r.json", "../data/t.txt"), "data/t.txt");
  EXPECT_EQ(resolve_recipe_path("recipes/r.json", "/abs/t.txt"), "/abs/t.txt");
}

}  // namespace
}  // namespace edgepack

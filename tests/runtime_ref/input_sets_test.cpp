// verify --inputs DIR: which .npy file feeds which graph input, case folders, steps, and errors
// that name the file.
#include <gtest/gtest.h>

#include "formats/npy.h"
#include "runtime_ref/input_sets.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

namespace fs = std::filesystem;

// Inputs: x f32 [1, N] (symbolic N), h f32 [2]; outputs y, hn.
graph two_input_graph() {
  graph g;
  g.inputs.push_back({"x", dtype::f32, {{1, ""}, {-1, "N"}}});
  g.inputs.push_back({"h", dtype::f32, {{2, ""}}});
  g.outputs.push_back({"y", dtype::f32, {}});
  g.outputs.push_back({"hn", dtype::f32, {}});
  return g;
}

void put(const fs::path& path, dtype type, std::vector<int64_t> shape) {
  fs::create_directories(path.parent_path());
  tensor t = tensor::allocate(type, std::move(shape));
  ASSERT_TRUE(write_npy(path.string(), t).ok()) << path;
}

TEST(InputSets, GoldenIndicesAndNamesInOneFolder) {
  temp_dir dir;
  put(dir / "input_0.npy", dtype::f32, {1, 5});
  put(dir / "h.npy", dtype::f32, {2});
  put(dir / "output_0.npy", dtype::f64, {7});  // reference outputs are ignored
  write_file(dir / "manifest.json", "{}");
  ASSERT_TRUE(fs::exists(dir / "manifest.json"));
  auto cases = read_input_cases(dir.path().string(), two_input_graph());
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_EQ(cases->size(), 1u);
  EXPECT_EQ((*cases)[0].name, dir.path().filename().string());
  ASSERT_EQ((*cases)[0].steps.size(), 1u);
  EXPECT_EQ((*cases)[0].steps[0].at("x").shape, (std::vector<int64_t>{1, 5}));
  EXPECT_EQ((*cases)[0].steps[0].count("h"), 1u);
}

TEST(InputSets, CaseSubfoldersInNameOrder) {
  temp_dir dir;
  for (const char* name : {"b_case", "a_case"}) {
    put(dir / name / "x.npy", dtype::f32, {1, 3});
    put(dir / name / "input_1.npy", dtype::f32, {2});
  }
  fs::create_directories(dir / "empty_folder");
  auto cases = read_input_cases(dir.path().string(), two_input_graph());
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].name, "a_case");
  EXPECT_EQ((*cases)[1].name, "b_case");
}

TEST(InputSets, StepsWithStateCarry) {
  temp_dir dir;
  put(dir / "c" / "step_0" / "input_0.npy", dtype::f32, {1, 4});
  write_file(dir / "c" / "manifest.json", R"({"num_steps": 2, "state_carry": {"h": "hn"}})");
  put(dir / "c" / "step_0" / "input_1.npy", dtype::f32, {2});
  put(dir / "c" / "step_1" / "input_0.npy", dtype::f32, {1, 4});  // h comes from step 0's hn
  auto cases = read_input_cases(dir.path().string(), two_input_graph());
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_EQ(cases->size(), 1u);
  const input_case& c = (*cases)[0];
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.state_carry.at("h"), "hn");
  EXPECT_EQ(c.steps[0].count("h"), 1u);
  EXPECT_EQ(c.steps[1].count("h"), 0u);
}

void expect_error(const fs::path& dir, const std::string& file_part, const std::string& phrase) {
  auto cases = read_input_cases(dir.string(), two_input_graph());
  ASSERT_FALSE(cases.ok());
  EXPECT_EQ(cases.status().code(), error_code::bad_input);
  EXPECT_NE(cases.status().message().find(file_part), std::string::npos) << cases.status().message();
  EXPECT_NE(cases.status().message().find(phrase), std::string::npos) << cases.status().message();
}

TEST(InputSets, ErrorsNameTheFile) {
  temp_dir dir;
  expect_error(dir / "missing", "missing", "not found");
  write_file(dir / "plain.txt", "x");
  expect_error(dir / "plain.txt", "plain.txt", "not a folder");
  expect_error(dir.path(), dir.path().string(), "no input sets");

  put(dir / "unknown" / "x.npy", dtype::f32, {1, 2});
  put(dir / "unknown" / "h.npy", dtype::f32, {2});
  put(dir / "unknown" / "z.npy", dtype::f32, {2});
  expect_error(dir / "unknown", "z.npy", "'z' is not a graph input");

  put(dir / "index" / "input_5.npy", dtype::f32, {1, 2});
  expect_error(dir / "index", "input_5.npy", "the graph has 2 input(s)");

  put(dir / "dtype" / "x.npy", dtype::f64, {1, 2});
  put(dir / "dtype" / "h.npy", dtype::f32, {2});
  expect_error(dir / "dtype", "x.npy", "dtype F64, but graph input 'x' is F32");

  put(dir / "shape" / "x.npy", dtype::f32, {1, 2});
  put(dir / "shape" / "h.npy", dtype::f32, {3});
  expect_error(dir / "shape", "h.npy", "shape [3], but graph input 'h' is [2]");

  put(dir / "twice" / "x.npy", dtype::f32, {1, 2});
  put(dir / "twice" / "input_0.npy", dtype::f32, {1, 2});
  put(dir / "twice" / "h.npy", dtype::f32, {2});
  expect_error(dir / "twice", "x.npy", "already given by input_0.npy");

  put(dir / "absent" / "x.npy", dtype::f32, {1, 2});
  expect_error(dir / "absent", "absent", "no file for graph input 'h'");

  put(dir / "bad_npy" / "h.npy", dtype::f32, {2});
  write_file(dir / "bad_npy" / "x.npy", "not numpy");
  expect_error(dir / "bad_npy", "x.npy", "");
}

}  // namespace
}  // namespace edgepack::testing

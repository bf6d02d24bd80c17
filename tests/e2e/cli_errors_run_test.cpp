// `edgepack run` on inputs it cannot use: graph inputs of the wrong type or out of range (exit 3,
// no output directory created), a model without a tokenizer (exit 2, the model named once).
#include "formats/npy.h"
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

std::string write_ids(const temp_dir& dir, const std::string& name, dtype type, const std::vector<int64_t>& ids) {
  const auto path = (dir / name).string();
  const std::vector<int64_t> shape = {1, static_cast<int64_t>(ids.size())};
  tensor t = type == dtype::i64 ? tensor::from_values<int64_t>(dtype::i64, shape, std::span<const int64_t>(ids))
                                : tensor::from_values<float>(dtype::f32, shape, std::vector<float>(ids.begin(), ids.end()));
  const Status written = write_npy(path, t);
  EXPECT_TRUE(written.ok()) << written.message();
  return path;
}

TEST(CliRun, GraphInputsWriteOneFilePerOutput) {
  // Control for the failures below: the same command with valid ids succeeds.
  temp_dir dir;
  const std::string ids = write_ids(dir, "ids.npy", dtype::i64, {1, 400, 30});
  const auto r = run_cli({"-q", "run", bundled_model(), "--input", "input_ids=" + ids, "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "logits.npy"));
}

TEST(CliRun, InputOfWrongDtype) {
  temp_dir dir;
  const std::string ids = write_ids(dir, "float_ids.npy", dtype::f32, {1, 400, 30});
  expect_error({"run", bundled_model(), "--input", "input_ids=" + ids, "-o", (dir / "out").string()},
               {3, bundled_model(), "input 'input_ids' must be int64 [1, seq], got F32 [1, 3]"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

TEST(CliRun, TokenIdOutOfRange) {
  temp_dir dir;
  const std::string ids = write_ids(dir, "ids.npy", dtype::i64, {1, 4000, 30});
  expect_error({"run", bundled_model(), "--input", "input_ids=" + ids, "-o", (dir / "out").string()},
               {3, bundled_model(), "index 4000 out of range [0, 512)"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

TEST(CliRun, CorruptNpyNamesTheNpyFile) {
  temp_dir dir;
  const std::string path = (dir / "ids.npy").string();
  write_file(path, std::string("\x93NUMPY\x01\x00garbage", 15));  // header length "ga" = 24935 bytes
  expect_error({"run", bundled_model(), "--input", "input_ids=" + path, "-o", (dir / "out").string()}, {3, path, "runs beyond the end of the file"});
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

TEST(CliRun, UnknownGraphInput) {
  temp_dir dir;
  const std::string ids = write_ids(dir, "ids.npy", dtype::i64, {1});
  expect_error({"run", bundled_model(), "--input", "tokens=" + ids, "-o", (dir / "out").string()},
               {2, "", "--input 'tokens' is not an input of the model"});
}

TEST(CliRun, PromptWithoutTokenizer) {
  // A copy of the model with no tok512.bin beside it.
  temp_dir dir;
  const std::string model = (dir / "model.bin").string();
  std::filesystem::copy_file(bundled_model(), model);
  const auto r = expect_error({"run", model, "--prompt", "Once"}, {2, model, "the model has no tokenizer; pass --tokenizer"});
  EXPECT_EQ(r.err.find(model), r.err.rfind(model)) << "the model is named more than once: " << r.err;
}

}  // namespace
}  // namespace edgepack::testing

// `edgepack run MODEL --input input_ids=ids.npy -o DIR` on stories260K: the written logits.npy
// equals the reference logits, and the graph's other outputs (the KV cache) are written too.
#include <cstring>

#include "formats/npy.h"
#include "runtime_ref/metrics.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

TEST(RunNpy, LogitsOfCheckIdsMatchReference) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const std::string ids_bytes = read_file(shared_dir() / "models/stories260K-hf/check_ids.i64");
  std::vector<int64_t> ids(ids_bytes.size() / 8);
  std::memcpy(ids.data(), ids_bytes.data(), ids_bytes.size());
  const tensor ids_tensor = tensor::from_values<int64_t>(dtype::i64, {1, static_cast<int64_t>(ids.size())}, std::span<const int64_t>(ids));
  ASSERT_TRUE(write_npy((dir / "ids.npy").string(), ids_tensor).ok());
  for (const std::string& model : {(datasets_dir() / "stories260K/stories260K.bin").string(), (shared_dir() / "models/stories260K-hf").string()}) {
    const auto out = dir / "out";
    std::filesystem::remove_all(out);
    auto r = run_cli({"run", model, "--input", "input_ids=" + (dir / "ids.npy").string(), "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto logits = read_npy((out / "logits.npy").string());
    ASSERT_TRUE(logits.ok()) << logits.status().message();
    EXPECT_EQ(logits->shape, (std::vector<int64_t>{1, 11, 512}));
    const std::string expected_bytes = read_file(shared_dir() / "models/stories260K-hf/check_logits.f32");
    std::vector<float> expected(expected_bytes.size() / 4);
    std::memcpy(expected.data(), expected_bytes.data(), expected_bytes.size());
    EXPECT_LE(max_abs_diff(std::span<const float>(logits->data_as<float>(), 11 * 512), expected), 1e-4) << model;
    EXPECT_TRUE(std::filesystem::exists(out / "present.4.value.npy"));
  }
}

TEST(RunNpy, UnknownInputNameIsUsageError) {
  temp_dir dir;
  const int64_t one = 1;
  ASSERT_TRUE(write_npy((dir / "x.npy").string(), tensor::from_values<int64_t>(dtype::i64, {1, 1}, std::span<const int64_t>(&one, 1))).ok());
  auto r = run_cli({"run", (datasets_dir() / "stories260K/stories260K.bin").string(), "--input", "tokens=" + (dir / "x.npy").string(), "-o",
                    (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'tokens' is not an input"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

}  // namespace
}  // namespace edgepack::testing

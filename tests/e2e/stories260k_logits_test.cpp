// stories260K end to end in runtime_ref: logits against the reference (check_logits.f32, produced
// by an independent forward and matched by ONNX Runtime to 1.7e-5), from both readers; the KV
// cache against the full forward; greedy text against llama2.c's output.
#include <cmath>
#include <cstring>

#include "calibration/tokenizer.h"
#include "formats/model_loader.h"
#include "runtime_ref/llm_session.h"
#include "runtime_ref/metrics.h"
#include "runtime_ref/sampler.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

std::string bundled_model() { return (datasets_dir() / "stories260K/stories260K.bin").string(); }

template <class T>
std::vector<T> read_raw(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

model load_or_die(const std::string& path) {
  auto m = load_model(path, {});
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

// Max |ours - reference| over all 11 x 512 logits. 1e-4 is ~10x the spread between independent
// float32 implementations (ONNX Runtime vs the reference: 1.7e-5) on logits of magnitude ~10.
void expect_matches_reference(const std::string& model_path) {
  const auto ids = read_raw<int64_t>(shared_dir() / "models/stories260K-hf/check_ids.i64");
  const auto expected = read_raw<float>(shared_dir() / "models/stories260K-hf/check_logits.f32");
  ASSERT_EQ(ids.size(), 11u);
  ASSERT_EQ(expected.size(), 11u * 512u);
  model m = load_or_die(model_path);
  auto session = llm_session::create(m);
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto logits = session->forward(ids);
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  const double diff = max_abs_diff(*logits, expected);
  EXPECT_LE(diff, 1e-4) << model_path;
  ::testing::Test::RecordProperty("max_abs_diff", std::to_string(diff));
}

TEST(Stories260kLogits, Llama2cBinMatchesReference) {
  EP_REQUIRE_SHARED();
  expect_matches_reference(bundled_model());
}

TEST(Stories260kLogits, HuggingFaceDirMatchesReference) {
  EP_REQUIRE_SHARED();
  expect_matches_reference((shared_dir() / "models/stories260K-hf").string());
}

TEST(Stories260kLogits, IncrementalDecodeMatchesFullForward) {
  model m = load_or_die(bundled_model());
  auto full = llm_session::create(m);
  auto step = llm_session::create(m);
  ASSERT_TRUE(full.ok() && step.ok());
  const std::vector<int64_t> ids = {1, 403, 407, 261, 378, 430, 271, 300, 266, 504, 375, 284, 302};
  auto all = full->forward(ids);
  ASSERT_TRUE(all.ok());
  std::vector<float> incremental;
  // A prefix of 5 at once, then one token at a time through the KV cache.
  auto prefix = step->forward(std::span<const int64_t>(ids).first(5));
  ASSERT_TRUE(prefix.ok());
  incremental = *prefix;
  for (size_t i = 5; i < ids.size(); ++i) {
    auto one = step->forward(std::span<const int64_t>(ids).subspan(i, 1));
    ASSERT_TRUE(one.ok());
    incremental.insert(incremental.end(), one->begin(), one->end());
  }
  // Eigen blocks a 13-row GEMM differently from 1-row ones, so float sums are reordered; the
  // differences (~2e-5 on logits of magnitude ~10, i.e. a few float ulps) must stay within the
  // bound we hold the forward itself to against the reference.
  EXPECT_LE(max_abs_diff(*all, incremental), 1e-4);
  EXPECT_EQ(argmax(std::span<const float>(*all).last(512)), argmax(std::span<const float>(incremental).last(512)));
}

TEST(Stories260kGeneration, GreedyFromBosMatchesLlama2c) {
  model m = load_or_die(bundled_model());
  ASSERT_FALSE(m.vocab.empty()) << "tok512.bin beside the model should be found";
  auto session = llm_session::create(m);
  ASSERT_TRUE(session.ok());
  tokenizer tok(m.vocab);
  sampler greedy(0.0, 0);
  int64_t token = m.vocab.bos_id;
  std::string text;
  for (int i = 0; i < 40; ++i) {
    const int64_t one[] = {token};
    auto logits = session->forward(one);
    ASSERT_TRUE(logits.ok());
    const int64_t next = greedy.next(*logits);
    text += tok.decode_piece(token, next);
    token = next;
  }
  const std::string expected = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
  EXPECT_EQ(text.substr(0, expected.size()), expected) << text;
}

}  // namespace
}  // namespace edgepack::testing

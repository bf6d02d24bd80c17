// The distillation-target pieces with hand-computed answers: top-K selection order and ties, the
// tail-bucket KL estimate (against a hand-computed case and, on random rows, against the exact KL
// it must never exceed and must equal at K = vocab), and shard planning under a size bound.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "passes/distill_eval.h"
#include "passes/distill_shards.h"
#include "passes/distill_targets.h"
#include "runtime_ref/metrics.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

TEST(DistillTopK, DescendingWithLowerIdFirstOnTies) {
  const std::vector<double> log_p = {-2.0, -1.0, -3.0, -1.0, -0.5};
  std::vector<float> values(3);
  std::vector<int32_t> indices(3);
  select_top_k(log_p, values, indices);
  EXPECT_EQ(indices, (std::vector<int32_t>{4, 1, 3}));
  EXPECT_EQ(values, (std::vector<float>{-0.5f, -1.0f, -1.0f}));
}

TEST(DistillKl, TailBucketHandComputed) {
  // p = (0.5, 0.3, 0.2), q = (0.4, 0.4, 0.2), top-1 = {0}:
  // 0.5 ln(0.5/0.4) + 0.5 ln(0.5/0.6) = 0.0204110; the full KL is 0.0252672.
  const std::vector<double> log_q = {std::log(0.4), std::log(0.4), std::log(0.2)};
  const std::vector<float> top = {static_cast<float>(std::log(0.5))};
  const std::vector<int32_t> idx = {0};
  double tail = 0;
  EXPECT_NEAR(tail_bucket_kl(top, idx, log_q, &tail), 0.5 * std::log(1.25) + 0.5 * std::log(0.5 / 0.6), 1e-7);
  EXPECT_NEAR(tail, 0.5, 1e-7);
  const std::vector<double> log_p = {std::log(0.5), std::log(0.3), std::log(0.2)};
  EXPECT_NEAR(kl_divergence(log_p, log_q), 0.5 * std::log(1.25) + 0.3 * std::log(0.75), 1e-12);
}

TEST(DistillKl, NeverAboveTheFullKlAndEqualAtFullVocabulary) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);  // values only feed a bound check
  const size_t vocab = 37;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> teacher(vocab), student(vocab);
    for (size_t v = 0; v < vocab; ++v) {
      teacher[v] = normal(rng);
      student[v] = teacher[v] + 0.7f * normal(rng);
    }
    const auto log_p = log_softmax(teacher), log_q = log_softmax(student);
    const double full = kl_divergence(log_p, log_q);
    double previous = 0;
    for (size_t k : {1, 2, 5, 17, 36, 37}) {
      std::vector<float> values(k);
      std::vector<int32_t> indices(k);
      select_top_k(log_p, values, indices);
      const double estimate = tail_bucket_kl(values, indices, log_q, nullptr);
      EXPECT_LE(estimate, full + 1e-6) << trial << " K=" << k;
      EXPECT_GE(estimate, previous - 1e-6) << trial << " K=" << k;
      previous = estimate;
      if (k == vocab) {
        EXPECT_NEAR(estimate, full, 1e-6);
      }
    }
  }
}

TEST(DistillShards, WriterFillsShardsUpToTheBound) {
  shard_layout layout;
  layout.tensors = {{"token_ids", dtype::i64, {5}}, {"b", dtype::f32, {5, 3}}};
  EXPECT_EQ(layout.sample_bytes(), 100u);
  const std::map<std::string, std::string> metadata = {{"format", "x"}};
  testing::temp_dir dir;
  // Room for exactly 3 samples of the first shard (its metadata says first_sample 0, samples 3).
  std::map<std::string, std::string> first = metadata;
  first["first_sample"] = "0";
  first["samples"] = "3";
  const uint64_t bound = shard_file_bytes(layout, 3, first);
  auto writer = shard_writer::create(dir.path().string(), layout, bound, 7, metadata);
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  std::vector<std::byte> ids(40), b(60);
  for (int s = 0; s < 7; ++s) {
    ids[0] = static_cast<std::byte>(s);
    const std::vector<std::span<const std::byte>> parts = {ids, b};
    ASSERT_TRUE(writer->add_sample(parts).ok());
  }
  ASSERT_TRUE(writer->finish().ok());
  const auto& shards = writer->shards();
  ASSERT_EQ(shards.size(), 3u);  // 3 + 3 + 1
  EXPECT_EQ(shards[0]["samples"], 3);
  EXPECT_EQ(shards[2]["first_sample"], 6);
  for (const auto& s : shards) {
    const auto size = std::filesystem::file_size(dir.path() / s["file"].get<std::string>());
    EXPECT_LE(size, bound);
    EXPECT_EQ(size, s["bytes"].get<uint64_t>());
  }
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "targets-00000.safetensors"), bound);
  EXPECT_FALSE(shard_writer::create(dir.path().string(), layout, 100, 7, metadata).ok());  // one sample does not fit
}

}  // namespace
}  // namespace edgepack

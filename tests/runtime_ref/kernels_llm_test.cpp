// Hand-computed goldens for RMSNormalization, RotaryEmbedding and Attention.
#include <cmath>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

TEST(RmsNormalizationKernel, LastAxisWithScale) {
  // rows [3, 4] and [1, 1]: rms = sqrt(12.5), sqrt(1)
  const tensor x = f32({2, 2}, {3, 4, 1, 1});
  const tensor scale = f32({2}, {1, 2});
  auto r = run_op("RMSNormalization", {&x, &scale}, {{"epsilon", 0.0}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  const float s = 1.0f / std::sqrt(12.5f);
  expect_near_all(values_of(r.outputs[0]), {3 * s, 8 * s, 1, 2}, 1e-6f);
}

TEST(RmsNormalizationKernel, ScaleSizeMismatch) {
  const tensor x = f32({1, 3}, {1, 2, 3});
  const tensor scale = f32({2}, {1, 1});
  EXPECT_EQ(run_op("RMSNormalization", {&x, &scale}, {}).status.code(), error_code::bad_input);
}

// One head of size 4, positions 0 and 1; cache rows: pos 0 -> angle 0, pos 1 -> angles (a, b).
TEST(RotaryEmbeddingKernel, HalfAndInterleavedPairs) {
  const float a = 0.5f, b = 0.25f;
  const tensor cos_cache = f32({2, 2}, {1, 1, std::cos(a), std::cos(b)});
  const tensor sin_cache = f32({2, 2}, {0, 0, std::sin(a), std::sin(b)});
  const tensor x = f32({1, 2, 4}, {1, 2, 3, 4, 1, 2, 3, 4});
  const tensor pos = i64({1, 2}, {0, 1});
  auto half = run_op("RotaryEmbedding", {&x, &cos_cache, &sin_cache, &pos}, {{"num_heads", int64_t{1}}});
  ASSERT_TRUE(half.status.ok()) << half.status.message();
  // rotate_half pairs (0,2) with angle a and (1,3) with angle b.
  expect_near_all(values_of(half.outputs[0]),
                  {1, 2, 3, 4, 1 * std::cos(a) - 3 * std::sin(a), 2 * std::cos(b) - 4 * std::sin(b), 1 * std::sin(a) + 3 * std::cos(a),
                   2 * std::sin(b) + 4 * std::cos(b)},
                  1e-6f);
  auto inter = run_op("RotaryEmbedding", {&x, &cos_cache, &sin_cache, &pos}, {{"num_heads", int64_t{1}}, {"interleaved", int64_t{1}}});
  // interleaved pairs (0,1) with angle a and (2,3) with angle b.
  expect_near_all(values_of(inter.outputs[0]),
                  {1, 2, 3, 4, 1 * std::cos(a) - 2 * std::sin(a), 1 * std::sin(a) + 2 * std::cos(a), 3 * std::cos(b) - 4 * std::sin(b),
                   3 * std::sin(b) + 4 * std::cos(b)},
                  1e-6f);
}

TEST(RotaryEmbeddingKernel, PositionOutsideCache) {
  const tensor cache = f32({1, 1}, {1});
  const tensor x = f32({1, 1, 2}, {1, 2});
  const tensor pos = i64({1, 1}, {5});
  EXPECT_EQ(run_op("RotaryEmbedding", {&x, &cache, &cache, &pos}, {{"num_heads", int64_t{1}}}).status.code(), error_code::bad_input);
}

// Two query heads sharing one KV head (GQA), head size 1, two positions, causal.
TEST(AttentionKernel, CausalGroupedHeads) {
  const tensor q = f32({1, 2, 2}, {1, 2, 1, 0});  // pos0: heads (1, 2); pos1: heads (1, 0)
  const tensor k = f32({1, 2, 1}, {0, 1});
  const tensor v = f32({1, 2, 1}, {10, 20});
  auto r = run_op("Attention", {&q, &k, &v}, {{"is_causal", int64_t{1}}, {"q_num_heads", int64_t{2}}, {"kv_num_heads", int64_t{1}}}, 3);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  // pos0 sees only key 0 -> 10 for both heads. pos1 head0: scores (0, 1) -> softmax weights (1/(1+e), e/(1+e)).
  const double e = std::exp(1.0);
  const float h0 = static_cast<float>((10 + 20 * e) / (1 + e));
  expect_near_all(values_of(r.outputs[0]), {10, 10, h0, 15}, 1e-5f);
  EXPECT_EQ(r.outputs[1].shape, (std::vector<int64_t>{1, 1, 2, 1}));
  expect_near_all(values_of(r.outputs[2]), {10, 20}, 0);
}

TEST(AttentionKernel, PastPlusStepEqualsFullSequence) {
  const tensor q = f32({1, 3, 4}, {0.1f, -0.2f, 0.3f, 0.5f, 0.7f, 0.1f, -0.4f, 0.2f, 0.3f, 0.3f, 0.9f, -0.6f});
  const tensor k = f32({1, 3, 2}, {0.2f, 0.1f, -0.5f, 0.4f, 0.6f, -0.3f});
  const tensor v = f32({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  const std::map<std::string, attribute_value> attrs = {{"is_causal", int64_t{1}}, {"q_num_heads", int64_t{2}}, {"kv_num_heads", int64_t{1}}};
  auto full = run_op("Attention", {&q, &k, &v}, attrs, 3);
  ASSERT_TRUE(full.status.ok());
  // First two positions, then the third with the cache.
  const tensor q2 = f32({1, 2, 4}, {0.1f, -0.2f, 0.3f, 0.5f, 0.7f, 0.1f, -0.4f, 0.2f});
  const tensor k2 = f32({1, 2, 2}, {0.2f, 0.1f, -0.5f, 0.4f});
  const tensor v2 = f32({1, 2, 2}, {1, 2, 3, 4});
  auto first = run_op("Attention", {&q2, &k2, &v2}, attrs, 3);
  const tensor q3 = f32({1, 1, 4}, {0.3f, 0.3f, 0.9f, -0.6f});
  const tensor k3 = f32({1, 1, 2}, {0.6f, -0.3f});
  const tensor v3 = f32({1, 1, 2}, {5, 6});
  auto step = run_op("Attention", {&q3, &k3, &v3, nullptr, &first.outputs[1], &first.outputs[2]}, attrs, 3);
  ASSERT_TRUE(step.status.ok()) << step.status.message();
  const auto all = values_of(full.outputs[0]);
  expect_near_all(values_of(step.outputs[0]), std::vector<float>(all.begin() + 8, all.end()), 1e-6f);
  expect_near_all(values_of(step.outputs[1]), values_of(full.outputs[1]), 0);
}

TEST(AttentionKernel, RejectsMismatchedHeads) {
  const tensor q = f32({1, 1, 3}, {1, 2, 3});
  const tensor kv = f32({1, 1, 2}, {1, 2});
  auto r = run_op("Attention", {&q, &kv, &kv}, {{"q_num_heads", int64_t{3}}, {"kv_num_heads", int64_t{2}}}, 3);
  EXPECT_EQ(r.status.code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

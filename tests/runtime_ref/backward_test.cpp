// Reverse-mode gradients (runtime_ref/backward.h): every VJP and a whole tiny Llama against
// central differences of the forward kernels. The loss is L = sum r ⊙ y for a fixed random r, so
// the seed is r; for a random direction v of a value, <dL/dvalue, v> must equal
// (L(value + h v) - L(value - h v)) / 2h, h = 3e-3 times the value's RMS. Tolerance: 2e-3 of
// (|<g, v>| + ||g||, the typical size of <g, v> for a random v). On a model with realistically
// scaled weights (fan-in scaled linears, norm gains near 1) the central difference's truncation
// error is O(h²) and the f32 rounding of L divided by 2h stays below 1e-3 of that scale (measured:
// larger h shows the O(h²) drift, smaller h the f32 noise); a wrong term in a VJP (a missing
// transpose, sign or factor) moves the result by O(1) relative.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime_ref/backward.h"
#include "tests/tiny_llama.h"

namespace edgepack {
namespace {

using testing::random_f32_tensor;
tensor random_f32(std::vector<int64_t> shape, std::mt19937& rng, float spread = 1.0f) { return random_f32_tensor(std::move(shape), rng, spread); }

tensor i64_tensor(std::vector<int64_t> shape, std::vector<int64_t> values) {
  return tensor::from_values<int64_t>(dtype::i64, std::move(shape), std::span<const int64_t>(values));
}

double weighted_sum(const tensor& y, const tensor& r) {
  double sum = 0;
  for (int64_t i = 0; i < y.numel(); ++i) sum += static_cast<double>(y.data_as<float>()[i]) * r.data_as<float>()[i];
  return sum;
}

// Checks d(sum r ⊙ output)/d(name) for every name in `wanted` (weights of g).
void expect_gradients_match(const graph& g, const tensor_map& inputs, const std::string& output, const std::set<std::string>& wanted, uint32_t seed) {
  std::mt19937 rng(seed);
  auto tape = forward_tape::record(g, inputs);
  ASSERT_TRUE(tape.ok()) << tape.status().message();
  const tensor r = random_f32(tape->find(output)->shape, rng);
  auto grads = backward(*tape, {{output, r}}, wanted);
  ASSERT_TRUE(grads.ok()) << grads.status().message();
  for (const auto& name : wanted) {
    const tensor& base = g.weights.at(name);
    const tensor v = random_f32(base.shape, rng);
    const tensor& grad = grads->at(name);
    ASSERT_EQ(grad.shape, base.shape) << name;
    double analytic = 0, grad_norm = 0;
    for (int64_t i = 0; i < v.numel(); ++i) {
      analytic += static_cast<double>(grad.data_as<float>()[i]) * v.data_as<float>()[i];
      grad_norm += static_cast<double>(grad.data_as<float>()[i]) * grad.data_as<float>()[i];
    }
    // |<g, v>| for a random unit-variance v is typically ||g||: the scale of the noise floor.
    const double typical = std::sqrt(grad_norm);
    // Steps of 3e-3 of the value's own RMS.
    double rms = 0;
    for (int64_t i = 0; i < base.numel(); ++i) rms += static_cast<double>(base.data_as<float>()[i]) * base.data_as<float>()[i];
    const float h = static_cast<float>(3e-3 * std::sqrt(rms / static_cast<double>(base.numel())));
    double loss[2];
    for (int side = 0; side < 2; ++side) {
      graph moved = g;
      tensor w = tensor::allocate(dtype::f32, base.shape);
      for (int64_t i = 0; i < w.numel(); ++i) w.mutable_data_as<float>()[i] = base.data_as<float>()[i] + (side == 0 ? h : -h) * v.data_as<float>()[i];
      moved.weights[name] = w;
      auto program = interpreter::create(moved);
      ASSERT_TRUE(program.ok()) << program.status().message();
      auto out = program->run(inputs);
      ASSERT_TRUE(out.ok()) << out.status().message();
      loss[side] = weighted_sum(out->at(output), r);
    }
    const double numeric = (loss[0] - loss[1]) / (2.0 * h);
    EXPECT_NEAR(analytic, numeric, 2e-3 * (std::max(std::abs(analytic), std::abs(numeric)) + typical) + 1e-6) << name << " of " << output;
  }
}

// A one-node graph whose float operands are weights (so they can be differentiated and moved).
graph one_node(const std::string& op, std::vector<std::pair<std::string, tensor>> operands, std::map<std::string, attribute_value> attributes,
               size_t outputs = 1) {
  graph g;
  g.opset_imports = {{"", 23}};
  node n;
  n.name = "the_" + op;
  n.op_type = op;
  for (auto& [name, t] : operands) {
    n.inputs.push_back(name);
    if (!name.empty()) g.weights[name] = std::move(t);
  }
  for (size_t o = 0; o < outputs; ++o) n.outputs.push_back("y" + std::to_string(o));
  n.attributes = std::move(attributes);
  g.nodes.push_back(n);
  g.outputs.push_back({"y0", dtype::f32, {}});
  return g;
}

TEST(Backward, GemmAllTransposesWithBias) {
  std::mt19937 rng(1);
  for (int64_t trans_a = 0; trans_a < 2; ++trans_a)
    for (int64_t trans_b = 0; trans_b < 2; ++trans_b) {
      const int64_t m = 5, k = 7, n = 3;
      graph g = one_node("Gemm",
                         {{"a", random_f32(trans_a ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k}, rng)},
                          {"b", random_f32(trans_b ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, rng)},
                          {"c", random_f32({n}, rng)}},
                         {{"transA", trans_a}, {"transB", trans_b}, {"alpha", 0.75}, {"beta", -1.5}});
      expect_gradients_match(g, {}, "y0", {"a", "b", "c"}, 10 + static_cast<uint32_t>(2 * trans_a + trans_b));
    }
}

TEST(Backward, MatMulRowsOfAHigherRankA) {
  std::mt19937 rng(2);
  graph g = one_node("MatMul", {{"a", random_f32({2, 3, 5}, rng)}, {"b", random_f32({5, 4}, rng)}}, {});
  expect_gradients_match(g, {}, "y0", {"a", "b"}, 20);
}

TEST(Backward, AddAndMulWithBroadcasting) {
  std::mt19937 rng(3);
  for (const char* op : {"Add", "Mul"}) {
    graph g = one_node(op, {{"a", random_f32({3, 1, 4}, rng)}, {"b", random_f32({5, 4}, rng)}}, {});
    expect_gradients_match(g, {}, "y0", {"a", "b"}, 30);
    graph same = one_node(op, {{"a", random_f32({2, 6}, rng)}, {"b", random_f32({2, 6}, rng)}}, {});
    expect_gradients_match(same, {}, "y0", {"a", "b"}, 31);
  }
}

TEST(Backward, SigmoidReshapeGather) {
  std::mt19937 rng(4);
  graph s = one_node("Sigmoid", {{"x", random_f32({4, 5}, rng, 2.0f)}}, {});
  expect_gradients_match(s, {}, "y0", {"x"}, 40);
  graph r = one_node("Reshape", {{"x", random_f32({4, 6}, rng)}, {"shape", i64_tensor({3}, {2, -1, 3})}}, {});
  expect_gradients_match(r, {}, "y0", {"x"}, 41);
  // Repeated and negative indices add into the same rows.
  graph e = one_node("Gather", {{"table", random_f32({6, 3}, rng)}, {"ids", i64_tensor({1, 5}, {4, 1, 4, -1, 0})}}, {});
  expect_gradients_match(e, {}, "y0", {"table"}, 42);
}

TEST(Backward, RmsNormalizationInputAndScale) {
  std::mt19937 rng(5);
  graph g = one_node("RMSNormalization", {{"x", random_f32({3, 2, 7}, rng)}, {"scale", random_f32({7}, rng)}}, {{"epsilon", 1e-5}, {"axis", int64_t{-1}}});
  expect_gradients_match(g, {}, "y0", {"x", "scale"}, 50);
  graph two_axes = one_node("RMSNormalization", {{"x", random_f32({3, 2, 5}, rng)}, {"scale", random_f32({2, 5}, rng)}}, {{"axis", int64_t{1}}});
  expect_gradients_match(two_axes, {}, "y0", {"x", "scale"}, 51);
}

TEST(Backward, RotaryEmbeddingBothPairings) {
  std::mt19937 rng(6);
  for (int64_t interleaved = 0; interleaved < 2; ++interleaved) {
    graph g = one_node("RotaryEmbedding",
                       {{"x", random_f32({1, 4, 2 * 6}, rng)}, {"cos", random_f32({8, 3}, rng)}, {"sin", random_f32({8, 3}, rng)},
                        {"pos", i64_tensor({1, 4}, {0, 3, 5, 7})}},
                       {{"num_heads", int64_t{2}}, {"interleaved", interleaved}});
    expect_gradients_match(g, {}, "y0", {"x"}, 60 + static_cast<uint32_t>(interleaved));
  }
}

TEST(Backward, AttentionGroupedCausalAndFullFourD) {
  std::mt19937 rng(7);
  graph causal = one_node("Attention",
                          {{"q", random_f32({2, 5, 4 * 3}, rng)}, {"k", random_f32({2, 5, 2 * 3}, rng)}, {"v", random_f32({2, 5, 2 * 2}, rng)}},
                          {{"is_causal", int64_t{1}}, {"q_num_heads", int64_t{4}}, {"kv_num_heads", int64_t{2}}}, 3);
  expect_gradients_match(causal, {}, "y0", {"q", "k", "v"}, 70);
  graph full = one_node("Attention", {{"q", random_f32({1, 2, 3, 4}, rng)}, {"k", random_f32({1, 2, 6, 4}, rng)}, {"v", random_f32({1, 2, 6, 5}, rng)}},
                        {{"scale", 0.3}}, 1);
  expect_gradients_match(full, {}, "y0", {"q", "k", "v"}, 71);
}

// A random tiny Llama (both RoPE pairings, tied and untied head): every weight, the embedding
// included, through 2 blocks, the final norm and the head.
TEST(Backward, WholeTinyLlamaEveryWeight) {
  for (int variant = 0; variant < 2; ++variant) {
    testing::tiny_llama_options o;
    o.seed = 8 + static_cast<uint32_t>(variant);
    o.rope_interleaved = variant == 0;
    o.tied_embeddings = variant == 1;
    const model m = testing::tiny_llama(o);
    std::set<std::string> wanted;
    for (const auto& [name, t] : m.g.weights)
      if (t.type == dtype::f32 && name.rfind("model.", 0) == 0) wanted.insert(name);
    if (!o.tied_embeddings) wanted.insert("lm_head.weight");
    ASSERT_EQ(wanted.size(), 2u + 9u * 2u + (o.tied_embeddings ? 0u : 1u));
    expect_gradients_match(m.g, testing::tiny_llama_inputs(m, {1, 5, 12, 5, 0, 7}), "logits", wanted, 80 + static_cast<uint32_t>(variant));
  }
}

TEST(Backward, UnreachedValueGetsZeros) {
  std::mt19937 rng(9);
  graph g = one_node("Sigmoid", {{"x", random_f32({3}, rng)}}, {});
  g.weights["unused"] = random_f32({2, 2}, rng);
  auto tape = forward_tape::record(g, {});
  ASSERT_TRUE(tape.ok());
  auto grads = backward(*tape, {{"y0", random_f32({3}, rng)}}, {"unused"});
  ASSERT_TRUE(grads.ok()) << grads.status().message();
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(grads->at("unused").data_as<float>()[i], 0.0f);
}

TEST(BackwardErrors, OpWithoutGradientOnThePathIsNamed) {
  std::mt19937 rng(10);
  graph g = one_node("Tanh", {{"x", random_f32({3}, rng)}}, {});
  auto tape = forward_tape::record(g, {});
  ASSERT_TRUE(tape.ok());
  auto grads = backward(*tape, {{"y0", random_f32({3}, rng)}}, {"x"});
  ASSERT_FALSE(grads.ok());
  EXPECT_NE(grads.status().message().find("node 'the_Tanh' (Tanh): gradient: the op has no gradient"), std::string::npos) << grads.status().message();
}

TEST(BackwardErrors, SeedOfTheWrongShapeOrUnknownValue) {
  std::mt19937 rng(11);
  graph g = one_node("Sigmoid", {{"x", random_f32({3}, rng)}}, {});
  auto tape = forward_tape::record(g, {});
  ASSERT_TRUE(tape.ok());
  auto wrong = backward(*tape, {{"y0", random_f32({4}, rng)}}, {"x"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("gradient seed 'y0' must be f32 of shape [3]"), std::string::npos) << wrong.status().message();
  auto unknown = backward(*tape, {{"y0", random_f32({3}, rng)}}, {"nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'nope'"), std::string::npos);
}

}  // namespace
}  // namespace edgepack

// GPTQ on graph (ONNX-style) weights (passes/gptq_observers.h, passes/quantize_gptq.h): a tiny
// hand-built graph Conv (col_axis 1 view, im2col Hessian) -> Transpose -> MatMul (B [K, N],
// transposed view). Checks: the im2col Hessian is the right one (the reported calibration output
// error equals the measured one on the calibration inputs, stage by stage), GPTQ beats RTN on
// held-out inputs, results are byte-identical at 1 and 2 threads, and grouped Conv falls back to
// RTN with a note.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "passes/gptq_observers.h"
#include "passes/quantize_gptq.h"
#include "passes/quantize_rtn.h"
#include "passes/weight_selection.h"
#include "runtime_ref/interpreter.h"
#include "tests/passes/graph_test_util.h"

namespace edgepack {
namespace {

constexpr int64_t batch = 2, channels = 8, side = 7, maps = 24, out_features = 40;

using graph_test::make_node;

tensor random_tensor(std::vector<int64_t> shape, uint32_t seed) {
  tensor t = tensor::allocate(dtype::f32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* p = t.mutable_data_as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = normal(rng);
  return t;
}

// x [N, C, H, W] with channels driven by two shared smooth fields plus a little noise: strongly
// correlated inputs, where GPTQ's error compensation pays off.
tensor correlated_input(uint32_t seed) {
  tensor t = tensor::allocate(dtype::f32, {batch, channels, side, side});
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* p = t.mutable_data_as<float>();
  for (int64_t n = 0; n < batch; ++n) {
    const float a = normal(rng), b = normal(rng), fx = 0.5f + 0.1f * normal(rng), fy = 0.7f + 0.1f * normal(rng);
    for (int64_t c = 0; c < channels; ++c) {
      const float wa = std::cos(0.9f * static_cast<float>(c)), wb = std::sin(0.4f * static_cast<float>(c) + 0.3f);
      for (int64_t y = 0; y < side; ++y)
        for (int64_t x = 0; x < side; ++x)
          p[((n * channels + c) * side + y) * side + x] = wa * a * std::sin(fx * static_cast<float>(x) + fy * static_cast<float>(y)) +
                                                          wb * b * std::cos(fy * static_cast<float>(x) - fx * static_cast<float>(y)) + 0.05f * normal(rng);
    }
  }
  return t;
}

// x -> Conv(W [24, 8, 3, 3], pads 1, group `group`) -> y [2, 24, 7, 7] -> Transpose -> t [2, 7, 7, 24]
// -> MatMul(B [24, 40]) -> z [2, 7, 7, 40]. Outputs y and z.
graph tiny_graph(int64_t group = 1) {
  graph g;
  g.inputs.push_back({"x", dtype::f32, {{batch, ""}, {channels, ""}, {side, ""}, {side, ""}}});
  g.weights["conv_w"] = random_tensor({maps, channels / group, 3, 3}, 11);
  g.weights["mm_b"] = random_tensor({maps, out_features}, 12);
  g.nodes.push_back(make_node("Conv", {"x", "conv_w"}, "y", {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", group}}));
  g.nodes.push_back(make_node("Transpose", {"y"}, "t", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));
  g.nodes.push_back(make_node("MatMul", {"t", "mm_b"}, "z"));
  g.outputs.push_back({"y", dtype::f32, {}});
  g.outputs.push_back({"z", dtype::f32, {}});
  return g;
}

std::vector<tensor_map> input_sets(uint32_t first_seed, int count) {
  std::vector<tensor_map> sets(static_cast<size_t>(count));
  for (int k = 0; k < count; ++k) sets[static_cast<size_t>(k)]["x"] = correlated_input(first_seed + static_cast<uint32_t>(k));
  return sets;
}

std::map<std::string, quant_encoding> encodings(const graph& g, const std::string& scheme_bits) {
  quant_encoding scheme;
  scheme.bits = scheme_bits == "w3" ? 3 : 4;
  scheme.group_size = scheme_bits == "w3" ? 0 : 16;
  weight_selection_options so;
  so.min_elements = 0;
  auto selected = select_weights(g, so);
  EXPECT_TRUE(selected.ok());
  std::map<std::string, quant_encoding> out;
  for (const auto& s : *selected) out[s.name] = encoding_for(scheme, s.view);
  return out;
}

// sum ||a - b||^2 and sum ||a||^2 of output `name` over the input sets.
std::pair<double, double> output_error(const graph& reference, const graph& candidate, const std::vector<tensor_map>& sets, const std::string& name) {
  auto ref = interpreter::create(reference);
  auto cand = interpreter::create(candidate);
  EXPECT_TRUE(ref.ok() && cand.ok());
  double num = 0, den = 0;
  for (const auto& set : sets) {
    auto a = ref->run(set);
    auto b = cand->run(set);
    EXPECT_TRUE(a.ok() && b.ok());
    const tensor& ta = a->at(name);
    const tensor& tb = b->at(name);
    for (int64_t i = 0; i < ta.numel(); ++i) {
      const double d = static_cast<double>(ta.data_as<float>()[i]) - tb.data_as<float>()[i];
      num += d * d;
      den += static_cast<double>(ta.data_as<float>()[i]) * ta.data_as<float>()[i];
    }
  }
  return {num, den};
}

graph with_weights(graph g, const std::map<std::string, tensor>& weights) {
  for (const auto& [name, t] : weights) g.weights[name] = t;
  return g;
}

quantize_gptq_result run_gptq(const graph& g, const std::vector<tensor_map>& calib, const std::string& bits, int threads) {
  model m;
  m.g = g;
  quantize_gptq_options o;
  o.weights = encodings(g, bits);
  o.threads = threads;
  auto r = quantize_gptq_model(m, calib, o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

const nlohmann::json& stats_of(const quantize_gptq_result& r, const std::string& name) {
  for (const auto& j : r.tensors)
    if (j["name"] == name) return j;
  static const nlohmann::json none;
  ADD_FAILURE() << "no stats for " << name;
  return none;
}

TEST(GptqObservers, FindsReadersAndTheirHessianSize) {
  const graph g = tiny_graph();
  std::string why;
  auto conv = find_gptq_observer(g, "conv_w", &why);
  ASSERT_TRUE(conv.has_value()) << why;
  EXPECT_EQ(conv->kind, gptq_reader_kind::conv);
  EXPECT_EQ(conv->dim, channels * 9);
  EXPECT_EQ(conv->activation, "x");
  auto mm = find_gptq_observer(g, "mm_b", &why);
  ASSERT_TRUE(mm.has_value()) << why;
  EXPECT_EQ(mm->kind, gptq_reader_kind::rows);
  EXPECT_EQ(mm->dim, maps);
  EXPECT_EQ(mm->first_node, 2u);
  const graph grouped = tiny_graph(2);
  EXPECT_FALSE(find_gptq_observer(grouped, "conv_w", &why).has_value());
  EXPECT_NE(why.find("group 2"), std::string::npos) << why;
}

TEST(QuantizeGptqGraph, CalibrationErrorMatchesMeasuredStageByStage) {
  const graph g = tiny_graph();
  const auto calib = input_sets(100, 6);
  const quantize_gptq_result r = run_gptq(g, calib, "w4", 1);
  EXPECT_EQ(r.stages, 2);
  EXPECT_EQ(stats_of(r, "conv_w")["method"], "gptq");
  EXPECT_EQ(stats_of(r, "mm_b")["method"], "gptq");
  EXPECT_EQ(r.quantized.at("mm_b").shape, (std::vector<int64_t>{maps, out_features}));
  EXPECT_TRUE(r.quantized.at("mm_b").quant.transposed);
  EXPECT_EQ(r.quantized.at("conv_w").quant.col_axis, 1);
  // Stage 1 (Conv on the graph input): ||conv(x; W - Q)|| / ||conv(x; W)|| over the calibration
  // inputs is the reported sqrt(tr(E H Eᵀ) / tr(W H Wᵀ)) iff H is the im2col Hessian in W's order.
  const graph conv_q = with_weights(g, {{"conv_w", r.quantized.at("conv_w")}});
  const auto [n1, d1] = output_error(g, conv_q, calib, "y");
  EXPECT_NEAR(std::sqrt(n1 / d1), stats_of(r, "conv_w")["calib_output_error"].get<double>(), 1e-4);
  // Stage 2 (MatMul, true sequential): its input comes from the quantized Conv.
  const graph both_q = with_weights(g, r.quantized);
  const auto [n2, d2] = output_error(conv_q, both_q, calib, "z");
  EXPECT_NEAR(std::sqrt(n2 / d2), stats_of(r, "mm_b")["calib_output_error"].get<double>(), 1e-4);
}

TEST(QuantizeGptqGraph, BeatsRtnOnHeldOutInputs) {
  const graph g = tiny_graph();
  const auto calib = input_sets(100, 8);
  const auto heldout = input_sets(500, 4);
  for (const std::string bits : {"w4", "w3"}) {
    const quantize_gptq_result r = run_gptq(g, calib, bits, 1);
    std::map<std::string, tensor> rtn;
    for (const auto& [name, enc] : encodings(g, bits)) {
      quantize_rtn_options o;
      o.encoding = enc;
      auto q = quantize_tensor_rtn(g.weights.at(name), o, nullptr);
      ASSERT_TRUE(q.ok());
      rtn[name] = *q;
    }
    const auto [ng, dg] = output_error(g, with_weights(g, r.quantized), heldout, "z");
    const auto [nr, dr] = output_error(g, with_weights(g, rtn), heldout, "z");
    const double gptq_error = std::sqrt(ng / dg), rtn_error = std::sqrt(nr / dr);
    EXPECT_LT(gptq_error, 0.8 * rtn_error) << bits << ": GPTQ " << gptq_error << " vs RTN " << rtn_error;
  }
}

TEST(QuantizeGptqGraph, ByteIdenticalAtOneAndTwoThreads) {
  const graph g = tiny_graph();
  const auto calib = input_sets(100, 5);
  const quantize_gptq_result a = run_gptq(g, calib, "w4", 1);
  const quantize_gptq_result b = run_gptq(g, calib, "w4", 2);
  ASSERT_EQ(a.quantized.size(), b.quantized.size());
  for (const auto& [name, t] : a.quantized) {
    const tensor& u = b.quantized.at(name);
    ASSERT_EQ(t.data.size, u.data.size) << name;
    ASSERT_EQ(t.scales.size, u.scales.size) << name;
    EXPECT_EQ(std::memcmp(t.data.data, u.data.data, t.data.size), 0) << name;
    EXPECT_EQ(std::memcmp(t.scales.data, u.scales.data, t.scales.size), 0) << name;
  }
  EXPECT_EQ(a.tensors.dump(), b.tensors.dump());
}

TEST(QuantizeGptqGraph, GroupedConvFallsBackToRtn) {
  const graph g = tiny_graph(2);
  const quantize_gptq_result r = run_gptq(g, input_sets(100, 3), "w4", 1);
  EXPECT_EQ(r.stages, 1);
  EXPECT_EQ(stats_of(r, "conv_w")["method"], "rtn");
  EXPECT_NE(stats_of(r, "conv_w")["note"].get<std::string>().find("group 2"), std::string::npos);
  EXPECT_EQ(stats_of(r, "mm_b")["method"], "gptq");
}

}  // namespace
}  // namespace edgepack

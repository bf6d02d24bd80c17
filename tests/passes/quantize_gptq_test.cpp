// True-sequential GPTQ on stories260K: the graph segments it drives reproduce a whole-model run,
// and on a real layer the held-out relative output error ||WX - QX|| / ||WX|| (X from text outside
// the calibration range) is below RTN's at every scheme.
#include <cmath>
#include <cstring>

#include "calibration/calib_windows.h"
#include "calibration/text_source.h"
#include "formats/model_loader.h"
#include "passes/quantize_gptq.h"
#include "passes/quantize_rtn.h"
#include "passes/scheme.h"
#include "runtime_ref/graph_segment.h"
#include "runtime_ref/llm_session.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

model stories() {
  auto m = load_model((datasets_dir() / "stories260K/stories260K.bin").string(), {});
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

std::vector<tensor_map> window_inputs(const model& m, const std::string& range, int64_t samples, int64_t seq, calib_sampling sampling) {
  auto text = read_text_file((datasets_dir() / "tinystories/tinystories_val.txt").string(), {range});
  EXPECT_TRUE(text.ok());
  calib_window_options o;
  o.samples = samples;
  o.seq = seq;
  o.sampling = sampling;
  auto w = make_calibration_windows(*text, m.vocab, o, "tinystories");
  EXPECT_TRUE(w.ok()) << w.status().message();
  std::vector<tensor_map> inputs(w->windows.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    inputs[k]["input_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, seq}, std::span<const int64_t>(w->windows[k]));
    EXPECT_TRUE(fill_llm_default_inputs(m, inputs[k]).ok());
  }
  return inputs;
}

size_t node_index(const graph& g, const std::string& output) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& o : g.nodes[i].outputs)
      if (o == output) return i;
  ADD_FAILURE() << "no node produces " << output;
  return 0;
}

TEST(GraphSegment, ChainedSegmentsMatchWholeRun) {
  const model m = stories();
  auto inputs = window_inputs(m, ":20000", 1, 40, calib_sampling::sequential);
  auto interp = interpreter::create(m.g);
  ASSERT_TRUE(interp.ok());
  auto whole = interp->run(inputs[0]);
  ASSERT_TRUE(whole.ok());
  // Cut at odd places (inside blocks, right before Attention) and run to the end.
  const std::vector<size_t> cuts = {0, 3, node_index(m.g, "model.layers.1.q.out"), node_index(m.g, "model.layers.2.attn.rows"), m.g.nodes.size()};
  tensor_map state;
  for (const auto& name : graph_segment::live_before(m.g, 0)) state[name] = inputs[0].at(name);
  tensor logits;
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    // The last segment's outputs are graph outputs only, which the state does not keep: read them
    // by cutting one node earlier (the final Reshape) and comparing the lm_head output instead.
    const size_t end = c + 2 == cuts.size() ? cuts[c + 1] - 1 : cuts[c + 1];
    auto seg = graph_segment::create(m.g, cuts[c], end, state);
    ASSERT_TRUE(seg.ok()) << seg.status().message();
    ASSERT_TRUE(seg->run(state).ok());
    if (c + 2 == cuts.size()) logits = state.at("lm_head.out");
  }
  const tensor& expected = whole->at("logits");
  ASSERT_EQ(logits.numel(), expected.numel());
  for (int64_t i = 0; i < expected.numel(); ++i) ASSERT_EQ(logits.data_as<float>()[i], expected.data_as<float>()[i]) << i;
}

// Held-out X at one layer's input, from the float model.
std::vector<float> heldout_activation(const model& m, const std::string& activation) {
  auto inputs = window_inputs(m, "-60000:", 8, 128, calib_sampling::sequential);
  const size_t stop = node_index(m.g, activation) + 1;
  std::vector<float> rows;
  for (auto& in : inputs) {
    tensor_map state;
    for (const auto& name : graph_segment::live_before(m.g, 0)) state[name] = in.at(name);
    auto seg = graph_segment::create(m.g, 0, stop, state);
    EXPECT_TRUE(seg.ok());
    EXPECT_TRUE(seg->run(state).ok());
    const tensor& x = state.at(activation);
    rows.insert(rows.end(), x.data_as<float>(), x.data_as<float>() + x.numel());
  }
  return rows;
}

double output_error(const std::vector<float>& w, const std::vector<float>& q, int64_t out, int64_t in, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size()) / in;
  double num = 0, den = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double a = 0, b = 0;
      for (int64_t c = 0; c < in; ++c) {
        a += static_cast<double>(w[o * in + c]) * x[r * in + c];
        b += static_cast<double>(q[o * in + c]) * x[r * in + c];
      }
      num += (a - b) * (a - b);
      den += a * a;
    }
  return std::sqrt(num / den);
}

TEST(QuantizeGptqModel, HeldOutOutputErrorBelowRtnOnRealLayers) {
  const model m = stories();
  const auto calib = window_inputs(m, ":200000", 16, 256, calib_sampling::random);
  // down_proj (172 columns: a 12-column tail group at g32) and q_proj.
  const std::vector<std::pair<std::string, std::string>> layers = {{"model.layers.2.mlp.down_proj.weight", "model.layers.2.mlp.product"},
                                                                  {"model.layers.1.self_attn.q_proj.weight", "model.layers.1.attn_norm.out"}};
  for (const auto& [weight, activation] : layers) {
    const std::vector<float> x = heldout_activation(m, activation);
    const tensor& w = m.g.weights.at(weight);
    auto wf = to_float_vector(w);
    ASSERT_TRUE(wf.ok());
    for (const std::string scheme : {"w8", "w4g128", "w4g32", "w3g32", "w2g32"}) {
      SCOPED_TRACE(weight + " " + scheme);
      auto enc = parse_weight_scheme(scheme);
      ASSERT_TRUE(enc.ok());
      quantize_gptq_options options;
      options.weights[weight] = *enc;
      options.threads = 2;
      auto g = quantize_gptq_model(m, calib, options);
      ASSERT_TRUE(g.ok()) << g.status().message();
      ASSERT_EQ(g->stages, 1);
      EXPECT_EQ(g->tensors[0]["method"], "gptq");
      quantize_rtn_options rtn;
      rtn.encoding = *enc;
      auto r = quantize_tensor_rtn(w, rtn, nullptr);
      ASSERT_TRUE(r.ok());
      auto gq = to_float_vector(g->quantized.at(weight));
      auto rq = to_float_vector(*r);
      const double e_gptq = output_error(*wf, *gq, w.shape[0], w.shape[1], x);
      const double e_rtn = output_error(*wf, *rq, w.shape[0], w.shape[1], x);
      EXPECT_LT(e_gptq, e_rtn);
      std::printf("%s %s held-out relative output error: GPTQ %.4f, RTN %.4f\n", weight.c_str(), scheme.c_str(), e_gptq, e_rtn);
    }
  }
}

TEST(QuantizeGptqModel, StagesFollowTheBlocksAndThreadsDoNotChangeResults) {
  const model m = stories();
  const auto calib = window_inputs(m, ":50000", 4, 64, calib_sampling::random);
  quantize_gptq_options options;
  auto enc = parse_weight_scheme("w4g32");
  ASSERT_TRUE(enc.ok());
  for (const auto& [name, t] : m.g.weights)
    if (name.find("layers.") != std::string::npos && name.find("_proj") != std::string::npos) options.weights[name] = *enc;
  ASSERT_EQ(options.weights.size(), 35u);
  options.threads = 1;
  auto one = quantize_gptq_model(m, calib, options);
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->stages, 20);  // [q,k,v], o, [gate,up], down per block
  options.threads = 2;
  auto two = quantize_gptq_model(m, calib, options);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(one->tensors.dump(), two->tensors.dump());
  for (const auto& [name, t] : one->quantized) {
    const tensor& u = two->quantized.at(name);
    ASSERT_EQ(t.data.size, u.data.size);
    EXPECT_EQ(0, std::memcmp(t.data.data, u.data.data, t.data.size)) << name;
    EXPECT_EQ(0, std::memcmp(t.scales.data, u.scales.data, t.scales.size)) << name;
  }
}

}  // namespace
}  // namespace edgepack::testing

// ONNX writer: float round trip through the reader, quantized weights as DequantizeLinear whose
// meaning (evaluated here from the written protobuf by the ONNX formula) equals the reference
// decoder bit for bit for every view, bit width, group and tail; opset upgrade rules and refusals.
#include <cmath>

#include "core/quant_codes.h"
#include "formats/onnx_opset_upgrade.h"
#include "formats/onnx_reader.h"
#include "formats/onnx_writer.h"
#include "onnx/onnx_pb.h"
#include "passes/quantize_rtn.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

tensor random_weight(std::vector<int64_t> shape, uint32_t seed) {
  tensor t = tensor::allocate(dtype::f32, std::move(shape));
  uint32_t s = seed;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    t.mutable_data_as<float>()[i] = static_cast<float>(static_cast<int32_t>(s >> 8) % 2001 - 1000) / 997.0f;
  }
  return t;
}

model one_node_model(const std::string& op, tensor w, int64_t opset) {
  model m;
  m.format = "test";
  m.g.opset_imports = {{"", opset}};
  m.g.inputs.push_back({"x", dtype::f32, {{1, ""}, {-1, "n"}}});
  m.g.outputs.push_back({"y", dtype::f32, {}});
  m.g.weights.emplace("w", std::move(w));
  m.g.nodes.push_back({"n0", op, "", {"x", "w"}, {"y"}, {}});
  return m;
}


TEST(OnnxWriter, FloatRoundTripKeepsOpsetWeightsAndNodes) {
  model m = one_node_model("MatMul", random_weight({5, 3}, 1), 9);
  m.g.weights.emplace("h", tensor::from_values<uint16_t>(dtype::f16, {2}, std::vector<uint16_t>{0x3c00, 0xc000}));
  m.g.nodes[0].attributes["alpha"] = 0.5;
  m.g.nodes[0].attributes["perm"] = std::vector<int64_t>{1, 0};
  onnx_write_stats stats;
  auto bytes = serialize_onnx(m, {}, &stats);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(stats.opset_out, 9);
  auto back = read_onnx_from_memory(bytes_of(*bytes), "t.onnx", "");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->g.opset_imports.at(""), 9);
  ASSERT_EQ(back->g.nodes.size(), 1u);
  EXPECT_EQ(back->g.nodes[0].attributes, m.g.nodes[0].attributes);
  for (const auto& [name, w] : m.g.weights) {
    const tensor* r = back->g.find_weight(name);
    ASSERT_NE(r, nullptr) << name;
    EXPECT_EQ(r->type, w.type);
    EXPECT_EQ(r->shape, w.shape);
    EXPECT_EQ(std::memcmp(r->data.data, w.data.data, w.data.size), 0);
  }
  EXPECT_EQ(back->g.inputs[0].shape[1].symbol, "n");
}

// Evaluates the written W.q / W.scale / W.zero_point / DequantizeLinear [/ Reshape] by the ONNX formula.
std::vector<float> evaluate_dql(const onnx::ModelProto& mp, const std::vector<int64_t>& shape) {
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : mp.graph().initializer()) inits[t.name()] = &t;
  const onnx::NodeProto* dq = nullptr;
  for (const auto& n : mp.graph().node())
    if (n.op_type() == "DequantizeLinear") dq = &n;
  EXPECT_NE(dq, nullptr);
  if (dq == nullptr) return {};
  const auto& x = *inits.at(dq->input(0));
  const auto& scale = *inits.at("w.scale");
  const auto& zp = *inits.at(dq->input(2));
  EXPECT_EQ(x.data_type(), zp.data_type());
  int64_t axis = 1, block = 0;
  for (const auto& a : dq->attribute()) {
    if (a.name() == "axis") axis = a.i();
    if (a.name() == "block_size") block = a.i();
  }
  const int64_t d0 = x.dims(0), d1 = x.dims(1);
  auto code = [&](const onnx::TensorProto& t, int64_t i) -> int {
    const auto* raw = reinterpret_cast<const uint8_t*>(t.raw_data().data());
    return t.data_type() == 21 ? (raw[i / 2] >> (4 * (i % 2))) & 15 : raw[i];
  };
  const auto* sc = reinterpret_cast<const uint16_t*>(scale.raw_data().data());
  std::vector<float> out(static_cast<size_t>(d0 * d1));
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j) {
      int64_t si;
      if (block == 0) si = axis == 0 ? i : j;  // per-axis
      else si = axis == 0 ? (i / block) * d1 + j : i * scale.dims(1) + j / block;
      out[static_cast<size_t>(i * d1 + j)] = static_cast<float>(code(x, i * d1 + j) - code(zp, si)) * f16_to_f32(sc[si]);
    }
  (void)shape;
  return out;
}

struct quant_case {
  std::vector<int64_t> shape;
  int bits;
  int64_t group;
  bool symmetric;
  int64_t col_axis;
  bool transposed;
};

TEST(OnnxWriter, QuantizedWeightsDecodeExactlyLikeTheReferenceDecoder) {
  const std::vector<quant_case> cases{
      {{40, 70}, 4, 32, true, -1, false},   {{40, 70}, 4, 32, false, -1, false}, {{40, 70}, 3, 16, false, -1, false},
      {{40, 70}, 8, 0, true, -1, false},    {{70, 40}, 4, 32, true, -1, true},   {{70, 40}, 8, 0, false, -1, true},
      {{70, 41}, 2, 32, false, -1, true},   {{6, 5, 3, 3}, 4, 32, true, 1, false}, {{2, 12, 33}, 5, 8, true, -1, false},
      {{9, 7}, 6, 64, false, -1, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(shape_to_string(c.shape) + " bits " + std::to_string(c.bits) + " g" + std::to_string(c.group) + (c.transposed ? " T" : ""));
    quantize_rtn_options options;
    options.encoding.bits = c.bits;
    options.encoding.group_size = c.group;
    options.encoding.symmetric = c.symmetric;
    options.encoding.col_axis = c.col_axis;
    options.encoding.transposed = c.transposed;
    auto q = quantize_tensor_rtn(random_weight(c.shape, 7), options, nullptr);
    ASSERT_TRUE(q.ok()) << q.status().message();
    const model m = one_node_model(c.transposed ? "MatMul" : "Gemm", *q, 13);
    onnx_write_stats stats;
    auto bytes = serialize_onnx(m, {}, &stats);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    EXPECT_EQ(stats.opset_out, 21);
    EXPECT_EQ(stats.quantized_weights, 1);
    onnx::ModelProto mp;
    ASSERT_TRUE(mp.ParseFromString(*bytes));
    EXPECT_EQ(mp.ir_version(), 10);
    const std::vector<float> onnx_values = evaluate_dql(mp, c.shape);
    // Reference: our decoder, in the tensor's own element order.
    const auto view = quant_view_of(q->shape, q->quant);
    std::vector<float> rows(static_cast<size_t>(view.rows * view.cols));
    dequantize_rows(*q, 0, view.rows, rows.data());
    ASSERT_EQ(onnx_values.size(), rows.size());
    for (int64_t r = 0; r < view.rows; ++r)
      for (int64_t col = 0; col < view.cols; ++col) {
        // The ONNX x is [rows, cols] (default/col_axis) or the tensor's [K, N] = [cols, rows] (transposed).
        const size_t o = static_cast<size_t>(c.transposed ? col * view.rows + r : r * view.cols + col);
        ASSERT_EQ(onnx_values[o], rows[static_cast<size_t>(r * view.cols + col)]) << r << "," << col;
      }
    // Shape restored: a Reshape exactly when the tensor is not the 2-D view.
    bool has_reshape = false;
    for (const auto& n : mp.graph().node()) has_reshape = has_reshape || n.op_type() == "Reshape";
    EXPECT_EQ(has_reshape, !c.transposed && c.shape.size() != 2);
  }
}

TEST(OnnxOpsetUpgrade, AttributesBecomeInputsAndSoftmaxKeepsItsOldMeaning) {
  graph g;
  g.opset_imports = {{"", 9}};
  g.inputs.push_back({"x", dtype::f32, {}});
  g.outputs.push_back({"s", dtype::f32, {}});
  g.nodes.push_back({"clip", "Clip", "", {"x"}, {"c"}, {{"min", 0.0}, {"max", 6.0}}});
  g.nodes.push_back({"sq", "Unsqueeze", "", {"c"}, {"u"}, {{"axes", std::vector<int64_t>{0}}}});
  g.nodes.push_back({"rm", "ReduceMean", "", {"u"}, {"m"}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}}});
  g.nodes.push_back({"sm", "Softmax", "", {"m"}, {"s"}, {{"axis", int64_t{2}}}});
  ASSERT_TRUE(upgrade_opset(g, 21).ok());
  EXPECT_EQ(g.opset_imports.at(""), 21);
  ASSERT_EQ(g.nodes.size(), 7u);
  EXPECT_EQ(g.nodes[0].inputs.size(), 3u);
  EXPECT_TRUE(g.nodes[0].attributes.empty());
  EXPECT_EQ(g.find_weight(g.nodes[0].inputs[2])->data_as<float>()[0], 6.0f);
  EXPECT_EQ(g.find_weight(g.nodes[1].inputs[1])->data_as<int64_t>()[0], 0);
  EXPECT_EQ(g.nodes[2].inputs.size(), 2u);
  EXPECT_EQ(g.nodes[3].op_type, "Flatten");
  EXPECT_EQ(g.nodes[4].op_type, "Softmax");
  EXPECT_EQ(g.nodes[6].op_type, "Reshape");
  EXPECT_EQ(g.nodes[6].outputs[0], "s");
  EXPECT_TRUE(g.validate().ok());
}

TEST(OnnxOpsetUpgrade, RefusesOpsWithoutARuleAndLeavesTheGraphAlone) {
  graph g;
  g.opset_imports = {{"", 9}};
  g.inputs.push_back({"x", dtype::f32, {}});
  g.outputs.push_back({"y", dtype::f32, {}});
  g.nodes.push_back({"sc", "Scatter", "", {"x"}, {"y"}, {}});
  const graph before = g;
  const Status s = upgrade_opset(g, 21);
  EXPECT_EQ(s.code(), error_code::bad_input);
  EXPECT_NE(s.message().find("node 'sc' (Scatter): cannot upgrade from ai.onnx opset 9 to 21"), std::string::npos) << s.message();
  EXPECT_EQ(g.opset_imports.at(""), 9);
  EXPECT_EQ(g.nodes.size(), before.nodes.size());
}

}  // namespace
}  // namespace edgepack::testing

// ONNX reader: small ModelProtos built with libonnx's classes (correct: IR contents, every
// initializer form, Constant -> weight, attributes, external data) and the real models in ../shared
// (e2e). Bad inputs are in onnx_reader_error_test.cpp, hostile bytes in tests/fuzz/onnx_fuzz.cpp.
#include "formats/onnx_reader.h"

#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "formats/model_loader.h"
#include "tests/formats/onnx_test_model.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using namespace onnx_test;
using testing::temp_dir;

// ---- correct ----

TEST(OnnxReader, GraphInputsOutputsNodesAndOpsets) {
  auto mp = add_model();
  auto* op = mp.add_opset_import();
  op->set_domain("com.microsoft");
  op->set_version(1);
  mp.mutable_opset_import(0)->set_domain("ai.onnx");
  add_value(mp.mutable_graph()->mutable_input(), "w", T::FLOAT, {"3"});  // an initializer: not a graph input in the IR
  auto* out = mp.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  out->mutable_dim(1)->clear_dim_value();  // unknown
  auto result = parse(mp);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const graph& g = result->g;
  EXPECT_EQ(result->format, "onnx");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].name, "x");
  ASSERT_EQ(g.inputs[0].shape.size(), 2u);
  EXPECT_EQ(g.inputs[0].shape[0].symbol, "batch");
  EXPECT_EQ(g.inputs[0].shape[0].value, -1);
  EXPECT_EQ(g.inputs[0].shape[1].value, 3);
  EXPECT_EQ(g.outputs[0].shape[1].value, -1);
  EXPECT_EQ(g.outputs[0].shape[1].symbol, "");
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].name, "op_0");
  EXPECT_EQ(g.nodes[0].op_type, "Add");
  EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"x", "w"}));
  EXPECT_EQ(g.opset_imports, (std::map<std::string, int64_t>{{"", 17}, {"com.microsoft", 1}}));
  EXPECT_EQ(values_of<float>(g.weights.at("w")), (std::vector<float>{1, 2, 3}));
}

TEST(OnnxReader, EveryInitializerForm) {
  auto mp = add_model();
  auto* g = mp.mutable_graph();
  auto add = [&](const std::string& name, int type, std::vector<int64_t> dims) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    return t;
  };
  const float raw_f32[2] = {1.5f, -2.0f};
  add("raw_f32", T::FLOAT, {2})->set_raw_data(std::string(reinterpret_cast<const char*>(raw_f32), sizeof raw_f32));
  auto* h = add("f16_int32", T::FLOAT16, {2});
  h->add_int32_data(f32_to_f16(0.5f));
  h->add_int32_data(f32_to_f16(-3.0f));
  const uint16_t raw_h[2] = {f32_to_f16(2.0f), f32_to_f16(0.25f)};
  add("f16_raw", T::FLOAT16, {2})->set_raw_data(std::string(reinterpret_cast<const char*>(raw_h), sizeof raw_h));
  add("bf16", T::BFLOAT16, {1})->add_int32_data(f32_to_bf16(7.0f));
  auto* i8 = add("i8", T::INT8, {2});
  i8->add_int32_data(-128);
  i8->add_int32_data(127);
  add("u8", T::UINT8, {1})->add_int32_data(255);
  add("i16", T::INT16, {1})->add_int32_data(-30000);
  add("u16", T::UINT16, {1})->add_int32_data(65535);
  auto* b = add("bool", T::BOOL, {2});
  b->add_int32_data(0);
  b->add_int32_data(1);
  add("i32", T::INT32, {1})->add_int32_data(-5);
  add("i64", T::INT64, {1})->add_int64_data(int64_t{1} << 40);
  add("f64", T::DOUBLE, {1})->add_double_data(0.125);
  add("u32", T::UINT32, {1})->add_uint64_data(4000000000u);
  add("u64", T::UINT64, {1})->add_uint64_data(uint64_t{1} << 63);
  add("empty", T::FLOAT, {0, 4});
  add("scalar", T::FLOAT, {})->add_float_data(9.0f);
  auto result = parse(mp);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const auto& w = result->g.weights;
  EXPECT_EQ(values_of<float>(w.at("raw_f32")), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(w.at("f16_int32").type, dtype::f16);
  EXPECT_EQ(*to_float_vector(w.at("f16_int32")), (std::vector<float>{0.5f, -3.0f}));
  EXPECT_EQ(*to_float_vector(w.at("f16_raw")), (std::vector<float>{2.0f, 0.25f}));
  EXPECT_EQ(*to_float_vector(w.at("bf16")), (std::vector<float>{7.0f}));
  EXPECT_EQ(values_of<int8_t>(w.at("i8")), (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(values_of<uint8_t>(w.at("u8")), (std::vector<uint8_t>{255}));
  EXPECT_EQ(values_of<int16_t>(w.at("i16")), (std::vector<int16_t>{-30000}));
  EXPECT_EQ(values_of<uint16_t>(w.at("u16")), (std::vector<uint16_t>{65535}));
  EXPECT_EQ(w.at("bool").type, dtype::boolean);
  EXPECT_EQ(values_of<uint8_t>(w.at("bool")), (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(values_of<int32_t>(w.at("i32")), (std::vector<int32_t>{-5}));
  EXPECT_EQ(values_of<int64_t>(w.at("i64")), (std::vector<int64_t>{int64_t{1} << 40}));
  EXPECT_EQ(values_of<double>(w.at("f64")), (std::vector<double>{0.125}));
  EXPECT_EQ(values_of<uint32_t>(w.at("u32")), (std::vector<uint32_t>{4000000000u}));
  EXPECT_EQ(values_of<uint64_t>(w.at("u64")), (std::vector<uint64_t>{uint64_t{1} << 63}));
  EXPECT_EQ(w.at("empty").shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(w.at("empty").data.size, 0u);
  EXPECT_TRUE(w.at("scalar").shape.empty());
  EXPECT_EQ(values_of<float>(w.at("scalar")), (std::vector<float>{9.0f}));
}

TEST(OnnxReader, ConstantNodesBecomeWeights) {
  auto mp = add_model();
  auto* g = mp.mutable_graph();
  g->mutable_node(0)->set_input(1, "c");
  g->mutable_initializer()->Clear();
  auto* c = add_node(g, "Constant", {}, {"c"}, "const_w");
  g->mutable_node()->SwapElements(0, 1);  // Constant first, as exporters write it
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(T::FLOAT);
  t->add_dims(3);
  for (float v : {4.f, 5.f, 6.f}) t->add_float_data(v);
  auto* s = add_node(g, "Constant", {}, {"k"});
  auto* sa = s->add_attribute();
  sa->set_name("value_ints");
  sa->set_type(onnx::AttributeProto::INTS);
  sa->add_ints(2);
  sa->add_ints(-1);
  add_value(g->mutable_output(), "k", T::INT64, {"2"});
  auto result = parse(mp);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const graph& ir = result->g;
  ASSERT_EQ(ir.nodes.size(), 1u);  // both Constants are gone
  EXPECT_EQ(ir.nodes[0].op_type, "Add");
  EXPECT_EQ(ir.nodes[0].name, "op_1");  // generated names count the file's nodes
  EXPECT_EQ(values_of<float>(ir.weights.at("c")), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(values_of<int64_t>(ir.weights.at("k")), (std::vector<int64_t>{2, -1}));
}

TEST(OnnxReader, Attributes) {
  auto mp = add_model();
  auto* n = mp.mutable_graph()->mutable_node(0);
  n->set_name("add");
  using A = onnx::AttributeProto;
  auto attr = [&](const std::string& name, A::AttributeType type) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  };
  attr("i", A::INT)->set_i(-7);
  attr("f", A::FLOAT)->set_f(0.5f);
  attr("s", A::STRING)->set_s("NOTSET");
  auto* ints = attr("ints", A::INTS);
  ints->add_ints(1);
  ints->add_ints(2);
  auto* floats = attr("floats", A::FLOATS);
  floats->add_floats(0.25f);
  attr("legacy", A::UNDEFINED)->set_i(3);  // IR v1-2 exporters leave the type unset
  auto result = parse(mp);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const node& ir = result->g.nodes[0];
  EXPECT_EQ(ir.int_attr("i", 0), -7);
  EXPECT_EQ(ir.float_attr("f", 0), 0.5);
  EXPECT_EQ(std::get<std::string>(ir.attributes.at("s")), "NOTSET");
  EXPECT_EQ(ir.ints_attr("ints"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(std::get<std::vector<double>>(ir.attributes.at("floats")), (std::vector<double>{0.25}));
  EXPECT_EQ(ir.int_attr("legacy", 0), 3);
}

TEST(OnnxReader, OneElementTensorAttributeBecomesScalar) {
  auto mp = add_model();
  auto* g = mp.mutable_graph();
  auto add_cos = [&](const std::string& out, int type) {
    auto* n = add_node(g, "ConstantOfShape", {"shape"}, {out}, out);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(type);
    a->mutable_t()->add_dims(1);
    return a->mutable_t();
  };
  auto* shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(T::INT64);
  shape->add_dims(1);
  shape->add_int64_data(2);
  add_cos("ones_i64", T::INT64)->add_int64_data(1);
  add_cos("half_f16", T::FLOAT16)->add_int32_data(f32_to_f16(0.5f));
  add_cos("many", T::FLOAT)->add_float_data(1);
  g->mutable_node(3)->mutable_attribute(0)->mutable_t()->set_dims(0, 2);
  g->mutable_node(3)->mutable_attribute(0)->mutable_t()->add_float_data(2);
  expect_bad(parse(mp), "node 'many' (ConstantOfShape) attribute 'value': tensor attributes with 2 elements are not supported yet");
  g->mutable_node()->RemoveLast();
  auto result = parse(mp);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(std::get<int64_t>(result->g.nodes[1].attributes.at("value")), 1);
  EXPECT_EQ(std::get<double>(result->g.nodes[2].attributes.at("value")), 0.5);
}

TEST(OnnxReader, LoaderDetectsOnnxByExtensionAndContent) {
  temp_dir dir;
  const auto path = write_model(dir / "m.onnx", add_model());
  auto loaded = load_model(path, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->format, "onnx");
  ASSERT_EQ(loaded->sources.size(), 1u);
  EXPECT_EQ(loaded->sources[0].path, path);
  EXPECT_EQ(loaded->sources[0].bytes, fs::file_size(path));
  auto sniffed = detect_model_format(write_model(dir / "model.pb", add_model()));
  ASSERT_TRUE(sniffed.ok()) << sniffed.status().message();
  EXPECT_EQ(*sniffed, model_format::onnx);
}

TEST(OnnxReader, ExternalDataIsMappedZeroCopyWhenAligned) {
  temp_dir dir;
  fs::create_directories(dir / "data");
  write_weights(dir / "data" / "weights.bin", 16);
  auto result = read_onnx(write_model(dir / "m.onnx", external_model("data/weights.bin", 16, 12)));
  ASSERT_TRUE(result.ok()) << result.status().message();
  const tensor& w = result->g.weights.at("w");
  EXPECT_EQ(values_of<float>(w), (std::vector<float>{7, 8, 9}));
  EXPECT_NE(dynamic_cast<const mapped_file*>(w.data.owner.get()), nullptr);
  // An odd offset cannot be read as floats in place: the reader copies into aligned memory.
  write_weights(dir / "odd.bin", 3);
  auto odd = read_onnx(write_model(dir / "m2.onnx", external_model("odd.bin", 3, 12)));
  ASSERT_TRUE(odd.ok()) << odd.status().message();
  EXPECT_EQ(values_of<float>(odd->g.weights.at("w")), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(odd->g.weights.at("w").data.data) % alignof(float), 0u);
}

// ---- e2e on the real models ----

// Prints the op histogram (useful to whoever writes kernels) and returns it.
std::map<std::string, int> op_counts(const model& m, const std::string& label) {
  std::map<std::string, int> counts;
  for (const auto& n : m.g.nodes) ++counts[n.domain.empty() ? n.op_type : n.domain + ":" + n.op_type];
  std::cout << label << ": " << m.g.nodes.size() << " nodes, " << m.g.weights.size() << " weights, opset "
            << m.g.opset_imports.at("") << "; ops:";
  for (const auto& [op, count] : counts) std::cout << " " << op << "=" << count;
  std::cout << "\n";
  return counts;
}

TEST(OnnxReaderE2e, Mnist8) {
  EP_REQUIRE_SHARED();
  auto m = read_onnx((testing::shared_dir() / "models/mnist-8/mnist-8.onnx").string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto ops = op_counts(*m, "mnist-8");
  EXPECT_EQ(ops["Conv"], 2);
  ASSERT_EQ(m->g.inputs.size(), 1u);
  EXPECT_EQ(m->g.inputs[0].shape.size(), 4u);
  EXPECT_EQ(m->g.outputs.size(), 1u);
}

TEST(OnnxReaderE2e, PaddleOcrWeightsComeFromConstantNodes) {
  EP_REQUIRE_SHARED();
  for (const char* name : {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx"}) {
    auto m = read_onnx((testing::shared_dir() / "models/paddleocr" / name).string());
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto ops = op_counts(*m, name);
    EXPECT_EQ(ops.count("Constant"), 0u);
    EXPECT_GT(ops["Conv"], 10);
    // Every Conv weight must be a weight now (PaddleOCR exports have zero initializers).
    for (const auto& n : m->g.nodes) {
      if (n.op_type == "Conv") {
        EXPECT_NE(m->g.find_weight(n.inputs[1]), nullptr) << name << " " << n.name;
      }
    }
  }
}

TEST(OnnxReaderE2e, Stories260K) {
  EP_REQUIRE_SHARED();
  auto m = read_onnx((testing::shared_dir() / "models/stories260K-hf/stories260K.onnx").string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto ops = op_counts(*m, "stories260K.onnx");
  EXPECT_FALSE(m->g.weights.empty());
  // ConstantOfShape values arrive as scalars; which kind matters to the kernel's output dtype.
  int ints = 0, floats = 0;
  for (const auto& n : m->g.nodes) {
    if (n.op_type != "ConstantOfShape" || !n.attributes.count("value")) continue;
    (std::holds_alternative<int64_t>(n.attributes.at("value")) ? ints : floats) += 1;
  }
  std::cout << "stories260K.onnx ConstantOfShape values: " << ints << " int64, " << floats << " double\n";
  EXPECT_EQ(ints + floats, ops["ConstantOfShape"]);
}

TEST(OnnxReaderE2e, SileroVadReadsSubgraphs) {
  EP_REQUIRE_SHARED();
  auto m = read_onnx((testing::shared_dir() / "models/silero-vad/silero_vad_legacy.onnx").string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  int ifs = 0;
  for (const auto& n : m->g.nodes) {
    if (n.op_type != "If") continue;
    ++ifs;
    ASSERT_NE(n.graph_attr("then_branch"), nullptr);
    ASSERT_NE(n.graph_attr("else_branch"), nullptr);
    EXPECT_TRUE(n.graph_attr("then_branch")->weights.empty()) << "subgraph weights are hoisted";
  }
  EXPECT_GT(ifs, 0);
}

}  // namespace
}  // namespace edgepack

// ONNX reader errors: one test per bad input, each refused as bad_input with a message naming the
// tensor or node (DESIGN.md §4.4, issue 4 item 7).
#include "formats/onnx_reader.h"

#include <cstring>
#include <filesystem>

#include "tests/formats/onnx_test_model.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using namespace onnx_test;
using testing::temp_dir;

// ---- error: each bad input is refused with a message naming the tensor or node ----

TEST(OnnxReaderError, MalformedProtobuf) {
  const std::string bytes = "\x08\x07\x3a\x40truncated graph";
  expect_bad(read_onnx_from_memory(std::as_bytes(std::span(bytes.data(), bytes.size())), "bad.onnx", ""), "bad.onnx: not a valid ONNX model");
}

TEST(OnnxReaderError, DuplicateInitializer) {
  auto mp = add_model();
  add_f32(mp.mutable_graph(), "w", {3}, {1, 2, 3});
  expect_bad(parse(mp), "initializer 'w' is defined twice");
}

TEST(OnnxReaderError, MissingInitializerMeansNoProducer) {
  auto mp = add_model();
  mp.mutable_graph()->mutable_node(0)->set_name("adder");
  mp.mutable_graph()->mutable_initializer()->Clear();
  expect_bad(parse(mp), "node 'adder' (Add) reads 'w', which nothing produces");
}

TEST(OnnxReaderError, Cycle) {
  auto mp = add_model();
  auto* g = mp.mutable_graph();
  add_node(g, "Relu", {"b"}, {"a"}, "first");
  add_node(g, "Relu", {"a"}, {"b"}, "second");
  expect_bad(parse(mp), "node 'first' (Relu) reads 'b', which node 'second' (Relu) produces later: the nodes form a cycle");
}

TEST(OnnxReaderError, RawDataSizeMismatch) {
  auto mp = add_model();
  auto* t = mp.mutable_graph()->mutable_initializer(0);
  t->clear_float_data();
  t->set_raw_data(std::string(11, '\0'));
  expect_bad(parse(mp), "initializer 'w': raw_data has 11 bytes but dims [3] of F32 need 12");
}

TEST(OnnxReaderError, TypedDataCountMismatch) {
  auto mp = add_model();
  mp.mutable_graph()->mutable_initializer(0)->add_float_data(4);
  expect_bad(parse(mp), "initializer 'w': float_data holds 4 values but dims [3] need 3");
}

TEST(OnnxReaderError, DimsOverflow) {
  auto mp = add_model();
  auto* t = mp.mutable_graph()->mutable_initializer(0);
  t->add_dims(int64_t{1} << 40);
  t->add_dims(int64_t{1} << 40);
  expect_bad(parse(mp), "initializer 'w': dims [3, 1099511627776, 1099511627776] have an element count that overflows");
}

TEST(OnnxReaderError, NegativeDims) {
  auto mp = add_model();
  mp.mutable_graph()->mutable_initializer(0)->set_dims(0, -3);
  expect_bad(parse(mp), "initializer 'w': negative dimension");
}

TEST(OnnxReaderError, GraphInputDisagreesWithInitializer) {
  auto mp = add_model();
  add_value(mp.mutable_graph()->mutable_input(), "w", T::FLOAT, {"4"});
  expect_bad(parse(mp), "graph input 'w': declared shape [4] does not match its initializer's shape [3]");
  auto typed = add_model();
  add_value(typed.mutable_graph()->mutable_input(), "w", T::INT64, {"3"});
  expect_bad(parse(typed), "graph input 'w': declared as INT64 (ONNX type 7) but its initializer is F32");
}

TEST(OnnxReaderError, IfWithoutElseBranch) {
  auto mp = add_model();
  auto* n = add_node(mp.mutable_graph(), "If", {"x"}, {"z"}, "branch");
  auto* a = n->add_attribute();
  a->set_name("then_branch");
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name("then");
  // A well-formed then branch (one output, as the node has), so the missing else is what fails.
  add_node(a->mutable_g(), "Identity", {"x"}, {"t"}, "then_identity");
  auto* out = a->mutable_g()->add_output();
  out->set_name("t");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  expect_bad(parse(mp), "node 'branch' (If): has no subgraph attribute 'else_branch'");
}

TEST(OnnxReaderError, OpsetOutsideRange) {
  expect_bad(parse(base_model(6)), "ai.onnx opset 6 is outside the supported range 7-23");
  auto mp = add_model();
  mp.mutable_opset_import(0)->set_domain("ai.onnx.ml");
  expect_bad(parse(mp), "the model imports no ai.onnx opset");
}

TEST(OnnxReaderError, UnsupportedTensorType) {
  auto mp = add_model();
  mp.mutable_graph()->mutable_initializer(0)->set_data_type(T::STRING);
  expect_bad(parse(mp), "initializer 'w': data type STRING (ONNX type 8) is not supported");
}

TEST(OnnxReaderError, ExternalDataAbsolutePath) {
  temp_dir dir;
  write_weights(dir / "w.bin", 0);
  expect_bad(read_onnx(write_model(dir / "m.onnx", external_model((dir / "w.bin").string(), 0))), "is an absolute path");
}

TEST(OnnxReaderError, ExternalDataDotDot) {
  temp_dir dir;
  fs::create_directories(dir / "model");
  write_weights(dir / "w.bin", 0);
  expect_bad(read_onnx(write_model(dir / "model" / "m.onnx", external_model("../w.bin", 0))), "initializer 'w': external data location '../w.bin' contains '..'");
}

TEST(OnnxReaderError, ExternalDataSymlinkOut) {
  temp_dir dir;
  fs::create_directories(dir / "model");
  write_weights(dir / "outside.bin", 0);
  fs::create_symlink(dir / "outside.bin", dir / "model" / "w.bin");
  expect_bad(read_onnx(write_model(dir / "model" / "m.onnx", external_model("w.bin", 0))), "outside the model's directory");
}

TEST(OnnxReaderError, ExternalDataOutOfBounds) {
  temp_dir dir;
  write_weights(dir / "w.bin", 0);  // 17 bytes
  expect_bad(read_onnx(write_model(dir / "a.onnx", external_model("w.bin", 100))), "external data offset 100 is beyond the end of 'w.bin' (17 bytes)");
  expect_bad(read_onnx(write_model(dir / "b.onnx", external_model("w.bin", 8, 12))), "external data range [8, +12) is beyond the end");
  expect_bad(read_onnx(write_model(dir / "c.onnx", external_model("w.bin", 0, 16))), "external data length 16 does not match dims [3]");
  expect_bad(read_onnx(write_model(dir / "d.onnx", external_model("missing.bin", 0))), "initializer 'w': external data");
}

TEST(OnnxReaderError, ExternalDataRefusedFromMemory) { expect_bad(parse(external_model("w.bin", 0)), "external data is not allowed"); }

}  // namespace
}  // namespace edgepack

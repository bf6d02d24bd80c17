// Builders for small ModelProtos shared by the ONNX reader tests: a valid x + w -> y graph that
// each test breaks in one way, and helpers to parse, write and check errors.
#pragma once
#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "formats/onnx_reader.h"
#include "formats/onnx_tensor.h"
#include "tests/test_support.h"

namespace edgepack::onnx_test {

namespace fs = std::filesystem;
using T = onnx::TensorProto;
using testing::write_file;

inline onnx::ModelProto base_model(int64_t opset = 17) {
  onnx::ModelProto mp;
  mp.set_ir_version(8);
  auto* op = mp.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  return mp;
}

// dims: a number is a fixed size, "?" an unknown dim, anything else a symbol.
inline void add_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name, int elem,
               const std::vector<std::string>& dims) {
  auto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (d == "?") continue;
    if (std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
}

inline onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
                          const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return n;
}

inline T* add_f32(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims, std::vector<float> values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(T::FLOAT);
  for (auto d : dims) t->add_dims(d);
  for (auto v : values) t->add_float_data(v);
  return t;
}

// x[batch, 3] + w[3] -> y: the smallest useful valid graph, which tests then break in one way each.
inline onnx::ModelProto add_model() {
  auto mp = base_model();
  auto* g = mp.mutable_graph();
  add_value(g->mutable_input(), "x", T::FLOAT, {"batch", "3"});
  add_value(g->mutable_output(), "y", T::FLOAT, {"batch", "3"});
  add_f32(g, "w", {3}, {1, 2, 3});
  add_node(g, "Add", {"x", "w"}, {"y"});
  return mp;
}

inline Expected<model> parse(const onnx::ModelProto& mp) {
  const std::string bytes = mp.SerializeAsString();
  return read_onnx_from_memory(std::as_bytes(std::span(bytes.data(), bytes.size())), "mem.onnx", "");
}

inline std::string write_model(const fs::path& path, const onnx::ModelProto& mp) {
  write_file(path, mp.SerializeAsString());
  return path.string();
}

inline void expect_bad(const Expected<model>& result, const std::string& needle) {
  ASSERT_FALSE(result.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(result.status().code(), error_code::bad_input);
  EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status().message();
}

template <class V>
inline std::vector<V> values_of(const tensor& t) {
  std::vector<V> out(static_cast<size_t>(t.numel()));
  std::memcpy(out.data(), t.data.data, t.data.size);
  return out;
}

// w lives in weights.bin at `offset`; the rest of the file is filler.
inline onnx::ModelProto external_model(const std::string& location, uint64_t offset, std::optional<uint64_t> length = std::nullopt) {
  auto mp = add_model();
  auto* t = mp.mutable_graph()->mutable_initializer(0);
  t->clear_float_data();
  t->set_data_location(T::EXTERNAL);
  auto kv = [&](const std::string& k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", location);
  kv("offset", std::to_string(offset));
  if (length) kv("length", std::to_string(*length));
  return mp;
}

inline void write_weights(const fs::path& path, uint64_t offset) {
  const float w[3] = {7, 8, 9};
  std::string bytes(offset, 'x');
  bytes.append(reinterpret_cast<const char*>(w), sizeof w);
  bytes.append(5, 'y');
  write_file(path, bytes);
}

}  // namespace edgepack::onnx_test

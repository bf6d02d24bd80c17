// ONNX node attributes and Constant values: the small conversions the reader needs per node.
#include "formats/onnx_attributes.h"

#include <cstring>
#include <vector>

namespace edgepack {
namespace {

// Old exporters (IR version 1-2) leave AttributeProto.type unset; infer it from the filled field.
onnx::AttributeProto_AttributeType attribute_type(const onnx::AttributeProto& a) {
  using A = onnx::AttributeProto;
  if (a.type() != A::UNDEFINED) return a.type();
  if (a.has_f()) return A::FLOAT;
  if (a.has_i()) return A::INT;
  if (a.has_s()) return A::STRING;
  if (a.has_t()) return A::TENSOR;
  if (a.has_g()) return A::GRAPH;
  if (a.floats_size()) return A::FLOATS;
  if (a.ints_size()) return A::INTS;
  if (a.strings_size()) return A::STRINGS;
  if (a.graphs_size()) return A::GRAPHS;
  return A::UNDEFINED;
}

// One-element TENSOR attributes (ConstantOfShape's `value`) become a scalar: int64 for integer and
// bool element types, double for float types, so kernels can tell the two apart by the variant.
// The exact width (i32 vs i64, f16 vs f32) is not kept: attribute_value has no tensor alternative yet.
Expected<attribute_value> scalar_tensor_attribute(const onnx::AttributeProto& a, const std::string& what, onnx_external_files& files) {
  EP_ASSIGN_OR_RETURN(tensor t, decode_onnx_tensor(a.t(), what, files));
  if (t.numel() != 1)
    return bad_input(what + ": tensor attributes with " + std::to_string(t.numel()) + " elements are not supported yet (only one-element values)");
  const std::byte* p = t.data.data;
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (t.type) {
    case dtype::f32: return attribute_value(static_cast<double>(load(float{})));
    case dtype::f64: return attribute_value(load(double{}));
    case dtype::f16: return attribute_value(static_cast<double>(f16_to_f32(load(uint16_t{}))));
    case dtype::bf16: return attribute_value(static_cast<double>(bf16_to_f32(load(uint16_t{}))));
    case dtype::i8: return attribute_value(int64_t{load(int8_t{})});
    case dtype::u8:
    case dtype::boolean: return attribute_value(int64_t{load(uint8_t{})});
    case dtype::i16: return attribute_value(int64_t{load(int16_t{})});
    case dtype::u16: return attribute_value(int64_t{load(uint16_t{})});
    case dtype::i32: return attribute_value(int64_t{load(int32_t{})});
    case dtype::u32: return attribute_value(int64_t{load(uint32_t{})});
    case dtype::i64: return attribute_value(load(int64_t{}));
    case dtype::u64: return attribute_value(static_cast<int64_t>(load(uint64_t{})));
    default: return bad_input(what + ": tensor attribute of type " + std::string(dtype_name(t.type)) + " is not supported");
  }
}

}  // namespace

bool is_graph_attribute(const onnx::AttributeProto& a) { return attribute_type(a) == onnx::AttributeProto::GRAPH; }

Expected<attribute_value> convert_attribute(const onnx::AttributeProto& a, const std::string& node_what, onnx_external_files& files) {
  using A = onnx::AttributeProto;
  const std::string what = node_what + " attribute '" + a.name() + "'";
  if (!a.ref_attr_name().empty()) return bad_input(what + ": attribute references (ONNX functions) are not supported");
  switch (attribute_type(a)) {
    case A::FLOAT: return attribute_value(static_cast<double>(a.f()));
    case A::INT: return attribute_value(a.i());
    case A::STRING: return attribute_value(a.s());
    case A::INTS: return attribute_value(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case A::FLOATS: return attribute_value(std::vector<double>(a.floats().begin(), a.floats().end()));
    case A::TENSOR: return scalar_tensor_attribute(a, what, files);
    case A::GRAPH: return bad_input(what + ": subgraph attributes are converted by the graph reader");
    case A::GRAPHS: return bad_input(what + ": lists of subgraphs (GRAPHS attributes) are not supported");
    case A::UNDEFINED: return bad_input(what + ": has no type and no value");
    default:
      return bad_input(what + ": attributes of type " + A::AttributeType_Name(attribute_type(a)) + " are not supported yet");
  }
}

// Constant's value as a weight. Besides `value` (a TensorProto), opset 12+ allows scalar and list
// shorthands; those become the 0-d / 1-d tensors ONNX defines them to be.
Expected<tensor> constant_value(const onnx::NodeProto& n, const std::string& what, onnx_external_files& files) {
  if (n.output_size() != 1 || n.output(0).empty()) return bad_input(what + ": a Constant must have exactly one output");
  if (n.attribute_size() != 1) return bad_input(what + ": a Constant must have exactly one value attribute, it has " + std::to_string(n.attribute_size()));
  const auto& a = n.attribute(0);
  const std::string& key = a.name();
  if (key == "value") {
    if (!a.has_t()) return bad_input(what + ": attribute 'value' holds no tensor");
    return decode_onnx_tensor(a.t(), what, files);
  }
  if (key == "value_float") return tensor::from_values<float>(dtype::f32, {}, std::vector<float>{a.f()});
  if (key == "value_int") return tensor::from_values<int64_t>(dtype::i64, {}, std::vector<int64_t>{a.i()});
  if (key == "value_floats") {
    const std::vector<float> values(a.floats().begin(), a.floats().end());
    return tensor::from_values<float>(dtype::f32, {static_cast<int64_t>(values.size())}, values);
  }
  if (key == "value_ints") {
    const std::vector<int64_t> values(a.ints().begin(), a.ints().end());
    return tensor::from_values<int64_t>(dtype::i64, {static_cast<int64_t>(values.size())}, values);
  }
  return bad_input(what + ": Constant attribute '" + key + "' is not supported");
}

}  // namespace edgepack

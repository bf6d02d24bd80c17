// ONNX reader: parse with libonnx's ModelProto, convert to the IR, check what the IR relies on.
// Tensor decoding (initializers, Constant values, external data) lives in onnx_tensor.cpp.
#include "formats/onnx_reader.h"

#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include "formats/onnx_tensor.h"

namespace edgepack {
namespace {

namespace fs = std::filesystem;

bool is_onnx_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::string elem_type_text(int id) {
  const std::string name = onnx::TensorProto_DataType_Name(id);
  return (name.empty() ? std::string("unknown") : name) + " (ONNX type " + std::to_string(id) + ")";
}

Expected<value_info> convert_value_info(const onnx::ValueInfoProto& v, const std::string& role) {
  if (v.name().empty()) return bad_input(role + " without a name");
  const std::string what = role + " '" + v.name() + "'";
  if (!v.has_type() || !v.type().has_tensor_type())
    return bad_input(what + ": only tensor types are supported (no sequences, maps or optionals)");
  const auto& tt = v.type().tensor_type();
  const auto type = dtype_from_onnx_id(tt.elem_type());
  if (!type) return bad_input(what + ": element type " + elem_type_text(tt.elem_type()) + " is not supported");
  value_info out;
  out.name = v.name();
  out.type = *type;
  // A missing shape (unknown rank) stays an empty list: the IR has no separate "rank unknown".
  if (tt.has_shape()) {
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) return bad_input(what + ": negative dimension " + std::to_string(d.dim_value()));
        out.shape.push_back({d.dim_value(), ""});
      } else {
        out.shape.push_back({-1, d.has_dim_param() ? d.dim_param() : std::string()});  // "" = unknown
      }
    }
  }
  return out;
}

// A graph input that is also an initializer (IR < 4 style, or an overridable default) must
// describe the same tensor, or the runtime would trust one and read the other.
Status check_input_matches_weight(const onnx::ValueInfoProto& v, const tensor& w) {
  const std::string what = "graph input '" + v.name() + "'";
  if (!v.has_type()) return Status::ok_status();
  if (!v.type().has_tensor_type()) return bad_input(what + ": has an initializer but is not declared as a tensor");
  const auto& tt = v.type().tensor_type();
  if (tt.elem_type() != 0 && tt.elem_type() != dtype_onnx_id(w.type))
    return bad_input(what + ": declared as " + elem_type_text(tt.elem_type()) + " but its initializer is " + std::string(dtype_name(w.type)));
  if (!tt.has_shape()) return Status::ok_status();
  const auto& dims = tt.shape().dim();
  bool same = dims.size() == static_cast<int>(w.shape.size());
  for (int i = 0; same && i < dims.size(); ++i) same = !dims[i].has_dim_value() || dims[i].dim_value() == w.shape[i];
  if (!same) {
    std::string declared = "[";
    for (int i = 0; i < dims.size(); ++i)
      declared += (i ? ", " : "") + (dims[i].has_dim_value() ? std::to_string(dims[i].dim_value()) : dims[i].dim_param());
    return bad_input(what + ": declared shape " + declared + "] does not match its initializer's shape " + shape_to_string(w.shape));
  }
  return Status::ok_status();
}

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
    case A::GRAPH:
    case A::GRAPHS: return bad_input("subgraphs (If/Loop) are not supported yet: " + what);
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

Status read_opsets(const onnx::ModelProto& mp, graph& g) {
  g.opset_imports.clear();
  for (const auto& op : mp.opset_import()) {
    const std::string domain = is_onnx_domain(op.domain()) ? std::string() : op.domain();
    if (!g.opset_imports.emplace(domain, op.version()).second)
      return bad_input("opset of domain '" + (domain.empty() ? std::string("ai.onnx") : domain) + "' is imported twice");
  }
  const auto it = g.opset_imports.find("");
  if (it == g.opset_imports.end()) return bad_input("the model imports no ai.onnx opset");
  if (it->second < onnx_min_opset || it->second > onnx_max_opset)
    return bad_input("ai.onnx opset " + std::to_string(it->second) + " is outside the supported range " + std::to_string(onnx_min_opset) + "-" +
                     std::to_string(onnx_max_opset));
  return Status::ok_status();
}

Status read_nodes(const onnx::GraphProto& gp, graph& g, onnx_external_files& files) {
  for (int i = 0; i < gp.node_size(); ++i) {
    const auto& np = gp.node(i);
    node n;
    n.name = np.name().empty() ? "op_" + std::to_string(i) : np.name();
    n.op_type = np.op_type();
    const std::string what = "node '" + n.name + "' (" + n.op_type + ")";
    if (n.op_type.empty()) return bad_input("node '" + n.name + "' has no op_type");
    if (is_onnx_domain(np.domain()) && n.op_type == "Constant") {
      EP_ASSIGN_OR_RETURN(tensor value, constant_value(np, what, files));
      if (!g.weights.emplace(np.output(0), std::move(value)).second)
        return bad_input(what + ": output '" + np.output(0) + "' has the same name as an initializer or another Constant");
      continue;
    }
    n.domain = is_onnx_domain(np.domain()) ? std::string() : np.domain();
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& a : np.attribute()) {
      EP_ASSIGN_OR_RETURN(attribute_value value, convert_attribute(a, what, files));
      if (!n.attributes.emplace(a.name(), std::move(value)).second) return bad_input(what + ": attribute '" + a.name() + "' appears twice");
    }
    g.nodes.push_back(std::move(n));
  }
  return Status::ok_status();
}

// ONNX requires nodes in topological order. validate() reports a read-before-write as "nothing
// produces"; when a later node does produce the value, say so, since that is a cycle or misordering.
Status check_topological_order(const graph& g) {
  std::unordered_map<std::string, size_t> producer;
  for (size_t j = 0; j < g.nodes.size(); ++j)
    for (const auto& out : g.nodes[j].outputs) producer.emplace(out, j);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& in : g.nodes[i].inputs) {
      const auto it = producer.find(in);
      if (in.empty() || it == producer.end() || it->second < i || g.weights.count(in)) continue;
      const node& later = g.nodes[it->second];
      return bad_input("node '" + g.nodes[i].name + "' (" + g.nodes[i].op_type + ") reads '" + in + "', which node '" + later.name + "' (" +
                       later.op_type + ") produces " + (it->second == i ? "itself" : "later") +
                       ": the nodes form a cycle or are not in topological order");
    }
  }
  return Status::ok_status();
}

Expected<model> convert(const onnx::ModelProto& mp, const std::string& base_dir) {
  model m;
  m.format = "onnx";
  graph& g = m.g;
  EP_RETURN_IF_ERROR(read_opsets(mp, g));
  if (!mp.has_graph()) return bad_input("the model has no graph");
  const auto& gp = mp.graph();
  if (gp.sparse_initializer_size() > 0) return bad_input("sparse initializer '" + gp.sparse_initializer(0).values().name() + "' is not supported");
  onnx_external_files files{base_dir, {}};
  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) return bad_input("an initializer has no name");
    const std::string what = "initializer '" + init.name() + "'";
    if (g.weights.count(init.name())) return bad_input(what + " is defined twice");
    EP_ASSIGN_OR_RETURN(tensor t, decode_onnx_tensor(init, what, files));
    g.weights.emplace(init.name(), std::move(t));
  }
  for (const auto& in : gp.input()) {
    if (const tensor* w = g.find_weight(in.name())) {
      EP_RETURN_IF_ERROR(check_input_matches_weight(in, *w));
      continue;  // an initializer, not something the caller feeds
    }
    EP_ASSIGN_OR_RETURN(value_info v, convert_value_info(in, "graph input"));
    g.inputs.push_back(std::move(v));
  }
  EP_RETURN_IF_ERROR(read_nodes(gp, g, files));
  for (const auto& out : gp.output()) {
    EP_ASSIGN_OR_RETURN(value_info v, convert_value_info(out, "graph output"));
    g.outputs.push_back(std::move(v));
  }
  EP_RETURN_IF_ERROR(check_topological_order(g));
  EP_RETURN_IF_ERROR(g.validate());
  return m;
}

}  // namespace

Expected<model> read_onnx_from_memory(std::span<const std::byte> bytes, const std::string& display_name, const std::string& base_dir) {
  if (bytes.size() > onnx_max_file_bytes)
    return bad_input(display_name + ": " + std::to_string(bytes.size()) +
                     " bytes is over protobuf's 2 GB limit; store the weights as ONNX external data");
  // The boundary of DESIGN.md §4.3: protobuf and the standard library may throw; nothing passes.
  try {
    onnx::ModelProto mp;
    if (!mp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      return bad_input(display_name + ": not a valid ONNX model (the protobuf ModelProto does not parse)");
    auto result = convert(mp, base_dir);
    if (!result.ok()) return result.status().with_context(display_name);
    return result;
  } catch (const std::bad_alloc&) {
    return bad_input(display_name + ": out of memory while reading the model");
  } catch (const std::length_error& e) {
    return bad_input(display_name + ": a size in the model is too large (" + e.what() + ")");
  } catch (const std::exception& e) {
    return internal_error(display_name + ": unexpected error while reading the model: " + e.what());
  } catch (...) {
    return internal_error(display_name + ": unexpected non-standard exception while reading the model");
  }
}

Expected<model> read_onnx(const std::string& path) {
  try {
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return bad_input(path + ": cannot read: " + ec.message());
    if (size > onnx_max_file_bytes)
      return bad_input(path + ": " + std::to_string(size) + " bytes is over protobuf's 2 GB limit; store the weights as ONNX external data");
    EP_ASSIGN_OR_RETURN(auto file, mapped_file::open(path));
    std::string base_dir = fs::path(path).parent_path().string();
    if (base_dir.empty()) base_dir = ".";
    EP_ASSIGN_OR_RETURN(model m, read_onnx_from_memory(std::span<const std::byte>(file->data(), file->size()), path, base_dir));
    m.sources.push_back({path, "", size});
    return m;
  } catch (const std::exception& e) {
    return internal_error(path + ": unexpected error while reading the model: " + e.what());
  }
}

}  // namespace edgepack

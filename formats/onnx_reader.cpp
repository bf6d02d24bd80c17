// ONNX reader: parse with libonnx's ModelProto, convert to the IR, check what the IR relies on.
// Tensor decoding (initializers, Constant values, external data) lives in onnx_tensor.cpp,
// attributes and Constant values in onnx_attributes.cpp.
#include "formats/onnx_reader.h"

#include <filesystem>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include "formats/onnx_attributes.h"
#include "formats/onnx_tensor.h"

namespace edgepack {
namespace {

namespace fs = std::filesystem;

bool is_onnx_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::string elem_type_text(int id) {
  const std::string name = onnx::TensorProto_DataType_Name(id);
  return (name.empty() ? std::string("unknown") : name) + " (ONNX type " + std::to_string(id) + ")";
}

// Subgraph inputs and outputs may leave their type out (ONNX infers it from the enclosing node);
// with `untyped_ok` such a value becomes f32 of unknown rank, which the runtime does not check.
Expected<value_info> convert_value_info(const onnx::ValueInfoProto& v, const std::string& role, bool untyped_ok = false) {
  if (v.name().empty()) return bad_input(role + " without a name");
  const std::string what = role + " '" + v.name() + "'";
  if (untyped_ok && (!v.has_type() || (v.type().has_tensor_type() && v.type().tensor_type().elem_type() == 0 && !v.type().tensor_type().has_shape()))) {
    value_info out;
    out.name = v.name();
    return out;
  }
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

Expected<graph> convert_graph(const onnx::GraphProto& gp, onnx_external_files& files, int depth);

// A GRAPH attribute: the subgraph, converted with the same rules as the main graph.
Expected<std::shared_ptr<const graph>> convert_subgraph(const onnx::AttributeProto& a, const std::string& what, onnx_external_files& files,
                                                        int depth) {
  if (depth > max_subgraph_depth)
    return bad_input(what + ": subgraphs nest deeper than " + std::to_string(max_subgraph_depth) + " levels");
  if (!a.has_g()) return bad_input(what + ": GRAPH attribute holds no graph");
  auto body = convert_graph(a.g(), files, depth);
  if (!body.ok()) return body.status().with_context(what);
  return std::shared_ptr<const graph>(std::make_shared<graph>(std::move(*body)));
}

Status read_nodes(const onnx::GraphProto& gp, graph& g, onnx_external_files& files, int depth) {
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
      attribute_value value;
      if (is_graph_attribute(a)) {
        EP_ASSIGN_OR_RETURN(value, convert_subgraph(a, what + " attribute '" + a.name() + "'", files, depth + 1));
      } else {
        EP_ASSIGN_OR_RETURN(value, convert_attribute(a, what, files));
      }
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
  // Values that exist before any node runs are validate()'s business (redefinition), not ordering.
  for (const auto& in : g.inputs) producer.erase(in.name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& in : g.nodes[i].inputs) {
      const auto it = producer.find(in);
      if (in.empty() || it == producer.end() || it->second < i || g.weights.count(in)) continue;
      const node& later = g.nodes[it->second];
      return bad_input("node '" + g.nodes[i].name + "' (" + g.nodes[i].op_type + ") reads '" + in + "', which node '" + later.name + "' (" +
                       later.op_type + ") produces " + (it->second == i ? "itself" : "later") +
                       ": the nodes form a cycle or are not in topological order");
    }
    // A body's outer-scope reads count as reads of the node that holds it.
    for (const auto& [key, value] : g.nodes[i].attributes) {
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr) continue;
      EP_RETURN_IF_ERROR(check_topological_order(**body).with_context("node '" + g.nodes[i].name + "' (" + g.nodes[i].op_type +
                                                                      ") attribute '" + key + "'"));
      for (const auto& in : (*body)->outer_references()) {
        const auto it = producer.find(in);
        if (it == producer.end() || it->second < i || g.weights.count(in)) continue;
        const node& later = g.nodes[it->second];
        return bad_input("node '" + g.nodes[i].name + "' (" + g.nodes[i].op_type + ") attribute '" + key + "' reads '" + in +
                         "', which node '" + later.name + "' (" + later.op_type + ") produces " + (it->second == i ? "itself" : "later") +
                         ": the nodes form a cycle or are not in topological order");
      }
    }
  }
  return Status::ok_status();
}

// One graph's initializers, inputs, nodes and outputs. depth 0 is the model's graph; subgraph
// inputs and outputs may be untyped.
Expected<graph> convert_graph(const onnx::GraphProto& gp, onnx_external_files& files, int depth) {
  graph g;
  if (gp.sparse_initializer_size() > 0) return bad_input("sparse initializer '" + gp.sparse_initializer(0).values().name() + "' is not supported");
  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) return bad_input("an initializer has no name");
    const std::string what = "initializer '" + init.name() + "'";
    if (g.weights.count(init.name())) return bad_input(what + " is defined twice");
    EP_ASSIGN_OR_RETURN(tensor t, decode_onnx_tensor(init, what, files));
    g.weights.emplace(init.name(), std::move(t));
  }
  const bool sub = depth > 0;
  for (const auto& in : gp.input()) {
    if (const tensor* w = g.find_weight(in.name())) {
      EP_RETURN_IF_ERROR(check_input_matches_weight(in, *w));
      continue;  // an initializer, not something the caller feeds
    }
    EP_ASSIGN_OR_RETURN(value_info v, convert_value_info(in, sub ? "subgraph input" : "graph input", sub));
    g.inputs.push_back(std::move(v));
  }
  EP_RETURN_IF_ERROR(read_nodes(gp, g, files, depth));
  for (const auto& out : gp.output()) {
    EP_ASSIGN_OR_RETURN(value_info v, convert_value_info(out, sub ? "subgraph output" : "graph output", sub));
    g.outputs.push_back(std::move(v));
  }
  return g;
}

Expected<model> convert(const onnx::ModelProto& mp, const std::string& base_dir) {
  model m;
  m.format = "onnx";
  EP_RETURN_IF_ERROR(read_opsets(mp, m.g));
  if (!mp.has_graph()) return bad_input("the model has no graph");
  onnx_external_files files{base_dir, {}};
  auto opsets = std::move(m.g.opset_imports);
  EP_ASSIGN_OR_RETURN(m.g, convert_graph(mp.graph(), files, 0));
  m.g.opset_imports = std::move(opsets);
  EP_RETURN_IF_ERROR(check_topological_order(m.g));
  EP_RETURN_IF_ERROR(m.g.validate());
  // Subgraph initializers and Constants join the model's weight table (see core/graph.h).
  EP_RETURN_IF_ERROR(hoist_subgraph_weights(m.g));
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

#include "formats/model_json.h"

#include "core/utf8.h"

namespace edgepack {

static ojson subgraph_to_json(const graph& g);
static Expected<std::shared_ptr<const graph>> subgraph_from_json(const ojson& j, const std::string& path, int depth);

// ---- attributes -------------------------------------------------------------------------------

ojson attribute_to_json(const attribute_value& value) {
  ojson out = ojson::object();
  if (auto* i = std::get_if<int64_t>(&value)) {
    out["type"] = "int";
    out["value"] = *i;
  } else if (auto* d = std::get_if<double>(&value)) {
    out["type"] = "float";
    out["value"] = double_to_json(*d);
  } else if (auto* s = std::get_if<std::string>(&value)) {
    out["type"] = "string";
    out["value"] = bytes_to_json(*s);  // ONNX string attributes are bytes
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    out["type"] = "ints";
    out["value"] = *is;
  } else if (auto* ds = std::get_if<std::vector<double>>(&value)) {
    ojson list = ojson::array();
    for (double v : *ds) list.push_back(double_to_json(v));
    out["type"] = "floats";
    out["value"] = std::move(list);
  } else {
    const auto& body = std::get<std::shared_ptr<const graph>>(value);
    out["type"] = "graph";
    out["value"] = body ? subgraph_to_json(*body) : ojson(nullptr);
  }
  return out;
}

Expected<attribute_value> attribute_from_json(const ojson& j, const std::string& path, int depth) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  EP_ASSIGN_OR_RETURN(std::string type, json_string_field(j, "type", path));
  EP_ASSIGN_OR_RETURN(const ojson* value, json_field(j, "value", path));
  const std::string value_path = json_path_join(path, "value");
  if (type == "int") {
    EP_ASSIGN_OR_RETURN(int64_t v, json_to_int(*value, value_path));
    return attribute_value(v);
  }
  if (type == "float") {
    EP_ASSIGN_OR_RETURN(double v, json_to_double(*value, value_path));
    return attribute_value(v);
  }
  if (type == "string") {
    EP_ASSIGN_OR_RETURN(std::string v, bytes_from_json(*value, value_path));
    return attribute_value(std::move(v));
  }
  if (type == "ints" || type == "floats") {
    EP_RETURN_IF_ERROR(json_expect_array(*value, value_path));
    std::vector<int64_t> ints;
    std::vector<double> floats;
    for (size_t i = 0; i < value->size(); ++i) {
      const std::string item_path = json_path_index(value_path, i);
      if (type == "ints") {
        EP_ASSIGN_OR_RETURN(int64_t v, json_to_int((*value)[i], item_path));
        ints.push_back(v);
      } else {
        EP_ASSIGN_OR_RETURN(double v, json_to_double((*value)[i], item_path));
        floats.push_back(v);
      }
    }
    if (type == "ints") return attribute_value(std::move(ints));
    return attribute_value(std::move(floats));
  }
  if (type == "graph") {
    EP_ASSIGN_OR_RETURN(std::shared_ptr<const graph> body, subgraph_from_json(*value, value_path, depth + 1));
    return attribute_value(std::move(body));
  }
  return bad_input(json_path_join(path, "type") + ": unknown attribute type '" + type +
                   "' (expected int, float, string, ints, floats or graph)");
}

// ---- value infos and nodes --------------------------------------------------------------------

ojson value_info_to_json(const value_info& info) {
  ojson dims = ojson::array();
  for (const dimension& d : info.shape) {
    if (d.value >= 0) dims.push_back(d.value);
    else if (!d.symbol.empty()) dims.push_back(d.symbol);
    else dims.push_back(nullptr);
  }
  ojson out = ojson::object();
  out["name"] = info.name;
  out["dtype"] = std::string(dtype_name(info.type));
  out["shape"] = std::move(dims);
  return out;
}

Expected<value_info> value_info_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  value_info info;
  EP_ASSIGN_OR_RETURN(info.name, json_string_field(j, "name", path));
  EP_ASSIGN_OR_RETURN(std::string type_name, json_string_field(j, "dtype", path));
  const auto type = dtype_from_name(type_name);
  if (!type) return bad_input(json_path_join(path, "dtype") + ": unknown dtype '" + type_name + "'");
  info.type = *type;
  EP_ASSIGN_OR_RETURN(const ojson* dims, json_field(j, "shape", path));
  const std::string dims_path = json_path_join(path, "shape");
  EP_RETURN_IF_ERROR(json_expect_array(*dims, dims_path));
  for (size_t i = 0; i < dims->size(); ++i) {
    const ojson& d = (*dims)[i];
    dimension dim;
    if (d.is_string()) {
      dim.symbol = d.get<std::string>();
    } else if (!d.is_null()) {
      EP_ASSIGN_OR_RETURN(uint64_t value, json_to_uint(d, json_path_index(dims_path, i)));
      if (value > static_cast<uint64_t>(INT64_MAX)) return bad_input(json_path_index(dims_path, i) + ": dimension out of range");
      dim.value = static_cast<int64_t>(value);
    }
    info.shape.push_back(std::move(dim));
  }
  return info;
}

static Expected<std::vector<std::string>> string_list(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_array(j, path));
  std::vector<std::string> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    EP_ASSIGN_OR_RETURN(std::string s, json_to_string(j[i], json_path_index(path, i)));
    out.push_back(std::move(s));
  }
  return out;
}

ojson node_to_json(const node& n) {
  ojson attributes = ojson::object();
  for (const auto& [key, value] : n.attributes) attributes[key] = attribute_to_json(value);
  ojson out = ojson::object();
  out["name"] = n.name;
  out["op_type"] = n.op_type;
  out["domain"] = n.domain;
  out["inputs"] = n.inputs;
  out["outputs"] = n.outputs;
  out["attributes"] = std::move(attributes);
  return out;
}

Expected<node> node_from_json(const ojson& j, const std::string& path, int depth) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  node n;
  EP_ASSIGN_OR_RETURN(n.name, json_string_field(j, "name", path));
  EP_ASSIGN_OR_RETURN(n.op_type, json_string_field(j, "op_type", path));
  EP_ASSIGN_OR_RETURN(n.domain, json_string_field(j, "domain", path));
  EP_ASSIGN_OR_RETURN(const ojson* inputs, json_field(j, "inputs", path));
  EP_ASSIGN_OR_RETURN(n.inputs, string_list(*inputs, json_path_join(path, "inputs")));
  EP_ASSIGN_OR_RETURN(const ojson* outputs, json_field(j, "outputs", path));
  EP_ASSIGN_OR_RETURN(n.outputs, string_list(*outputs, json_path_join(path, "outputs")));
  EP_ASSIGN_OR_RETURN(const ojson* attributes, json_field(j, "attributes", path));
  const std::string attributes_path = json_path_join(path, "attributes");
  EP_RETURN_IF_ERROR(json_expect_object(*attributes, attributes_path));
  for (const auto& [key, value] : attributes->items()) {
    // Duplicate keys cannot occur: the parser keeps one value per key.
    EP_ASSIGN_OR_RETURN(n.attributes[key], attribute_from_json(value, json_path_join(attributes_path, key), depth));
  }
  return n;
}

// ---- graph ------------------------------------------------------------------------------------

ojson graph_to_json(const graph& g) {
  ojson opsets = ojson::object();
  for (const auto& [domain, version] : g.opset_imports) opsets[domain] = version;
  ojson inputs = ojson::array(), outputs = ojson::array(), nodes = ojson::array();
  for (const auto& v : g.inputs) inputs.push_back(value_info_to_json(v));
  for (const auto& v : g.outputs) outputs.push_back(value_info_to_json(v));
  for (const auto& n : g.nodes) nodes.push_back(node_to_json(n));
  ojson out = ojson::object();
  out["opset_imports"] = std::move(opsets);
  out["inputs"] = std::move(inputs);
  out["outputs"] = std::move(outputs);
  out["nodes"] = std::move(nodes);
  return out;
}

static Status value_infos_from_json(const ojson& object, std::string_view key, const std::string& path,
                                    std::vector<value_info>& out) {
  EP_ASSIGN_OR_RETURN(const ojson* list, json_field(object, key, path));
  const std::string list_path = json_path_join(path, key);
  EP_RETURN_IF_ERROR(json_expect_array(*list, list_path));
  for (size_t i = 0; i < list->size(); ++i) {
    EP_ASSIGN_OR_RETURN(value_info info, value_info_from_json((*list)[i], json_path_index(list_path, i)));
    out.push_back(std::move(info));
  }
  return Status::ok_status();
}

// inputs, outputs and nodes: what the model's graph and a subgraph have in common.
static Status graph_body_from_json(const ojson& j, const std::string& path, int depth, graph& g) {
  EP_RETURN_IF_ERROR(value_infos_from_json(j, "inputs", path, g.inputs));
  EP_RETURN_IF_ERROR(value_infos_from_json(j, "outputs", path, g.outputs));
  EP_ASSIGN_OR_RETURN(const ojson* nodes, json_field(j, "nodes", path));
  const std::string nodes_path = json_path_join(path, "nodes");
  EP_RETURN_IF_ERROR(json_expect_array(*nodes, nodes_path));
  g.nodes.reserve(nodes->size());
  for (size_t i = 0; i < nodes->size(); ++i) {
    EP_ASSIGN_OR_RETURN(node n, node_from_json((*nodes)[i], json_path_index(nodes_path, i), depth));
    g.nodes.push_back(std::move(n));
  }
  return Status::ok_status();
}

Expected<graph> graph_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  graph g;
  g.opset_imports.clear();
  EP_ASSIGN_OR_RETURN(const ojson* opsets, json_field(j, "opset_imports", path));
  const std::string opsets_path = json_path_join(path, "opset_imports");
  EP_RETURN_IF_ERROR(json_expect_object(*opsets, opsets_path));
  for (const auto& [domain, version] : opsets->items()) {
    EP_ASSIGN_OR_RETURN(g.opset_imports[domain], json_to_int(version, json_path_join(opsets_path, domain)));
  }
  EP_RETURN_IF_ERROR(graph_body_from_json(j, path, 0, g));
  return g;
}

static ojson subgraph_to_json(const graph& g) {
  ojson inputs = ojson::array(), outputs = ojson::array(), nodes = ojson::array();
  for (const auto& v : g.inputs) inputs.push_back(value_info_to_json(v));
  for (const auto& v : g.outputs) outputs.push_back(value_info_to_json(v));
  for (const auto& n : g.nodes) nodes.push_back(node_to_json(n));
  ojson out = ojson::object();
  out["inputs"] = std::move(inputs);
  out["outputs"] = std::move(outputs);
  out["nodes"] = std::move(nodes);
  return out;
}

static Expected<std::shared_ptr<const graph>> subgraph_from_json(const ojson& j, const std::string& path, int depth) {
  if (depth > max_subgraph_depth)
    return bad_input(path + ": subgraphs nest deeper than " + std::to_string(max_subgraph_depth) + " levels");
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  auto g = std::make_shared<graph>();
  g->opset_imports.clear();  // a subgraph uses its model's opsets
  EP_RETURN_IF_ERROR(graph_body_from_json(j, path, depth, *g));
  return std::shared_ptr<const graph>(std::move(g));
}

// ---- text check -------------------------------------------------------------------------------

static Status check_text(const std::string& text, const std::string& path) {
  if (is_valid_utf8(text)) return Status::ok_status();
  return bad_input(path + ": name is not valid UTF-8 and cannot be stored in .epk metadata");
}

static Status check_value_infos(const std::vector<value_info>& infos, const std::string& path) {
  for (size_t i = 0; i < infos.size(); ++i) {
    const std::string p = json_path_index(path, i);
    EP_RETURN_IF_ERROR(check_text(infos[i].name, json_path_join(p, "name")));
    for (const auto& d : infos[i].shape) EP_RETURN_IF_ERROR(check_text(d.symbol, json_path_join(p, "shape")));
  }
  return Status::ok_status();
}

static Status check_graph_text(const graph& g, const std::string& path) {
  EP_RETURN_IF_ERROR(check_value_infos(g.inputs, json_path_join(path, "inputs")));
  EP_RETURN_IF_ERROR(check_value_infos(g.outputs, json_path_join(path, "outputs")));
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    const std::string p = json_path_index(json_path_join(path, "nodes"), i);
    EP_RETURN_IF_ERROR(check_text(n.name, json_path_join(p, "name")));
    EP_RETURN_IF_ERROR(check_text(n.op_type, json_path_join(p, "op_type")));
    EP_RETURN_IF_ERROR(check_text(n.domain, json_path_join(p, "domain")));
    for (const auto& s : n.inputs) EP_RETURN_IF_ERROR(check_text(s, json_path_join(p, "inputs")));
    for (const auto& s : n.outputs) EP_RETURN_IF_ERROR(check_text(s, json_path_join(p, "outputs")));
    for (const auto& [key, value] : n.attributes) {
      EP_RETURN_IF_ERROR(check_text(key, json_path_join(p, "attributes")));
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr) continue;
      const std::string body_path = json_path_join(json_path_join(json_path_join(p, "attributes"), key), "value");
      if (!(*body)->weights.empty())
        return bad_input(body_path + ": subgraph of node '" + n.name + "' holds weights ('" + (*body)->weights.begin()->first +
                         "'); .epk keeps every weight in the tensor table (hoist_subgraph_weights)");
      EP_RETURN_IF_ERROR(check_graph_text(**body, body_path));
    }
  }
  return Status::ok_status();
}

Status check_model_text(const model& m) {
  const graph& g = m.g;
  for (const auto& [domain, version] : g.opset_imports) EP_RETURN_IF_ERROR(check_text(domain, "graph.opset_imports"));
  EP_RETURN_IF_ERROR(check_graph_text(g, "graph"));
  for (const auto& [name, weight] : g.weights) EP_RETURN_IF_ERROR(check_text(name, "tensors"));
  if (m.llm) EP_RETURN_IF_ERROR(check_text(m.llm->architecture, "llm_config.architecture"));
  for (size_t i = 0; i < m.sources.size(); ++i)
    EP_RETURN_IF_ERROR(check_text(m.sources[i].sha256, json_path_join(json_path_index("sources", i), "sha256")));
  return check_text(m.format, "source_format");
}

}  // namespace edgepack

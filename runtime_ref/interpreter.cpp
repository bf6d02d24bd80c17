#include "runtime_ref/interpreter.h"

#include <set>

#include "runtime_ref/sparse_linear.h"

namespace edgepack {

// Weights of any float or quantized encoding become dense f32: the reference decoder defines
// what an encoding means, and kernels stay encoding-agnostic.
static Expected<tensor> decode_weight(const std::string& name, const tensor& weight) {
  if (!weight.is_encoded() && (weight.type != dtype::f16 && weight.type != dtype::bf16 && weight.type != dtype::f64)) return weight;
  auto values = to_float_vector(weight);
  if (!values.ok()) return values.status().with_context("weight '" + name + "'");
  return tensor::from_values<float>(dtype::f32, weight.shape, std::span<const float>(*values));
}

struct interpreter::compiled_graph {
  std::shared_ptr<const graph> owner;  // keeps `g` alive
  const graph* g = nullptr;
  std::vector<kernel_function> kernels;                                                  // per node
  std::vector<std::vector<std::string>> frees;                                           // per node: values whose last use it is
  std::vector<std::map<std::string, std::shared_ptr<const compiled_graph>>> bodies;  // per node: subgraph attributes
};

namespace {

using compiled_graph = interpreter::compiled_graph;

// Where a name resolves: this graph's values, then its weights, then the enclosing scopes.
struct scope {
  const tensor_map* values;
  const graph* g;
  const scope* parent;

  const tensor* find(const std::string& name) const {
    for (const scope* s = this; s != nullptr; s = s->parent) {
      if (auto it = s->values->find(name); it != s->values->end()) return &it->second;
      if (const tensor* w = s->g->find_weight(name)) return w;
    }
    return nullptr;
  }
};

// Sparse weights that only Gemm nodes read, as B with transB = 1, stay packed: kernel_gemm runs them
// through the sparse_linear fast path (runtime_ref/sparse_linear.h) without decoding.
std::set<std::string> packed_linear_weights(const graph& g) {
  std::set<std::string> keep, refused;
  for (const auto& n : g.nodes)
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const tensor* w = g.find_weight(n.inputs[i]);
      if (w == nullptr || !w->is_sparse()) continue;
      const bool linear = n.op_type == "Gemm" && n.domain.empty() && i == 1 && n.int_attr("transB", 0) != 0 && sparse_linear_supported(*w);
      (linear ? keep : refused).insert(n.inputs[i]);
    }
  for (const auto& n : g.nodes)  // a subgraph reading it needs the decoded form
    for (const auto& [key, value] : n.attributes)
      if (const auto* body = std::get_if<std::shared_ptr<const graph>>(&value); body != nullptr && *body != nullptr)
        for (const auto& name : (*body)->outer_references()) refused.insert(name);
  for (const auto& name : refused) keep.erase(name);
  return keep;
}

Expected<std::shared_ptr<const graph>> decode_weights(std::shared_ptr<const graph> g) {
  const std::set<std::string> packed = packed_linear_weights(*g);
  bool needed = false;
  for (const auto& [name, weight] : g->weights)
    needed = needed || (weight.is_encoded() && !packed.contains(name)) || weight.type == dtype::f16 || weight.type == dtype::bf16 ||
             weight.type == dtype::f64;
  if (!needed) return g;
  auto decoded = std::make_shared<graph>(*g);
  for (auto& [name, weight] : decoded->weights) {
    if (packed.contains(name)) continue;
    EP_ASSIGN_OR_RETURN(weight, decode_weight(name, weight));
  }
  return std::shared_ptr<const graph>(std::move(decoded));
}

// `where` is "" for the model's graph, else the node path of the subgraph ("'Loop_0'.body").
Expected<std::shared_ptr<const compiled_graph>> compile(std::shared_ptr<const graph> source, const std::string& where,
                                                        std::set<std::string>& unsupported) {
  auto c = std::make_shared<compiled_graph>();
  EP_ASSIGN_OR_RETURN(c->owner, decode_weights(std::move(source)));
  c->g = c->owner.get();
  const graph& g = *c->g;
  c->bodies.resize(g.nodes.size());
  // Last use of every value, so memory stays bounded by the live set. A body's outer-scope reads
  // are uses by the node that holds it.
  std::map<std::string, size_t> last_use;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    kernel_function k = find_kernel(n.domain, n.op_type);
    if (k == nullptr)
      unsupported.insert(n.op_type + (n.domain.empty() ? "" : " (domain " + n.domain + ")") + (where.empty() ? "" : " (in " + where + ")"));
    c->kernels.push_back(k);
    for (const auto& in : n.inputs) last_use[in] = i;
    for (const auto& [key, value] : n.attributes) {
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr) continue;
      const std::string path = (where.empty() ? "" : where + "/") + "'" + n.name + "'." + key;
      EP_ASSIGN_OR_RETURN(c->bodies[i][key], compile(*body, path, unsupported));
      for (const auto& name : (*body)->outer_references()) last_use[name] = i;
    }
  }
  std::set<std::string> keep;
  for (const auto& out : g.outputs) keep.insert(out.name);
  c->frees.resize(g.nodes.size());
  for (const auto& [name, index] : last_use) {
    if (name.empty() || keep.count(name) || g.weights.count(name)) continue;
    c->frees[index].push_back(name);
  }
  return std::shared_ptr<const compiled_graph>(std::move(c));
}

// Runs the nodes of `c` over `values` (graph inputs already bound) and returns its outputs in order.
Expected<std::vector<tensor>> run_graph(const compiled_graph& c, tensor_map& values, const scope* outer) {
  const graph& g = *c.g;
  const scope here{&values, &g, outer};
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    kernel_io io{n, {}, {}, nullptr};
    for (const auto& name : n.inputs) io.inputs.push_back(name.empty() ? nullptr : here.find(name));
    io.outputs.resize(n.outputs.size());
    subgraph_runner runner;
    if (!c.bodies[i].empty()) {
      runner = [&c, &here, i](const std::string& attribute, std::span<const tensor* const> inputs) -> Expected<std::vector<tensor>> {
        const auto it = c.bodies[i].find(attribute);
        const node& holder = c.g->nodes[i];
        if (it == c.bodies[i].end()) return bad_input("node '" + holder.name + "' (" + holder.op_type + "): has no subgraph '" + attribute + "'");
        const compiled_graph& body = *it->second;
        if (inputs.size() != body.g->inputs.size())
          return internal_error("node '" + holder.name + "': subgraph '" + attribute + "' takes " + std::to_string(body.g->inputs.size()) +
                                " inputs, got " + std::to_string(inputs.size()));
        tensor_map body_values;
        for (size_t k = 0; k < inputs.size(); ++k) {
          if (inputs[k] == nullptr) return internal_error("node '" + holder.name + "': subgraph input " + std::to_string(k) + " is missing");
          body_values[body.g->inputs[k].name] = *inputs[k];
        }
        auto result = run_graph(body, body_values, &here);
        if (!result.ok()) return result.status().with_context("node '" + holder.name + "' (" + holder.op_type + ") " + attribute);
        return result;
      };
      io.run_subgraph = &runner;
    }
    EP_RETURN_IF_ERROR(c.kernels[i](io));
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      if (!n.outputs[o].empty()) values[n.outputs[o]] = std::move(io.outputs[o]);
    }
    for (const auto& name : c.frees[i]) values.erase(name);
  }
  std::vector<tensor> outputs;
  outputs.reserve(g.outputs.size());
  for (const auto& out : g.outputs) {
    const tensor* t = here.find(out.name);
    if (t == nullptr) return internal_error("graph output '" + out.name + "' was not computed");
    outputs.push_back(*t);
  }
  return outputs;
}

}  // namespace

Expected<interpreter> interpreter::create(const graph& g) {
  EP_RETURN_IF_ERROR(g.validate());
  std::set<std::string> unsupported;
  auto main = compile(std::make_shared<graph>(g), "", unsupported);
  if (!main.ok()) return main.status();
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& op : unsupported) list += (list.empty() ? "" : ", ") + op;
    return bad_input("unsupported operators: " + list);
  }
  interpreter result;
  result.main_ = *main;
  result.graph_ = std::shared_ptr<const graph>(result.main_, result.main_->g);
  return result;
}

Expected<tensor_map> interpreter::run(const tensor_map& inputs) const {
  const graph& g = *graph_;
  tensor_map values;
  for (const auto& info : g.inputs) {
    auto it = inputs.find(info.name);
    if (it == inputs.end()) return bad_usage("graph input '" + info.name + "' was not given");
    if (it->second.type != info.type)
      return bad_input("graph input '" + info.name + "' has type " + std::string(dtype_name(it->second.type)) + ", expected " +
                       std::string(dtype_name(info.type)));
    if (it->second.shape.size() != info.shape.size())
      return bad_input("graph input '" + info.name + "' has rank " + std::to_string(it->second.shape.size()) + ", expected " +
                       std::to_string(info.shape.size()));
    for (size_t d = 0; d < info.shape.size(); ++d) {
      if (info.shape[d].value >= 0 && info.shape[d].value != it->second.shape[d])
        return bad_input("graph input '" + info.name + "' has shape " + shape_to_string(it->second.shape) + ", dimension " +
                         std::to_string(d) + " must be " + std::to_string(info.shape[d].value));
    }
    values[info.name] = it->second;
  }
  EP_ASSIGN_OR_RETURN(std::vector<tensor> outputs, run_graph(*main_, values, nullptr));
  tensor_map result;
  for (size_t o = 0; o < g.outputs.size(); ++o) result[g.outputs[o].name] = std::move(outputs[o]);
  return result;
}

}  // namespace edgepack

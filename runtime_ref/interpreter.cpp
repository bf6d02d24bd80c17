#include "runtime_ref/interpreter.h"

#include <set>

namespace edgepack {

// Weights of any float or quantized encoding become dense f32: the reference decoder defines
// what an encoding means, and kernels stay encoding-agnostic.
static Expected<tensor> decode_weight(const std::string& name, const tensor& weight) {
  if (!weight.is_quantized() && (weight.type != dtype::f16 && weight.type != dtype::bf16 && weight.type != dtype::f64)) return weight;
  auto values = to_float_vector(weight);
  if (!values.ok()) return values.status().with_context("weight '" + name + "'");
  return tensor::from_values<float>(dtype::f32, weight.shape, std::span<const float>(*values));
}

Expected<interpreter> interpreter::create(const graph& g) {
  EP_RETURN_IF_ERROR(g.validate());
  interpreter result;
  std::set<std::string> unsupported;
  for (const auto& n : g.nodes) {
    kernel_function k = find_kernel(n.domain, n.op_type);
    if (k == nullptr) unsupported.insert(n.op_type + (n.domain.empty() ? "" : " (domain " + n.domain + ")"));
    result.kernels_.push_back(k);
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& op : unsupported) list += (list.empty() ? "" : ", ") + op;
    return bad_input("unsupported operators: " + list);
  }
  auto decoded = std::make_shared<graph>(g);
  for (auto& [name, weight] : decoded->weights) {
    EP_ASSIGN_OR_RETURN(weight, decode_weight(name, weight));
  }
  result.graph_ = decoded;

  // Last use of every intermediate value, so memory stays bounded by the live set.
  std::map<std::string, size_t> last_use;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& in : g.nodes[i].inputs) last_use[in] = i;
  std::set<std::string> keep;
  for (const auto& out : g.outputs) keep.insert(out.name);
  result.frees_.resize(g.nodes.size());
  for (const auto& [name, index] : last_use) {
    if (name.empty() || keep.count(name) || g.weights.count(name)) continue;
    result.frees_[index].push_back(name);
  }
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
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    kernel_io io{n, {}, {}};
    for (const auto& name : n.inputs) {
      if (name.empty()) {
        io.inputs.push_back(nullptr);
        continue;
      }
      auto v = values.find(name);
      if (v != values.end()) {
        io.inputs.push_back(&v->second);
        continue;
      }
      io.inputs.push_back(g.find_weight(name));
    }
    io.outputs.resize(n.outputs.size());
    EP_RETURN_IF_ERROR(kernels_[i](io));
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      if (!n.outputs[o].empty()) values[n.outputs[o]] = std::move(io.outputs[o]);
    }
    for (const auto& name : frees_[i]) values.erase(name);
  }
  tensor_map result;
  for (const auto& out : g.outputs) result[out.name] = values.at(out.name);
  return result;
}

}  // namespace edgepack

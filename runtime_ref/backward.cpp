#include "runtime_ref/backward.h"

#include <algorithm>

#include "runtime_ref/backward_ops.h"

namespace edgepack {

namespace {

// grad += other, elementwise (same shape).
void accumulate(tensor& grad, const tensor& other) {
  float* g = grad.mutable_data_as<float>();
  const float* o = other.data_as<float>();
  for (int64_t i = 0; i < grad.numel(); ++i) g[i] += o[i];
}

}  // namespace

Expected<forward_tape> forward_tape::record(const graph& g, const tensor_map& inputs) {
  graph keeping = g;
  std::set<std::string> outputs;
  for (const auto& out : keeping.outputs) outputs.insert(out.name);
  for (const node& n : keeping.nodes)
    for (const auto& out : n.outputs)
      if (!out.empty() && outputs.insert(out).second) keeping.outputs.push_back({out, dtype::f32, {}});
  EP_ASSIGN_OR_RETURN(interpreter program, interpreter::create(keeping));
  forward_tape tape;
  tape.interpreter_ = std::make_shared<const interpreter>(std::move(program));
  EP_ASSIGN_OR_RETURN(tape.values_, tape.interpreter_->run(inputs));
  for (const auto& [name, value] : inputs) tape.values_.emplace(name, value);
  return tape;
}

const tensor* forward_tape::find(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return &it->second;
  const auto& weights = program().weights;
  if (auto it = weights.find(name); it != weights.end()) return &it->second;
  return nullptr;
}

Expected<tensor_map> backward(const forward_tape& tape, const tensor_map& seeds, const std::set<std::string>& wanted) {
  const graph& g = tape.program();
  // Values that depend on a wanted one: only they need gradients.
  std::set<std::string> depends(wanted.begin(), wanted.end());
  for (const node& n : g.nodes)
    if (std::any_of(n.inputs.begin(), n.inputs.end(), [&](const std::string& in) { return depends.count(in) > 0; }))
      for (const auto& out : n.outputs) depends.insert(out);
  for (const auto& name : wanted)
    if (tape.find(name) == nullptr) return bad_usage("gradient of '" + name + "': the graph has no such value");

  tensor_map grads;
  for (const auto& [name, seed] : seeds) {
    const tensor* value = tape.find(name);
    if (value == nullptr) return bad_usage("gradient seed '" + name + "': the graph has no such value");
    if (seed.type != dtype::f32 || seed.shape != value->shape)
      return bad_usage("gradient seed '" + name + "' must be f32 of shape " + shape_to_string(value->shape));
    // A copy: gradients are accumulated in place.
    grads.emplace(name, tensor::from_values<float>(dtype::f32, seed.shape, std::span<const float>(seed.data_as<float>(), static_cast<size_t>(seed.numel()))));
  }
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const node& n = g.nodes[i];
    vjp_io io{n, {}, {}, {}, {}, {}};
    bool any_grad = false, any_wanted = false;
    for (const auto& out : n.outputs) {
      auto it = out.empty() ? grads.end() : grads.find(out);
      io.output_grads.push_back(it == grads.end() ? nullptr : &it->second);
      io.outputs.push_back(out.empty() ? nullptr : tape.find(out));
      any_grad = any_grad || it != grads.end();
    }
    for (const auto& in : n.inputs) {
      io.inputs.push_back(in.empty() ? nullptr : tape.find(in));
      const bool wants = !in.empty() && depends.count(in) > 0;
      io.wanted.push_back(wants);
      any_wanted = any_wanted || wants;
    }
    if (!any_grad || !any_wanted) continue;
    const vjp_function vjp = find_vjp(n.domain, n.op_type);
    if (vjp == nullptr) return io.fail("the op has no gradient (runtime_ref/backward_ops.h lists those that do)");
    io.input_grads.resize(n.inputs.size());
    EP_RETURN_IF_ERROR(vjp(io));
    // This node's output gradients are spent (unless wanted themselves).
    for (const auto& out : n.outputs)
      if (!wanted.count(out)) grads.erase(out);
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (!io.wanted[k]) continue;
      tensor& grad = io.input_grads[k];
      if (grad.shape != io.inputs[k]->shape || grad.type != dtype::f32)
        return internal_error("node '" + n.name + "' (" + n.op_type + "): gradient of input " + std::to_string(k) + " has the wrong shape");
      auto [it, inserted] = grads.try_emplace(n.inputs[k], grad);
      if (!inserted) accumulate(it->second, grad);
    }
  }
  tensor_map result;
  for (const auto& name : wanted) {
    auto it = grads.find(name);
    result[name] = it != grads.end() ? it->second : tensor::allocate(dtype::f32, tape.find(name)->shape);
  }
  return result;
}

}  // namespace edgepack

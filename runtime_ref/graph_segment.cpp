#include "runtime_ref/graph_segment.h"

namespace edgepack {

namespace {

// Every name node `n` reads: its inputs and its subgraphs' outer references.
std::vector<std::string> reads_of(const node& n) {
  std::vector<std::string> names;
  for (const auto& in : n.inputs)
    if (!in.empty()) names.push_back(in);
  for (const auto& [key, value] : n.attributes) {
    const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
    if (body == nullptr || *body == nullptr) continue;
    for (const auto& name : (*body)->outer_references()) names.push_back(name);
  }
  return names;
}

std::set<std::string> read_at_or_after(const graph& g, size_t position) {
  std::set<std::string> read;
  for (size_t i = position; i < g.nodes.size(); ++i)
    for (auto& name : reads_of(g.nodes[i])) read.insert(std::move(name));
  return read;
}

}  // namespace

std::set<std::string> graph_segment::live_before(const graph& g, size_t position) {
  const std::set<std::string> read = read_at_or_after(g, position);
  std::set<std::string> live;
  for (const auto& in : g.inputs)
    if (read.count(in.name)) live.insert(in.name);
  for (size_t i = 0; i < position && i < g.nodes.size(); ++i)
    for (const auto& out : g.nodes[i].outputs)
      if (!out.empty() && read.count(out)) live.insert(out);
  return live;
}

Expected<graph_segment> graph_segment::create(const graph& g, size_t begin, size_t end, const tensor_map& state_example) {
  if (begin > end || end > g.nodes.size())
    return internal_error("graph segment [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside a graph of " +
                          std::to_string(g.nodes.size()) + " nodes");
  graph_segment segment;
  segment.live_after_ = live_before(g, end);
  if (begin == end) return segment;
  graph sub;
  sub.opset_imports = g.opset_imports;
  std::set<std::string> produced, inputs;
  for (size_t i = begin; i < end; ++i) {
    const node& n = g.nodes[i];
    for (const auto& name : reads_of(n)) {
      if (produced.count(name) || inputs.count(name)) continue;
      if (const tensor* w = g.find_weight(name)) {
        sub.weights.emplace(name, *w);
        continue;
      }
      const auto it = state_example.find(name);
      if (it == state_example.end()) return internal_error("graph segment: node '" + n.name + "' reads '" + name + "', which is not live before it");
      inputs.insert(name);
      value_info info{name, it->second.type, {}};
      info.shape.assign(it->second.shape.size(), dimension{-1, "d"});
      sub.inputs.push_back(std::move(info));
      segment.inputs_.push_back(name);
    }
    sub.nodes.push_back(n);
    for (const auto& out : n.outputs)
      if (!out.empty()) produced.insert(out);
  }
  for (const auto& name : produced)
    if (segment.live_after_.count(name)) sub.outputs.push_back({name, dtype::f32, {}});
  EP_ASSIGN_OR_RETURN(interpreter interp, interpreter::create(sub));
  segment.interpreter_ = std::make_shared<const interpreter>(std::move(interp));
  return segment;
}

Status graph_segment::run(tensor_map& state) const {
  if (interpreter_) {
    tensor_map inputs;
    for (const auto& name : inputs_) {
      const auto it = state.find(name);
      if (it == state.end()) return internal_error("graph segment: live value '" + name + "' missing from the state");
      inputs.emplace(name, it->second);
    }
    EP_ASSIGN_OR_RETURN(tensor_map outputs, interpreter_->run(inputs));
    for (auto& [name, value] : outputs) state[name] = std::move(value);
  }
  for (auto it = state.begin(); it != state.end();) it = live_after_.count(it->first) ? std::next(it) : state.erase(it);
  return Status::ok_status();
}

}  // namespace edgepack

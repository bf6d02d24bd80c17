#include "core/graph.h"

#include <set>

namespace edgepack {

int64_t node::int_attr(const std::string& key, int64_t fallback) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return fallback;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  return fallback;
}

double node::float_attr(const std::string& key, double fallback) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return fallback;
  if (auto* v = std::get_if<double>(&it->second)) return *v;
  if (auto* v = std::get_if<int64_t>(&it->second)) return static_cast<double>(*v);
  return fallback;
}

std::vector<int64_t> node::ints_attr(const std::string& key) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return {};
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  return {};
}

const graph* node::graph_attr(const std::string& key) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return nullptr;
  if (auto* v = std::get_if<std::shared_ptr<const graph>>(&it->second)) return v->get();
  return nullptr;
}

const tensor* graph::find_weight(const std::string& name) const {
  auto it = weights.find(name);
  return it == weights.end() ? nullptr : &it->second;
}

Status graph::validate() const { return validate_in_scope({}, 0); }

namespace {

// The structure ONNX requires of If and Loop (default domain), checked wherever a graph is
// validated so every reader and writer agrees.
Status check_control_flow(const node& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return Status::ok_status();
  const std::string what = "node '" + n.name + "' (" + n.op_type + ")";
  if (n.op_type == "If") {
    if (n.inputs.size() != 1 || n.inputs[0].empty()) return bad_input(what + ": needs exactly one input (the condition)");
    for (const char* key : {"then_branch", "else_branch"}) {
      const graph* branch = n.graph_attr(key);
      if (branch == nullptr) return bad_input(what + ": has no subgraph attribute '" + key + "'");
      if (!branch->inputs.empty()) return bad_input(what + ": " + key + " declares inputs; If branches take none");
      if (branch->outputs.size() != n.outputs.size())
        return bad_input(what + ": " + key + " has " + std::to_string(branch->outputs.size()) + " outputs, the node has " +
                         std::to_string(n.outputs.size()));
    }
  } else if (n.op_type == "Loop") {
    const graph* body = n.graph_attr("body");
    if (body == nullptr) return bad_input(what + ": has no subgraph attribute 'body'");
    if (n.inputs.size() < 2) return bad_input(what + ": needs inputs M and cond (either may be empty)");
    const size_t carried = n.inputs.size() - 2;
    if (body->inputs.size() != carried + 2)
      return bad_input(what + ": body has " + std::to_string(body->inputs.size()) + " inputs, expected " + std::to_string(carried + 2) +
                       " (iteration number, condition and " + std::to_string(carried) + " loop-carried values)");
    if (n.outputs.size() < carried)
      return bad_input(what + ": has " + std::to_string(n.outputs.size()) + " outputs, fewer than its " + std::to_string(carried) +
                       " loop-carried values");
    const size_t scans = n.outputs.size() - carried;
    if (body->outputs.size() != 1 + carried + scans)
      return bad_input(what + ": body has " + std::to_string(body->outputs.size()) + " outputs, expected " + std::to_string(1 + carried + scans) +
                       " (condition, " + std::to_string(carried) + " loop-carried, " + std::to_string(scans) + " scan outputs)");
  }
  return Status::ok_status();
}

}  // namespace

Status graph::validate_in_scope(const std::set<std::string>& outer, int depth) const {
  if (depth > max_subgraph_depth)
    return bad_input("subgraphs nest deeper than " + std::to_string(max_subgraph_depth) + " levels");
  // A subgraph may read its enclosing scopes' values but not redefine them (ONNX SSA across scopes).
  std::set<std::string> known = outer;
  for (const auto& input : inputs) {
    if (!known.insert(input.name).second) return bad_input("graph input '" + input.name + "' is declared twice");
  }
  for (const auto& [name, weight] : weights) {
    if (!known.insert(name).second) return bad_input("weight '" + name + "' has the same name as a graph input");
  }
  for (const auto& n : nodes) {
    for (const auto& in : n.inputs) {
      if (!in.empty() && !known.count(in))
        return bad_input("node '" + n.name + "' (" + n.op_type + ") reads '" + in + "', which nothing produces before it");
    }
    EP_RETURN_IF_ERROR(check_control_flow(n));
    for (const auto& [key, value] : n.attributes) {
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr) continue;
      const std::string where = "node '" + n.name + "' (" + n.op_type + ") attribute '" + key + "'";
      if (*body == nullptr) return bad_input(where + ": the subgraph is missing");
      EP_RETURN_IF_ERROR((*body)->validate_in_scope(known, depth + 1).with_context(where));
    }
    for (const auto& out : n.outputs) {
      if (out.empty()) continue;
      if (!known.insert(out).second)
        return bad_input("node '" + n.name + "' (" + n.op_type + ") writes '" + out + "', which is already defined");
    }
  }
  for (const auto& output : outputs) {
    if (!known.count(output.name)) return bad_input("graph output '" + output.name + "' is never produced");
  }
  return Status::ok_status();
}

std::set<std::string> graph::outer_references() const {
  std::set<std::string> defined, used;
  for (const auto& input : inputs) defined.insert(input.name);
  for (const auto& [name, weight] : weights) defined.insert(name);
  for (const auto& n : nodes) {
    for (const auto& in : n.inputs)
      if (!in.empty() && !defined.count(in)) used.insert(in);
    for (const auto& [key, value] : n.attributes) {
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr) continue;
      for (const auto& name : (*body)->outer_references())
        if (!defined.count(name)) used.insert(name);
    }
    for (const auto& out : n.outputs) defined.insert(out);
  }
  for (const auto& output : outputs)
    if (!defined.count(output.name)) used.insert(output.name);
  return used;
}

bool graph::has_subgraphs() const {
  for (const auto& n : nodes)
    for (const auto& [key, value] : n.attributes)
      if (std::holds_alternative<std::shared_ptr<const graph>>(value)) return true;
  return false;
}

namespace {

void count_definitions(const graph& g, std::map<std::string, int>& defs) {
  for (const auto& input : g.inputs) ++defs[input.name];
  for (const auto& [name, weight] : g.weights) ++defs[name];
  for (const auto& n : g.nodes) {
    for (const auto& out : n.outputs)
      if (!out.empty()) ++defs[out];
    for (const auto& [key, value] : n.attributes)
      if (const auto* body = std::get_if<std::shared_ptr<const graph>>(&value); body && *body) count_definitions(**body, defs);
  }
}

// Renames reads of `from` in g and its nested subgraphs (names are unique across scopes, so no
// nested scope can shadow it).
void rename_reads(graph& g, const std::string& from, const std::string& to) {
  for (auto& n : g.nodes) {
    for (auto& in : n.inputs)
      if (in == from) in = to;
    for (auto& [key, value] : n.attributes) {
      auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr || !(*body)->outer_references().count(from)) continue;
      auto copy = std::make_shared<graph>(**body);
      rename_reads(*copy, from, to);
      *body = std::move(copy);
    }
  }
  for (auto& out : g.outputs)
    if (out.name == from) out.name = to;
}

void hoist_from(graph& g, std::map<std::string, tensor>& top, std::map<std::string, int>& defs) {
  for (auto& n : g.nodes) {
    for (auto& [key, value] : n.attributes) {
      auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr) continue;
      auto copy = std::make_shared<graph>(**body);
      auto weights = std::move(copy->weights);
      copy->weights.clear();
      for (auto& [name, weight] : weights) {
        std::string target = name;
        if (defs[name] > 1 || top.count(name)) {
          for (int k = 1;; ++k) {
            target = name + "__sg" + std::to_string(k);
            if (!defs.count(target) && !top.count(target)) break;
          }
          --defs[name];
          ++defs[target];
          rename_reads(*copy, name, target);
        }
        top.emplace(target, std::move(weight));
      }
      hoist_from(*copy, top, defs);
      *body = std::move(copy);
    }
  }
}

}  // namespace

Status hoist_subgraph_weights(graph& g) {
  if (!g.has_subgraphs()) return Status::ok_status();
  EP_RETURN_IF_ERROR(g.validate());
  std::map<std::string, int> defs;
  count_definitions(g, defs);
  std::map<std::string, tensor> hoisted;
  hoist_from(g, hoisted, defs);
  for (auto& [name, weight] : hoisted) {
    if (!g.weights.emplace(name, std::move(weight)).second) return internal_error("hoisted weight '" + name + "' clashes with a top-level weight");
  }
  return g.validate();
}

}  // namespace edgepack

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

const tensor* graph::find_weight(const std::string& name) const {
  auto it = weights.find(name);
  return it == weights.end() ? nullptr : &it->second;
}

Status graph::validate() const {
  std::set<std::string> known;
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

}  // namespace edgepack

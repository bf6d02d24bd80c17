// IR graph builders shared by the pass tests that assemble small ONNX-style graphs by hand.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/graph.h"

namespace edgepack::graph_test {

// One node named "<op>_<output>" with a single output.
inline node make_node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                      std::map<std::string, attribute_value> attrs = {}) {
  node n;
  n.name = op + "_" + output;
  n.op_type = op;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  n.attributes = std::move(attrs);
  return n;
}

}  // namespace edgepack::graph_test

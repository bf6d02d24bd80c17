// The graph IR: ONNX operator semantics, named values, weights held as tensors.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"

namespace edgepack {

struct graph;

// A GRAPH attribute (If's then_branch/else_branch, Loop's body) holds its subgraph by shared,
// immutable pointer: copying a node or model shares the body instead of deep-copying it.
using attribute_value = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>, std::shared_ptr<const graph>>;

// Subgraphs nest at most this deep (a Loop body holding an If is depth 2). Readers refuse deeper
// nesting; it bounds recursion in validation, serialization and the interpreter.
inline constexpr int max_subgraph_depth = 16;

struct node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" = ai.onnx
  std::vector<std::string> inputs;  // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, attribute_value> attributes;

  int64_t int_attr(const std::string& key, int64_t fallback) const;
  double float_attr(const std::string& key, double fallback) const;
  std::vector<int64_t> ints_attr(const std::string& key) const;
  // The subgraph held by a GRAPH attribute, or nullptr.
  const graph* graph_attr(const std::string& key) const;
};

// A dimension is a fixed size (value >= 0) or a named symbol such as "seq".
struct dimension {
  int64_t value = -1;
  std::string symbol;
};

struct value_info {
  std::string name;
  dtype type = dtype::f32;
  std::vector<dimension> shape;
};

struct graph {
  std::vector<node> nodes;  // topologically ordered
  std::vector<value_info> inputs;
  std::vector<value_info> outputs;
  std::map<std::string, tensor> weights;  // initializers; sorted names keep files deterministic
  std::map<std::string, int64_t> opset_imports{{"", 23}};

  const tensor* find_weight(const std::string& name) const;
  // Checks names resolve, every input is produced before use, and no value is produced twice.
  // Subgraphs are checked recursively: a body may read any value its enclosing scopes define
  // before the node that holds it (ONNX "implicit inputs"); nesting is bounded by max_subgraph_depth.
  Status validate() const;
  // The same, for a subgraph whose enclosing scopes define `outer` (depth: 1 for a direct body).
  Status validate_in_scope(const std::set<std::string>& outer, int depth) const;
  // Names this graph (and its nested subgraphs) read without defining them: the outer-scope
  // values a body needs. Sorted, so callers iterate deterministically.
  std::set<std::string> outer_references() const;
  bool has_subgraphs() const;
};

// Moves the weights of every nested subgraph into g.weights, so a model keeps all its tensors in
// one table (what .epk stores and what passes quantize). A subgraph weight keeps its name unless
// that name is defined anywhere else in the model; then it becomes "<name>__sg<k>" (the first
// unused k) and the references inside its subgraph are renamed. The body then reads the weight as
// an outer-scope value. `g` must validate.
Status hoist_subgraph_weights(graph& g);

}  // namespace edgepack

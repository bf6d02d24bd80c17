// The graph IR: ONNX operator semantics, named values, weights held as tensors.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"

namespace edgepack {

using attribute_value = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

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
  Status validate() const;
};

}  // namespace edgepack

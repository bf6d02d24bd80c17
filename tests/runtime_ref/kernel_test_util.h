// OpTester-style helper: run one node on given inputs and return its outputs.
#pragma once
#include <gtest/gtest.h>

#include <vector>

#include "runtime_ref/kernel.h"

namespace edgepack::testing {

inline tensor f32(std::vector<int64_t> shape, std::vector<float> values) {
  return tensor::from_values<float>(dtype::f32, std::move(shape), std::span<const float>(values));
}
inline tensor i64(std::vector<int64_t> shape, std::vector<int64_t> values) {
  return tensor::from_values<int64_t>(dtype::i64, std::move(shape), std::span<const int64_t>(values));
}
inline std::vector<float> values_of(const tensor& t) { return {t.data_as<float>(), t.data_as<float>() + t.numel()}; }
inline std::vector<int64_t> ints_of(const tensor& t) { return {t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel()}; }

struct op_run {
  Status status;
  std::vector<tensor> outputs;
};

inline op_run run_op(const std::string& op_type, std::vector<const tensor*> inputs, std::map<std::string, attribute_value> attributes,
                     size_t output_count = 1) {
  node n;
  n.name = "test_" + op_type;
  n.op_type = op_type;
  for (size_t i = 0; i < inputs.size(); ++i) n.inputs.push_back(inputs[i] ? "in" + std::to_string(i) : "");
  for (size_t i = 0; i < output_count; ++i) n.outputs.push_back("out" + std::to_string(i));
  n.attributes = std::move(attributes);
  kernel_io io{n, inputs, {}, nullptr};
  io.outputs.resize(output_count);
  kernel_function k = find_kernel("", op_type);
  EXPECT_NE(k, nullptr);
  op_run result;
  result.status = k(io);
  result.outputs = std::move(io.outputs);
  return result;
}

inline void expect_near_all(const std::vector<float>& actual, const std::vector<float>& expected, float tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tolerance) << "at index " << i;
}

}  // namespace edgepack::testing

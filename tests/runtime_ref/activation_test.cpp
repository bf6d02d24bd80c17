// Pointwise activations and unary math: hand-computed goldens, attribute and input forms.
#include <cmath>
#include <limits>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

const tensor& sample() {
  static const tensor x = f32({2, 3}, {-4, -1, 0, 0.5f, 2, 7});
  return x;
}

TEST(ActivationKernel, ReluLeakyReluTanh) {
  expect_near_all(values_of(run_op("Relu", {&sample()}, {}).outputs[0]), {0, 0, 0, 0.5f, 2, 7}, 0);
  expect_near_all(values_of(run_op("LeakyRelu", {&sample()}, {}).outputs[0]), {-0.04f, -0.01f, 0, 0.5f, 2, 7}, 1e-7f);
  expect_near_all(values_of(run_op("LeakyRelu", {&sample()}, {{"alpha", 0.5}}).outputs[0]), {-2, -0.5f, 0, 0.5f, 2, 7}, 0);
  expect_near_all(values_of(run_op("Tanh", {&sample()}, {}).outputs[0]),
                  {-0.9993293f, -0.7615942f, 0, 0.4621172f, 0.9640276f, 0.9999983f}, 1e-6f);
}

TEST(ActivationKernel, HardSigmoidAndHardSwish) {
  // alpha 0.2, beta 0.5: clamp(0.2x + 0.5, 0, 1).
  expect_near_all(values_of(run_op("HardSigmoid", {&sample()}, {}).outputs[0]), {0, 0.3f, 0.5f, 0.6f, 0.9f, 1}, 1e-6f);
  // PP-OCR's alpha 1/6.
  expect_near_all(values_of(run_op("HardSigmoid", {&sample()}, {{"alpha", 1.0 / 6.0}}).outputs[0]),
                  {0, 1.0f / 3, 0.5f, 0.5833333f, 0.8333333f, 1}, 1e-6f);
  // x · clamp(x/6 + 0.5, 0, 1).
  expect_near_all(values_of(run_op("HardSwish", {&sample()}, {}).outputs[0]), {0, -1.0f / 3, 0, 0.2916667f, 1.6666667f, 7}, 1e-6f);
}

TEST(ActivationKernel, ClipInputsAttributesAndDefaults) {
  const tensor lo = f32({}, {-1});
  const tensor hi = f32({1}, {1.5f});
  expect_near_all(values_of(run_op("Clip", {&sample(), &lo, &hi}, {}).outputs[0]), {-1, -1, 0, 0.5f, 1.5f, 1.5f}, 0);
  // Only max given (min omitted): lower side unbounded.
  expect_near_all(values_of(run_op("Clip", {&sample(), nullptr, &hi}, {}).outputs[0]), {-4, -1, 0, 0.5f, 1.5f, 1.5f}, 0);
  // Opset < 11 attribute form (ReLU6 in PP-OCR rec/cls).
  expect_near_all(values_of(run_op("Clip", {&sample()}, {{"min", 0.0}, {"max", 6.0}}).outputs[0]), {0, 0, 0, 0.5f, 2, 6}, 0);
  expect_near_all(values_of(run_op("Clip", {&sample()}, {}).outputs[0]), values_of(sample()), 0);
  const tensor vec = f32({2}, {0, 1});
  auto r = run_op("Clip", {&sample(), &vec}, {});
  EXPECT_EQ(r.status.code(), error_code::bad_input);
  EXPECT_NE(r.status.message().find("min must be a scalar"), std::string::npos) << r.status.message();
}

TEST(ActivationKernel, NanPropagates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const tensor x = f32({1}, {nan});
  EXPECT_TRUE(std::isnan(values_of(run_op("Clip", {&x}, {{"min", 0.0}, {"max", 6.0}}).outputs[0])[0]));
}

TEST(UnaryMathKernel, FloatValues) {
  const tensor x = f32({3}, {0.25f, 1, 4});
  expect_near_all(values_of(run_op("Sqrt", {&x}, {}).outputs[0]), {0.5f, 1, 2}, 1e-7f);
  expect_near_all(values_of(run_op("Exp", {&x}, {}).outputs[0]), {1.2840254f, 2.7182818f, 54.59815f}, 1e-5f);
  expect_near_all(values_of(run_op("Log", {&x}, {}).outputs[0]), {-1.3862944f, 0, 1.3862944f}, 1e-6f);
  expect_near_all(values_of(run_op("Reciprocal", {&x}, {}).outputs[0]), {4, 1, 0.25f}, 0);
  expect_near_all(values_of(run_op("Neg", {&x}, {}).outputs[0]), {-0.25f, -1, -4}, 0);
  const tensor m = f32({2}, {-3, 2});
  expect_near_all(values_of(run_op("Abs", {&m}, {}).outputs[0]), {3, 2}, 0);
  EXPECT_TRUE(std::isnan(values_of(run_op("Sqrt", {&m}, {}).outputs[0])[0]));
}

TEST(UnaryMathKernel, IntegerNegAndAbsButNotSqrt) {
  const tensor x = i64({3}, {-2, 0, std::numeric_limits<int64_t>::min()});
  auto neg = run_op("Neg", {&x}, {});
  ASSERT_TRUE(neg.status.ok());
  EXPECT_EQ(neg.outputs[0].type, dtype::i64);
  EXPECT_EQ(neg.outputs[0].data_as<int64_t>()[0], 2);
  EXPECT_EQ(neg.outputs[0].data_as<int64_t>()[2], std::numeric_limits<int64_t>::min());  // wraps, no UB
  EXPECT_EQ(run_op("Abs", {&x}, {}).outputs[0].data_as<int64_t>()[0], 2);
  EXPECT_EQ(run_op("Sqrt", {&x}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Relu", {&x}, {}).status.code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

// Softmax, BatchNormalization, Reduce*, Pow, Cast, Equal/Where, ConstantOfShape: hand goldens.
#include <cmath>
#include <limits>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

TEST(SoftmaxKernel, LastAxisAndMiddleAxis) {
  const tensor x = f32({2, 3}, {0, 1, 2, 1000, 1000, 1000});
  auto r = run_op("Softmax", {&x}, {});
  ASSERT_TRUE(r.status.ok());
  // e^0, e^1, e^2 over their sum; the large row stays finite thanks to the max shift.
  expect_near_all(values_of(r.outputs[0]), {0.0900306f, 0.2447285f, 0.6652410f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f}, 1e-6f);
  // axis 0 of [2, 2]: columns normalised independently.
  const tensor y = f32({2, 2}, {0, 0, std::log(3.0f), 0});
  expect_near_all(values_of(run_op("Softmax", {&y}, {{"axis", int64_t{0}}}).outputs[0]), {0.25f, 0.5f, 0.75f, 0.5f}, 1e-6f);
  EXPECT_EQ(run_op("Softmax", {&y}, {{"axis", int64_t{2}}}).status.code(), error_code::bad_input);
}

TEST(BatchNormalizationKernel, PerChannel) {
  // C = 2: channel 0 scale 4, bias 1, mean 1, var 4 − eps → 2x − 1; channel 1 identity.
  const tensor x = f32({1, 2, 1, 2}, {3, 5, 7, -7});
  const tensor scale = f32({2}, {4, 1}), bias = f32({2}, {1, 0}), mean = f32({2}, {1, 0}), var = f32({2}, {4 - 1e-5f, 1 - 1e-5f});
  auto r = run_op("BatchNormalization", {&x, &scale, &bias, &mean, &var}, {});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  expect_near_all(values_of(r.outputs[0]), {5, 9, 7, -7}, 1e-5f);
  const tensor short_mean = f32({1}, {0});
  EXPECT_EQ(run_op("BatchNormalization", {&x, &scale, &bias, &short_mean, &var}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("BatchNormalization", {&x, &scale, &bias, &mean, &var}, {}, 3).status.code(), error_code::bad_input);
}

TEST(ReduceKernel, MeanSumMaxMinWithAxesForms) {
  const tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto mean = run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{-1}}});
  EXPECT_EQ(mean.outputs[0].shape, (std::vector<int64_t>{2, 1}));
  expect_near_all(values_of(mean.outputs[0]), {2, 5}, 1e-6f);
  const tensor axes = i64({1}, {0});
  auto sum = run_op("ReduceSum", {&x, &axes}, {{"keepdims", int64_t{0}}});
  EXPECT_EQ(sum.outputs[0].shape, (std::vector<int64_t>{3}));
  expect_near_all(values_of(sum.outputs[0]), {5, 7, 9}, 0);
  auto all = run_op("ReduceMean", {&x}, {{"keepdims", int64_t{0}}});
  EXPECT_TRUE(all.outputs[0].shape.empty());
  expect_near_all(values_of(all.outputs[0]), {3.5f}, 1e-6f);
  expect_near_all(values_of(run_op("ReduceMax", {&x, &axes}, {}).outputs[0]), {4, 5, 6}, 0);
  expect_near_all(values_of(run_op("ReduceMin", {&x}, {{"axes", std::vector<int64_t>{1}}}).outputs[0]), {1, 4}, 0);
  const tensor empty_axes = i64({0}, {});
  EXPECT_EQ(values_of(run_op("ReduceSum", {&x, &empty_axes}, {{"noop_with_empty_axes", int64_t{1}}}).outputs[0]), values_of(x));
  EXPECT_EQ(run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{2}}}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{1, -1}}}).status.code(), error_code::bad_input);
}

TEST(PowKernel, BroadcastExponent) {
  const tensor x = f32({3}, {2, -3, 4});
  const tensor two = f32({}, {2});
  expect_near_all(values_of(run_op("Pow", {&x, &two}, {}).outputs[0]), {4, 9, 16}, 0);
  const tensor half = f32({1}, {0.5f});
  auto r = run_op("Pow", {&x, &half}, {});
  EXPECT_NEAR(values_of(r.outputs[0])[0], std::sqrt(2.0f), 1e-6f);
  EXPECT_TRUE(std::isnan(values_of(r.outputs[0])[1]));
}

TEST(CastKernel, FloatIntBool) {
  const tensor x = f32({5}, {1.7f, -1.7f, 0, std::numeric_limits<float>::quiet_NaN(), 1e30f});
  auto to_i64 = run_op("Cast", {&x}, {{"to", int64_t{7}}});
  ASSERT_TRUE(to_i64.status.ok());
  const int64_t* v = to_i64.outputs[0].data_as<int64_t>();
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], -1);
  EXPECT_EQ(v[3], 0);  // NaN
  EXPECT_EQ(v[4], std::numeric_limits<int64_t>::max());
  auto to_i32 = run_op("Cast", {&to_i64.outputs[0]}, {{"to", int64_t{6}}});
  EXPECT_EQ(to_i32.outputs[0].type, dtype::i32);
  EXPECT_EQ(to_i32.outputs[0].data_as<int32_t>()[4], std::numeric_limits<int32_t>::max());
  auto back = run_op("Cast", {&to_i32.outputs[0]}, {{"to", int64_t{1}}});
  expect_near_all(values_of(back.outputs[0]), {1, -1, 0, 0, 2147483647.0f}, 0);
  auto to_bool = run_op("Cast", {&x}, {{"to", int64_t{9}}});
  EXPECT_EQ(to_bool.outputs[0].type, dtype::boolean);
  EXPECT_EQ(to_bool.outputs[0].data_as<uint8_t>()[2], 0);
  EXPECT_EQ(to_bool.outputs[0].data_as<uint8_t>()[0], 1);
  EXPECT_EQ(run_op("Cast", {&x}, {{"to", int64_t{8}}}).status.code(), error_code::bad_input);  // string
  EXPECT_EQ(run_op("Cast", {&x}, {}).status.code(), error_code::bad_input);
}

TEST(CompareKernel, EqualWhereConstantOfShape) {
  const tensor a = i64({2, 2}, {1, 2, 3, 4});
  const tensor b = i64({2}, {1, 4});
  auto eq = run_op("Equal", {&a, &b}, {});
  ASSERT_TRUE(eq.status.ok());
  const uint8_t* m = eq.outputs[0].data_as<uint8_t>();
  EXPECT_EQ((std::vector<int>{m[0], m[1], m[2], m[3]}), (std::vector<int>{1, 0, 0, 1}));
  const tensor x = f32({2, 2}, {10, 20, 30, 40});
  const tensor y = f32({}, {-1});
  auto w = run_op("Where", {&eq.outputs[0], &x, &y}, {});
  ASSERT_TRUE(w.status.ok()) << w.status.message();
  expect_near_all(values_of(w.outputs[0]), {10, -1, -1, 40}, 0);
  EXPECT_EQ(run_op("Where", {&a, &x, &y}, {}).status.code(), error_code::bad_input);  // condition not bool
  const tensor mixed = f32({2}, {1, 4});
  EXPECT_EQ(run_op("Equal", {&a, &mixed}, {}).status.code(), error_code::bad_input);
  const tensor shape = i64({2}, {2, 3});
  auto c = run_op("ConstantOfShape", {&shape}, {{"value", 0.5}});
  EXPECT_EQ(c.outputs[0].shape, (std::vector<int64_t>{2, 3}));
  expect_near_all(values_of(c.outputs[0]), std::vector<float>(6, 0.5f), 0);
  const tensor negative = i64({1}, {-1});
  EXPECT_EQ(run_op("ConstantOfShape", {&negative}, {}).status.code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

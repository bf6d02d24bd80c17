// MaxPool / AveragePool / global pools: hand-computed goldens for every attribute the models use.
#include <cmath>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

// 4×4 plane 0..15 (row-major), reused by most cases.
tensor plane4() {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i);
  return f32({1, 1, 4, 4}, v);
}

TEST(PoolKernel, MaxPool2x2Stride2) {
  const tensor x = plane4();
  auto r = run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, 1, 2, 2}));
  expect_near_all(values_of(r.outputs[0]), {5, 7, 13, 15}, 0);
}

TEST(PoolKernel, MaxPoolCeilModeAndPadsIgnorePadding) {
  // 3×3 windows, stride 3 on 4×4: floor gives 1×1, ceil gives 2×2 (last window half outside).
  const tensor x = plane4();
  auto floor_r = run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{3, 3}}});
  expect_near_all(values_of(floor_r.outputs[0]), {10}, 0);
  auto ceil_r = run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{3, 3}}, {"ceil_mode", int64_t{1}}});
  EXPECT_EQ(ceil_r.outputs[0].shape, (std::vector<int64_t>{1, 1, 2, 2}));
  expect_near_all(values_of(ceil_r.outputs[0]), {10, 11, 14, 15}, 0);
  // Negative values with padding: the padding never wins a max.
  const tensor neg = f32({1, 1, 1, 2}, {-5, -3});
  auto r = run_op("MaxPool", {&neg}, {{"kernel_shape", std::vector<int64_t>{1, 2}}, {"pads", std::vector<int64_t>{0, 1, 0, 1}}});
  expect_near_all(values_of(r.outputs[0]), {-5, -3, -3}, 0);
}

TEST(PoolKernel, MaxPoolDilationAndSameUpper) {
  // 1-D, kernel 2, dilation 2: max(x[i], x[i+2]).
  const tensor x = f32({1, 1, 5}, {1, 5, 2, 4, 3});
  auto r = run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{2}}, {"dilations", std::vector<int64_t>{2}}});
  expect_near_all(values_of(r.outputs[0]), {2, 5, 3}, 0);
  // SAME_UPPER stride 2 on 5: out 3, total pad 1 at the end.
  auto s = run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{2}}, {"strides", std::vector<int64_t>{2}}, {"auto_pad", std::string("SAME_UPPER")}});
  expect_near_all(values_of(s.outputs[0]), {5, 4, 3}, 0);
}

TEST(PoolKernel, AveragePoolCountIncludePad) {
  // 1×3 row [3 6 9], kernel 2, pads 1 both sides: windows [pad 3] [3 6] [6 9] [9 pad].
  const tensor x = f32({1, 1, 1, 3}, {3, 6, 9});
  const std::map<std::string, attribute_value> base{{"kernel_shape", std::vector<int64_t>{1, 2}}, {"pads", std::vector<int64_t>{0, 1, 0, 1}}};
  auto exclude = run_op("AveragePool", {&x}, base);
  expect_near_all(values_of(exclude.outputs[0]), {3, 4.5f, 7.5f, 9}, 1e-6f);
  auto attrs = base;
  attrs["count_include_pad"] = int64_t{1};
  auto include = run_op("AveragePool", {&x}, attrs);
  expect_near_all(values_of(include.outputs[0]), {1.5f, 4.5f, 7.5f, 4.5f}, 1e-6f);
}

TEST(PoolKernel, AveragePoolRecShape3x2) {
  // PP-OCR rec: kernel (3, 2), stride (3, 2) on a 3×4 plane -> 1×2 averages of 6 values.
  const tensor x = f32({1, 1, 3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto r = run_op("AveragePool", {&x}, {{"kernel_shape", std::vector<int64_t>{3, 2}}, {"strides", std::vector<int64_t>{3, 2}}, {"pads", std::vector<int64_t>{0, 0, 0, 0}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  expect_near_all(values_of(r.outputs[0]), {(1 + 2 + 5 + 6 + 9 + 10) / 6.0f, (3 + 4 + 7 + 8 + 11 + 12) / 6.0f}, 1e-6f);
}

TEST(PoolKernel, GlobalPools) {
  const tensor x = f32({1, 2, 2, 3}, {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6});
  auto avg = run_op("GlobalAveragePool", {&x}, {});
  ASSERT_TRUE(avg.status.ok());
  EXPECT_EQ(avg.outputs[0].shape, (std::vector<int64_t>{1, 2, 1, 1}));
  expect_near_all(values_of(avg.outputs[0]), {3.5f, -3.5f}, 1e-6f);
  auto mx = run_op("GlobalMaxPool", {&x}, {});
  expect_near_all(values_of(mx.outputs[0]), {6, -1}, 0);
}

TEST(PoolKernel, HostileInputsFail) {
  const tensor x = plane4();
  auto expect_fail = [](const op_run& r, const std::string& needle) {
    EXPECT_EQ(r.status.code(), error_code::bad_input);
    EXPECT_NE(r.status.message().find(needle), std::string::npos) << r.status.message();
  };
  expect_fail(run_op("MaxPool", {&x}, {}), "kernel_shape must have 2");
  expect_fail(run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{5, 5}}}), "does not fit");
  expect_fail(run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{0, 2}}}), "kernel dim 0");
  expect_fail(run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"ceil_mode", int64_t{2}}}), "ceil_mode");
  expect_fail(run_op("AveragePool", {&x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"count_include_pad", int64_t{-1}}}), "count_include_pad");
  expect_fail(run_op("MaxPool", {&x}, {{"kernel_shape", std::vector<int64_t>{2, 2}}}, 2), "Indices");
  const tensor flat = f32({4}, {1, 2, 3, 4});
  expect_fail(run_op("GlobalAveragePool", {&flat}, {}), "X must be");
  expect_fail(run_op("MaxPool", {&flat}, {{"kernel_shape", std::vector<int64_t>{2}}}), "X must be");
}

}  // namespace
}  // namespace edgepack::testing

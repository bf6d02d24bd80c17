// Data-movement ops: Identity, Shape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Slice, Pad.
#include <limits>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

tensor iota(std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return f32(std::move(shape), v);
}

TEST(ShapeOpsKernel, ShapeIdentityFlatten) {
  const tensor x = iota({2, 3, 4});
  EXPECT_EQ(ints_of(run_op("Shape", {&x}, {}).outputs[0]), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(ints_of(run_op("Shape", {&x}, {{"start", int64_t{-2}}}).outputs[0]), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(ints_of(run_op("Shape", {&x}, {{"start", int64_t{1}}, {"end", int64_t{99}}}).outputs[0]), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(values_of(run_op("Identity", {&x}, {}).outputs[0]), values_of(x));
  EXPECT_EQ(run_op("Flatten", {&x}, {}).outputs[0].shape, (std::vector<int64_t>{2, 12}));
  EXPECT_EQ(run_op("Flatten", {&x}, {{"axis", int64_t{0}}}).outputs[0].shape, (std::vector<int64_t>{1, 24}));
  EXPECT_EQ(run_op("Flatten", {&x}, {{"axis", int64_t{3}}}).outputs[0].shape, (std::vector<int64_t>{24, 1}));
  EXPECT_EQ(run_op("Flatten", {&x}, {{"axis", int64_t{-1}}}).outputs[0].shape, (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(run_op("Flatten", {&x}, {{"axis", int64_t{4}}}).status.code(), error_code::bad_input);
}

TEST(ShapeOpsKernel, SqueezeUnsqueezeInputAndAttributeAxes) {
  const tensor x = iota({1, 3, 1, 2});
  const tensor axes = i64({1}, {-2});
  EXPECT_EQ(run_op("Squeeze", {&x, &axes}, {}).outputs[0].shape, (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(run_op("Squeeze", {&x}, {{"axes", std::vector<int64_t>{0}}}).outputs[0].shape, (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(run_op("Squeeze", {&x}, {}).outputs[0].shape, (std::vector<int64_t>{3, 2}));
  const tensor bad = i64({1}, {1});
  EXPECT_EQ(run_op("Squeeze", {&x, &bad}, {}).status.code(), error_code::bad_input);
  const tensor y = iota({3, 2});
  const tensor un = i64({2}, {0, -1});
  EXPECT_EQ(run_op("Unsqueeze", {&y, &un}, {}).outputs[0].shape, (std::vector<int64_t>{1, 3, 2, 1}));
  EXPECT_EQ(run_op("Unsqueeze", {&y}, {{"axes", std::vector<int64_t>{1}}}).outputs[0].shape, (std::vector<int64_t>{3, 1, 2}));
  const tensor repeated = i64({2}, {1, 1});
  EXPECT_EQ(run_op("Unsqueeze", {&y, &repeated}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Unsqueeze", {&y}, {}).status.code(), error_code::bad_input);
  const tensor scalar = f32({}, {5});
  const tensor zero = i64({1}, {0});
  EXPECT_EQ(run_op("Unsqueeze", {&scalar, &zero}, {}).outputs[0].shape, (std::vector<int64_t>{1}));
}

TEST(ShapeOpsKernel, TransposeOddShapes) {
  const tensor x = iota({2, 3});
  auto r = run_op("Transpose", {&x}, {});
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{3, 2}));
  expect_near_all(values_of(r.outputs[0]), {0, 3, 1, 4, 2, 5}, 0);
  // [2,3,4] with perm (1, 2, 0): out[j][k][i] = x[i][j][k] = 12i + 4j + k.
  const tensor z = iota({2, 3, 4});
  auto p = run_op("Transpose", {&z}, {{"perm", std::vector<int64_t>{1, 2, 0}}});
  ASSERT_EQ(p.outputs[0].shape, (std::vector<int64_t>{3, 4, 2}));
  const auto v = values_of(p.outputs[0]);
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 2; ++i) EXPECT_EQ(v[(j * 4 + k) * 2 + i], 12 * i + 4 * j + k);
  EXPECT_EQ(run_op("Transpose", {&z}, {{"perm", std::vector<int64_t>{0, 0, 1}}}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Transpose", {&z}, {{"perm", std::vector<int64_t>{1, 0}}}).status.code(), error_code::bad_input);
  const tensor ints = i64({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(ints_of(run_op("Transpose", {&ints}, {}).outputs[0]), (std::vector<int64_t>{1, 3, 2, 4}));
}

TEST(ShapeOpsKernel, ConcatAxesAndTypes) {
  const tensor a = iota({2, 1});
  const tensor b = f32({2, 2}, {10, 11, 12, 13});
  auto r = run_op("Concat", {&a, &b}, {{"axis", int64_t{-1}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 3}));
  expect_near_all(values_of(r.outputs[0]), {0, 10, 11, 1, 12, 13}, 0);
  const tensor s1 = i64({1}, {1}), s2 = i64({2}, {-1, 64});
  EXPECT_EQ(ints_of(run_op("Concat", {&s1, &s2}, {{"axis", int64_t{0}}}).outputs[0]), (std::vector<int64_t>{1, -1, 64}));
  EXPECT_EQ(run_op("Concat", {&a, &b}, {{"axis", int64_t{0}}}).status.code(), error_code::bad_input);  // off-axis mismatch
  EXPECT_EQ(run_op("Concat", {&a, &s1}, {{"axis", int64_t{0}}}).status.code(), error_code::bad_input);  // type mismatch
  EXPECT_EQ(run_op("Concat", {&a, &b}, {}).status.code(), error_code::bad_input);                        // no axis
}

TEST(ShapeOpsKernel, SliceNegativeClampedAndStepped) {
  const tensor x = iota({3, 5});
  const tensor starts = i64({2}, {-2, 1}), ends = i64({2}, {1000, -1}), axes = i64({2}, {0, 1});
  auto r = run_op("Slice", {&x, &starts, &ends, &axes}, {});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 3}));
  expect_near_all(values_of(r.outputs[0]), {6, 7, 8, 11, 12, 13}, 0);
  // Reverse the columns with step -2 from INT64_MAX down to INT64_MIN: 4, 2, 0.
  const tensor s2 = i64({1}, {std::numeric_limits<int64_t>::max()}), e2 = i64({1}, {std::numeric_limits<int64_t>::min()});
  const tensor a2 = i64({1}, {-1}), st2 = i64({1}, {-2});
  auto rev = run_op("Slice", {&x, &s2, &e2, &a2, &st2}, {});
  ASSERT_TRUE(rev.status.ok()) << rev.status.message();
  expect_near_all(values_of(rev.outputs[0]), {4, 2, 0, 9, 7, 5, 14, 12, 10}, 0);
  // Opset < 10 attribute form (PP-OCR rec): rows [1, 2).
  auto attr = run_op("Slice", {&x}, {{"starts", std::vector<int64_t>{1}}, {"ends", std::vector<int64_t>{2}}, {"axes", std::vector<int64_t>{0}}});
  expect_near_all(values_of(attr.outputs[0]), {5, 6, 7, 8, 9}, 0);
  // Empty result when start >= end.
  const tensor s3 = i64({1}, {4}), e3 = i64({1}, {2});
  EXPECT_EQ(run_op("Slice", {&x, &s3, &e3}, {}).outputs[0].shape, (std::vector<int64_t>{0, 5}));
  const tensor zero = i64({1}, {0});
  EXPECT_EQ(run_op("Slice", {&x, &s3, &e3, &zero, &zero}, {}).status.code(), error_code::bad_input);
  const tensor bad_axis = i64({1}, {2});
  EXPECT_EQ(run_op("Slice", {&x, &s3, &e3, &bad_axis}, {}).status.code(), error_code::bad_input);
}

TEST(ShapeOpsKernel, PadConstantReflectEdge) {
  const tensor x = f32({1, 3}, {1, 2, 3});
  const tensor pads = i64({4}, {0, 2, 0, 1});
  const tensor value = f32({}, {-1});
  expect_near_all(values_of(run_op("Pad", {&x, &pads, &value}, {}).outputs[0]), {-1, -1, 1, 2, 3, -1}, 0);
  expect_near_all(values_of(run_op("Pad", {&x, &pads}, {{"mode", std::string("reflect")}}).outputs[0]), {3, 2, 1, 2, 3, 2}, 0);
  expect_near_all(values_of(run_op("Pad", {&x, &pads}, {{"mode", std::string("edge")}}).outputs[0]), {1, 1, 1, 2, 3, 3}, 0);
  const tensor crop = i64({4}, {0, -1, 0, 0});
  expect_near_all(values_of(run_op("Pad", {&x, &crop}, {}).outputs[0]), {2, 3}, 0);
  const tensor too_far = i64({4}, {0, 3, 0, 0});
  EXPECT_EQ(run_op("Pad", {&x, &too_far}, {{"mode", std::string("reflect")}}).status.code(), error_code::bad_input);
  const tensor short_pads = i64({2}, {1, 1});
  EXPECT_EQ(run_op("Pad", {&x, &short_pads}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Pad", {&x, &pads}, {{"mode", std::string("wrap")}}).status.code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

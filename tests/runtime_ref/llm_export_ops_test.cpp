// Sin, Cos, Expand, Range, Split, Trilu: hand-computed goldens and the error paths.
#include <cmath>
#include <limits>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {


TEST(LlmExportOps, SinCos) {
  const tensor x = f32({3}, {0.0f, 1.5707964f, 3.1415927f});
  expect_near_all(values_of(run_op("Sin", {&x}, {}).outputs[0]), {0, 1, 0}, 1e-6f);
  expect_near_all(values_of(run_op("Cos", {&x}, {}).outputs[0]), {1, 0, -1}, 1e-6f);
  const tensor ints = i64({1}, {1});
  EXPECT_EQ(run_op("Sin", {&ints}, {}).status.code(), error_code::bad_input);
}

TEST(LlmExportOps, ExpandBroadcastsBothWays) {
  const tensor col = f32({3, 1}, {1, 2, 3});
  const tensor shape = i64({2}, {3, 2});
  auto r = run_op("Expand", {&col, &shape}, {});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{3, 2}));
  expect_near_all(values_of(r.outputs[0]), {1, 1, 2, 2, 3, 3}, 0);
  // Target dim 1 keeps the input's 3; a longer target adds leading dims.
  const tensor shape2 = i64({3}, {2, 1, 1});
  auto b = run_op("Expand", {&col, &shape2}, {});
  EXPECT_EQ(b.outputs[0].shape, (std::vector<int64_t>{2, 3, 1}));
  expect_near_all(values_of(b.outputs[0]), {1, 2, 3, 1, 2, 3}, 0);
  const tensor ids = i64({1, 2}, {7, 9});
  const tensor shape3 = i64({2}, {2, 2});
  EXPECT_EQ(ints_of(run_op("Expand", {&ids, &shape3}, {}).outputs[0]), (std::vector<int64_t>{7, 9, 7, 9}));
  const tensor bad = i64({2}, {2, 4});  // 3 vs 2 cannot broadcast
  EXPECT_EQ(run_op("Expand", {&col, &bad}, {}).status.code(), error_code::bad_input);
  const tensor huge = i64({3}, {1 << 20, 1 << 20, 2});
  EXPECT_EQ(run_op("Expand", {&col, &huge}, {}).status.code(), error_code::bad_input);
  const tensor negative = i64({2}, {-3, 1});
  EXPECT_EQ(run_op("Expand", {&col, &negative}, {}).status.code(), error_code::bad_input);
}

TEST(LlmExportOps, Range) {
  const tensor s = i64({}, {1}), l = i64({}, {10}), d = i64({}, {3});
  EXPECT_EQ(ints_of(run_op("Range", {&s, &l, &d}, {}).outputs[0]), (std::vector<int64_t>{1, 4, 7}));
  const tensor down = i64({}, {-2});
  auto empty = run_op("Range", {&s, &l, &down}, {});  // ceil(9 / -2) < 0 -> empty
  ASSERT_TRUE(empty.status.ok());
  EXPECT_EQ(empty.outputs[0].shape, (std::vector<int64_t>{0}));
  const tensor fs = f32({}, {10}), fl = f32({}, {4}), fd = f32({}, {-2.5f});
  auto f = run_op("Range", {&fs, &fl, &fd}, {});  // ceil(-6 / -2.5) = 3
  expect_near_all(values_of(f.outputs[0]), {10, 7.5f, 5}, 0);
  const tensor zero = i64({}, {0});
  EXPECT_EQ(run_op("Range", {&s, &l, &zero}, {}).status.code(), error_code::bad_input);
  const tensor far = i64({}, {int64_t{1} << 62}), one = i64({}, {1});
  EXPECT_EQ(run_op("Range", {&s, &far, &one}, {}).status.code(), error_code::bad_input);
  const tensor nan = f32({}, {NAN});
  EXPECT_EQ(run_op("Range", {&fs, &nan, &fd}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Range", {&s, &fl, &d}, {}).status.code(), error_code::bad_input);  // mixed types
}

TEST(LlmExportOps, SplitInputAttributeAndEqual) {
  // [2, 4] = [[0 1 2 3], [4 5 6 7]]
  const tensor x = f32({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  const tensor sizes = i64({2}, {1, 3});
  auto r = run_op("Split", {&x, &sizes}, {{"axis", int64_t{-1}}}, 2);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 1}));
  expect_near_all(values_of(r.outputs[0]), {0, 4}, 0);
  expect_near_all(values_of(r.outputs[1]), {1, 2, 3, 5, 6, 7}, 0);
  auto a = run_op("Split", {&x}, {{"split", std::vector<int64_t>{1, 1}}}, 2);  // opset < 13, axis 0
  expect_near_all(values_of(a.outputs[1]), {4, 5, 6, 7}, 0);
  auto e = run_op("Split", {&x}, {{"axis", int64_t{1}}}, 2);
  expect_near_all(values_of(e.outputs[0]), {0, 1, 4, 5}, 0);
  expect_near_all(values_of(e.outputs[1]), {2, 3, 6, 7}, 0);
  // Opset 18: 4 into 3 parts gives ceil sizes 2, 2, 0.
  auto n = run_op("Split", {&x}, {{"axis", int64_t{1}}, {"num_outputs", int64_t{3}}}, 3);
  ASSERT_TRUE(n.status.ok());
  EXPECT_EQ(n.outputs[2].shape, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(run_op("Split", {&x}, {{"axis", int64_t{1}}}, 3).status.code(), error_code::bad_input);  // 4 % 3
  const tensor wrong_sum = i64({2}, {1, 2});
  EXPECT_EQ(run_op("Split", {&x, &wrong_sum}, {{"axis", int64_t{1}}}, 2).status.code(), error_code::bad_input);
  const tensor negative = i64({2}, {-1, 5});
  EXPECT_EQ(run_op("Split", {&x, &negative}, {{"axis", int64_t{1}}}, 2).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Split", {&x, &sizes}, {{"axis", int64_t{1}}}, 3).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Split", {&x}, {{"axis", int64_t{2}}}, 2).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Split", {&x}, {{"num_outputs", int64_t{3}}}, 2).status.code(), error_code::bad_input);
}

TEST(LlmExportOps, Trilu) {
  // [[1 2 3], [4 5 6]]
  const tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_near_all(values_of(run_op("Trilu", {&x}, {}).outputs[0]), {1, 2, 3, 0, 5, 6}, 0);
  expect_near_all(values_of(run_op("Trilu", {&x}, {{"upper", int64_t{0}}}).outputs[0]), {1, 0, 0, 4, 5, 0}, 0);
  const tensor k1 = i64({}, {1});
  expect_near_all(values_of(run_op("Trilu", {&x, &k1}, {}).outputs[0]), {0, 2, 3, 0, 0, 6}, 0);
  const tensor km1 = i64({}, {-1});
  expect_near_all(values_of(run_op("Trilu", {&x, &km1}, {{"upper", int64_t{0}}}).outputs[0]), {0, 0, 0, 4, 0, 0}, 0);
  const tensor kbig = i64({}, {std::numeric_limits<int64_t>::min()});
  expect_near_all(values_of(run_op("Trilu", {&x, &kbig}, {}).outputs[0]), {1, 2, 3, 4, 5, 6}, 0);
  // Batched int64 with the causal-mask k = 1 torch emits.
  const tensor b = i64({2, 2, 2}, {1, 1, 1, 1, 2, 2, 2, 2});
  EXPECT_EQ(ints_of(run_op("Trilu", {&b, &k1}, {}).outputs[0]), (std::vector<int64_t>{0, 1, 0, 0, 0, 2, 0, 0}));
  const tensor v = f32({3}, {1, 2, 3});
  EXPECT_EQ(run_op("Trilu", {&v}, {}).status.code(), error_code::bad_input);
  const tensor k2 = i64({2}, {1, 2});
  EXPECT_EQ(run_op("Trilu", {&x, &k2}, {}).status.code(), error_code::bad_input);
}

// Shape arithmetic in torch exports runs on int64: Add/Sub/Mul/Div and an int64 ConstantOfShape.
TEST(LlmExportOps, Int64ArithmeticAndConstantOfShape) {
  const tensor a = i64({3}, {7, -7, std::numeric_limits<int64_t>::min()});
  const tensor b = i64({}, {2});
  EXPECT_EQ(ints_of(run_op("Add", {&a, &b}, {}).outputs[0]), (std::vector<int64_t>{9, -5, std::numeric_limits<int64_t>::min() + 2}));
  EXPECT_EQ(ints_of(run_op("Sub", {&a, &b}, {}).outputs[0]), (std::vector<int64_t>{5, -9, std::numeric_limits<int64_t>::max() - 1}));
  EXPECT_EQ(ints_of(run_op("Mul", {&a, &b}, {}).outputs[0]), (std::vector<int64_t>{14, -14, 0}));  // wraps
  EXPECT_EQ(ints_of(run_op("Div", {&a, &b}, {}).outputs[0]), (std::vector<int64_t>{3, -3, std::numeric_limits<int64_t>::min() / 2}));
  const tensor minus_one = i64({}, {-1}), zero = i64({}, {0});
  EXPECT_EQ(ints_of(run_op("Div", {&a, &minus_one}, {}).outputs[0]), (std::vector<int64_t>{-7, 7, std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ(run_op("Div", {&a, &zero}, {}).status.code(), error_code::bad_input);
  const tensor f = f32({1}, {1});
  EXPECT_EQ(run_op("Mul", {&a, &f}, {}).status.code(), error_code::bad_input);  // mixed types
  const tensor shape = i64({1}, {2});
  auto c = run_op("ConstantOfShape", {&shape}, {{"value", int64_t{-3}}});
  ASSERT_EQ(c.outputs[0].type, dtype::i64);
  EXPECT_EQ(ints_of(c.outputs[0]), (std::vector<int64_t>{-3, -3}));
}

}  // namespace
}  // namespace edgepack::testing

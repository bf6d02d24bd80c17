// Hand-computed goldens for the elementwise, Gather, Reshape, Gemm and MatMul kernels.
#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

TEST(ElementwiseKernel, AddBroadcastsRowAndColumn) {
  const tensor a = f32({2, 1}, {1, 2});
  const tensor b = f32({3}, {10, 20, 30});
  auto r = run_op("Add", {&a, &b}, {});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 3}));
  expect_near_all(values_of(r.outputs[0]), {11, 21, 31, 12, 22, 32}, 0);
}

TEST(ElementwiseKernel, MulSubDivSameShape) {
  const tensor a = f32({3}, {2, 6, -1});
  const tensor b = f32({3}, {4, 3, 2});
  expect_near_all(values_of(run_op("Mul", {&a, &b}, {}).outputs[0]), {8, 18, -2}, 0);
  expect_near_all(values_of(run_op("Sub", {&a, &b}, {}).outputs[0]), {-2, 3, -3}, 0);
  expect_near_all(values_of(run_op("Div", {&a, &b}, {}).outputs[0]), {0.5f, 2, -0.5f}, 0);
}

TEST(ElementwiseKernel, IncompatibleShapesNameTheNode) {
  const tensor a = f32({2}, {1, 2});
  const tensor b = f32({3}, {1, 2, 3});
  auto r = run_op("Add", {&a, &b}, {});
  EXPECT_EQ(r.status.code(), error_code::bad_input);
  EXPECT_NE(r.status.message().find("test_Add"), std::string::npos);
}

TEST(ElementwiseKernel, SigmoidValues) {
  const tensor x = f32({3}, {0, 2, -2});
  expect_near_all(values_of(run_op("Sigmoid", {&x}, {}).outputs[0]), {0.5f, 0.880797f, 0.119203f}, 1e-6f);
}

TEST(GatherKernel, RowsWithNegativeIndex) {
  const tensor data = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  const tensor idx = i64({1, 2}, {2, -3});
  auto r = run_op("Gather", {&data, &idx}, {});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, 2, 2}));
  expect_near_all(values_of(r.outputs[0]), {5, 6, 1, 2}, 0);
}

TEST(GatherKernel, Axis1AndOutOfRange) {
  const tensor data = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const tensor idx = i64({2}, {2, 0});
  auto r = run_op("Gather", {&data, &idx}, {{"axis", int64_t{1}}});
  expect_near_all(values_of(r.outputs[0]), {3, 1, 6, 4}, 0);
  const tensor bad = i64({1}, {3});
  EXPECT_EQ(run_op("Gather", {&data, &bad}, {{"axis", int64_t{1}}}).status.code(), error_code::bad_input);
}

TEST(ReshapeKernel, InferAndCopyDims) {
  const tensor data = f32({2, 3, 4}, std::vector<float>(24, 1.0f));
  const tensor shape = i64({3}, {0, -1, 2});
  auto r = run_op("Reshape", {&data, &shape}, {});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 6, 2}));
  const tensor wrong = i64({2}, {5, -1});
  EXPECT_EQ(run_op("Reshape", {&data, &wrong}, {}).status.code(), error_code::bad_input);
}

TEST(GemmKernel, TransBAlphaBetaBias) {
  // A [2,3], B stored [2,3] (transB) -> Y [2,2] = 2*A*B^T + 0.5*C
  const tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const tensor b = f32({2, 3}, {1, 0, -1, 2, 1, 0});
  const tensor c = f32({2}, {10, 20});
  auto r = run_op("Gemm", {&a, &b, &c}, {{"transB", int64_t{1}}, {"alpha", 2.0}, {"beta", 0.5}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  // A*B^T = [[1-3, 2+2], [4-6, 8+5]] = [[-2, 4], [-2, 13]]
  expect_near_all(values_of(r.outputs[0]), {-4 + 5, 8 + 10, -4 + 5, 26 + 10}, 1e-6f);
}

TEST(GemmKernel, TransAOddShapes) {
  const tensor a = f32({3, 1}, {1, 2, 3});  // A^T = [1,3]
  const tensor b = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  auto r = run_op("Gemm", {&a, &b}, {{"transA", int64_t{1}}});
  expect_near_all(values_of(r.outputs[0]), {22, 28}, 1e-6f);
  const tensor bad = f32({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run_op("Gemm", {&a, &bad}, {{"transA", int64_t{1}}}).status.code(), error_code::bad_input);
}

TEST(MatMulKernel, BatchedBroadcastAndVector) {
  const tensor a = f32({2, 1, 2}, {1, 2, 3, 4});
  const tensor b = f32({2, 1}, {10, 1});
  auto r = run_op("MatMul", {&a, &b}, {});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{2, 1, 1}));
  expect_near_all(values_of(r.outputs[0]), {12, 34}, 1e-6f);
  const tensor v = f32({2}, {1, 1});
  auto rv = run_op("MatMul", {&v, &b}, {});
  EXPECT_EQ(rv.outputs[0].shape, (std::vector<int64_t>{1}));
  expect_near_all(values_of(rv.outputs[0]), {11}, 1e-6f);
}

}  // namespace
}  // namespace edgepack::testing

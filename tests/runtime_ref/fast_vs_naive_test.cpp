// The fast GEMM-shaped kernels (Eigen, blocked, threaded, direct depthwise) against the naive
// definitions in runtime_ref/naive_kernels.h on random odd shapes, and byte-identical outputs at
// any thread count.
//
// Tolerance: the naive kernels accumulate in double, the fast ones in float with a blocked order.
// With inputs uniform in [-1, 1] and reduction length K <= ~700 here, float rounding of a dot
// product is bounded by about K·eps·Σ|terms| and is typically sqrt(K)·eps·|terms| ≈ 1e-6; we allow
// max-abs 1e-4 (far above typical, far below any indexing bug, which gives O(1) errors) and
// NMSE 1e-9 (a wrong tap or a missing bias gives NMSE > 1e-3).
#include <array>
#include <cmath>
#include <cstring>
#include <random>

#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/naive_kernels.h"
#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

op_run run_with(kernel_function k, const std::string& op_type, std::vector<const tensor*> inputs, std::map<std::string, attribute_value> attributes) {
  node n;
  n.name = "test_" + op_type;
  n.op_type = op_type;
  for (size_t i = 0; i < inputs.size(); ++i) n.inputs.push_back(inputs[i] ? "in" + std::to_string(i) : "");
  n.outputs.push_back("out0");
  n.attributes = std::move(attributes);
  kernel_io io{n, inputs, {}, nullptr};
  io.outputs.resize(1);
  op_run result;
  result.status = k(io);
  result.outputs = std::move(io.outputs);
  return result;
}

tensor random_f32(std::vector<int64_t> shape, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  std::vector<float> v(static_cast<size_t>(count));
  for (float& e : v) e = dist(rng);
  return f32(std::move(shape), std::move(v));
}

// Runs the registered kernel and the naive one; checks shapes, max-abs and NMSE.
void expect_fast_matches_naive(kernel_function naive, const std::string& op_type, std::vector<const tensor*> inputs,
                               const std::map<std::string, attribute_value>& attributes, const std::string& label) {
  auto fast = run_op(op_type, inputs, attributes);
  auto slow = run_with(naive, op_type, inputs, attributes);
  ASSERT_TRUE(fast.status.ok()) << label << ": " << fast.status.message();
  ASSERT_TRUE(slow.status.ok()) << label << ": " << slow.status.message();
  ASSERT_EQ(fast.outputs[0].shape, slow.outputs[0].shape) << label;
  const auto a = values_of(fast.outputs[0]);
  const auto b = values_of(slow.outputs[0]);
  double err = 0.0, ref = 0.0, max_abs = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - b[i];
    err += d * d;
    ref += double(b[i]) * b[i];
    max_abs = std::max(max_abs, std::fabs(d));
  }
  EXPECT_LT(max_abs, 1e-4) << label;
  EXPECT_LT(err / std::max(ref, 1e-30), 1e-9) << label;
}

// Output bytes of the registered kernel at several thread counts must be identical.
void expect_thread_count_invariant(const std::string& op_type, std::vector<const tensor*> inputs, const std::map<std::string, attribute_value>& attributes) {
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3, 5}) {
    set_kernel_threads(threads);
    auto r = run_op(op_type, inputs, attributes);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    results.push_back(values_of(r.outputs[0]));
  }
  set_kernel_threads(1);
  for (size_t i = 1; i < results.size(); ++i) {
    ASSERT_EQ(results[i].size(), results[0].size());
    EXPECT_EQ(std::memcmp(results[i].data(), results[0].data(), results[0].size() * sizeof(float)), 0) << op_type << " differs at thread variant " << i;
  }
}

struct fast_conv_case {
  std::vector<int64_t> x, w;  // X [N, C, (H,) W], W [M, C/group, (kh,) kw]
  int64_t group;
  std::vector<int64_t> strides, dilations, pads;
  bool bias;
};

TEST(FastVsNaive, ConvVariants) {
  const std::vector<fast_conv_case> cases = {
      {{1, 3, 17, 23}, {5, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},
      {{2, 6, 13, 11}, {9, 2, 3, 3}, 3, {2, 1}, {1, 1}, {1, 0, 2, 1}, false},           // groups, asymmetric pads
      {{1, 7, 19, 21}, {7, 1, 5, 5}, 7, {1, 1}, {1, 1}, {2, 2, 2, 2}, true},            // depthwise 5×5
      {{1, 7, 19, 21}, {7, 1, 3, 3}, 7, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},            // depthwise stride 2
      {{1, 5, 15, 17}, {10, 1, 3, 3}, 5, {1, 2}, {2, 1}, {2, 0, 1, 3}, true},           // channel multiplier 2, dilation
      {{1, 3, 21, 19}, {4, 3, 3, 2}, 1, {2, 3}, {2, 3}, {3, 1, 0, 2}, true},            // stride + dilation
      {{1, 11, 9, 13}, {13, 11, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},          // pointwise
      {{1, 4, 9, 13}, {6, 2, 1, 1}, 2, {2, 2}, {1, 1}, {0, 0, 0, 0}, false},            // strided 1×1, groups
      {{2, 3, 37}, {5, 3, 7}, 1, {3}, {2}, {4, 1}, true},                               // 1-D
      {{1, 6, 31}, {6, 1, 5}, 6, {1}, {1}, {2, 2}, true},                               // 1-D depthwise
      {{1, 16, 41, 43}, {24, 16, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},         // > one column block
      {{1, 3, 1, 1}, {2, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, true},              // all but one tap in padding
  };
  std::mt19937 rng(11);
  for (const auto& c : cases) {
    const tensor x = random_f32(c.x, rng);
    const tensor w = random_f32(c.w, rng);
    const tensor b = random_f32({c.w[0]}, rng);
    const std::map<std::string, attribute_value> attributes{{"group", c.group}, {"strides", c.strides}, {"dilations", c.dilations}, {"pads", c.pads}};
    const std::string label = "conv X" + shape_to_string(c.x) + " W" + shape_to_string(c.w) + " group " + std::to_string(c.group);
    expect_fast_matches_naive(conv_naive, "Conv", {&x, &w, c.bias ? &b : nullptr}, attributes, label);
  }
}

TEST(FastVsNaive, ConvAutoPadSame) {
  std::mt19937 rng(12);
  const tensor x = random_f32({1, 4, 11, 14}, rng);
  const tensor w = random_f32({6, 4, 3, 4}, rng);
  for (const char* pad : {"SAME_UPPER", "SAME_LOWER", "VALID"})
    expect_fast_matches_naive(conv_naive, "Conv", {&x, &w}, {{"auto_pad", std::string(pad)}, {"strides", std::vector<int64_t>{2, 3}}}, pad);
}

TEST(FastVsNaive, ConvTransposeVariants) {
  const std::vector<fast_conv_case> cases = {
      {{1, 4, 9, 11}, {4, 3, 2, 2}, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, true},   // PP-OCR det upsampling
      {{2, 6, 7, 5}, {6, 2, 3, 3}, 3, {2, 1}, {1, 2}, {1, 0, 1, 2}, true},    // groups, dilation, pads
      {{1, 5, 8, 9}, {5, 1, 4, 3}, 5, {3, 2}, {1, 1}, {1, 1, 2, 0}, false},   // depthwise
      {{1, 3, 29}, {3, 4, 5}, 1, {2}, {2}, {3, 1}, true},                     // 1-D
  };
  std::mt19937 rng(13);
  for (const auto& c : cases) {
    const tensor x = random_f32(c.x, rng);
    const tensor w = random_f32(c.w, rng);
    const tensor b = random_f32({c.w[1] * c.group}, rng);
    const std::map<std::string, attribute_value> attributes{{"group", c.group}, {"strides", c.strides}, {"dilations", c.dilations}, {"pads", c.pads}};
    expect_fast_matches_naive(conv_transpose_naive, "ConvTranspose", {&x, &w, c.bias ? &b : nullptr}, attributes, "conv_transpose X" + shape_to_string(c.x));
  }
  const tensor x = random_f32({1, 3, 6, 7}, rng);
  const tensor w = random_f32({3, 2, 3, 3}, rng);
  expect_fast_matches_naive(conv_transpose_naive, "ConvTranspose", {&x, &w},
                            {{"strides", std::vector<int64_t>{2, 3}}, {"output_padding", std::vector<int64_t>{1, 2}}}, "output_padding");
}

TEST(FastVsNaive, MatMulShapes) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{37, 53}, {53, 29}},      {{3, 1, 17, 31}, {5, 31, 19}}, {{41}, {41, 7}},    {{7, 41}, {41}},
      {{2, 40, 120}, {120, 613}}, {{1, 1, 13}, {13, 1100}},      {{172}, {172}}, {{4, 3, 9, 5}, {4, 3, 5, 11}},
  };
  std::mt19937 rng(14);
  for (const auto& [sa, sb] : cases) {
    const tensor a = random_f32(sa, rng);
    const tensor b = random_f32(sb, rng);
    expect_fast_matches_naive(matmul_naive, "MatMul", {&a, &b}, {}, "matmul " + shape_to_string(sa) + " x " + shape_to_string(sb));
  }
}

TEST(FastVsNaive, GemmTransposesAlphaBetaBroadcastC) {
  std::mt19937 rng(15);
  for (int64_t ta : {0, 1})
    for (int64_t tb : {0, 1})
      for (const std::vector<int64_t>& cshape : {std::vector<int64_t>{}, std::vector<int64_t>{1}, std::vector<int64_t>{613}, std::vector<int64_t>{23, 1},
                                                 std::vector<int64_t>{23, 613}}) {
        const int64_t m = 23, k = 67, n = 613;
        const tensor a = random_f32(ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k}, rng);
        const tensor b = random_f32(tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, rng);
        const tensor c = random_f32(cshape.empty() ? std::vector<int64_t>{1} : cshape, rng);
        expect_fast_matches_naive(gemm_naive, "Gemm", {&a, &b, cshape.empty() ? nullptr : &c},
                                  {{"transA", ta}, {"transB", tb}, {"alpha", 0.75}, {"beta", -1.25}},
                                  "gemm transA " + std::to_string(ta) + " transB " + std::to_string(tb) + " C" + shape_to_string(cshape));
      }
}

TEST(FastVsNaive, OutputsAreByteIdenticalAtAnyThreadCount) {
  std::mt19937 rng(16);
  const tensor x = random_f32({1, 16, 41, 43}, rng);
  const tensor w = random_f32({24, 16, 3, 3}, rng);
  const tensor b = random_f32({24}, rng);
  expect_thread_count_invariant("Conv", {&x, &w, &b}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const tensor wd = random_f32({16, 1, 5, 5}, rng);
  expect_thread_count_invariant("Conv", {&x, &wd}, {{"group", int64_t{16}}, {"pads", std::vector<int64_t>{2, 2, 2, 2}}});
  const tensor a = random_f32({3, 37, 130}, rng);
  const tensor bm = random_f32({130, 1100}, rng);
  expect_thread_count_invariant("MatMul", {&a, &bm}, {});
  const tensor ga = random_f32({37, 130}, rng);
  const tensor gc = random_f32({1100}, rng);
  expect_thread_count_invariant("Gemm", {&ga, &bm, &gc}, {});
  const tensor tx = random_f32({1, 32, 20, 27}, rng);
  const tensor tw = random_f32({32, 8, 2, 2}, rng);
  expect_thread_count_invariant("ConvTranspose", {&tx, &tw}, {{"strides", std::vector<int64_t>{2, 2}}});
}

// Column blocking keeps each column's summation order: the blocked product equals one unsplit
// gemm_f32 call byte for byte (so splitting work never moves results, only the wall time), and
// transposed operands give the same bits as their row-major copies.
TEST(FastVsNaive, BlockedProductEqualsUnsplitProduct) {
  using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto [m, k, n] : {std::array<int64_t, 3>{37, 301, 1025}, {5, 27, 1537}, {64, 1000, 513}, {1, 130, 1100}, {24, 144, 2051}}) {
    row_major a(m, k), b(k, n);
    for (auto* mat : {&a, &b})
      for (int64_t i = 0; i < mat->size(); ++i) mat->data()[i] = dist(rng);
    row_major whole(m, n), blocked(m, n), transposed(m, n);
    gemm_f32(m, n, k, {a.data(), k, 1}, {b.data(), n, 1}, whole.data(), n);
    set_kernel_threads(2);
    blocked_product(blocked, a, b);
    const row_major at = a.transpose(), bt = b.transpose();
    blocked_product(transposed, at.transpose(), bt.transpose());
    set_kernel_threads(1);
    EXPECT_EQ(std::memcmp(whole.data(), blocked.data(), sizeof(float) * m * n), 0) << m << "x" << k << "x" << n;
    EXPECT_EQ(std::memcmp(whole.data(), transposed.data(), sizeof(float) * m * n), 0) << m << "x" << k << "x" << n;
  }
}

}  // namespace
}  // namespace edgepack::testing

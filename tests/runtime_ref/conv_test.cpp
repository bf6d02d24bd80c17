// Conv: hand-computed goldens, then a slow direct-convolution reference (nested loops, double
// accumulation) compared by max-abs error on random odd shapes for every attribute variant.
#include <cmath>
#include <random>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

TEST(ConvKernel, HandComputed3x3Pad1) {
  // X = 1..9 in a 3×3 plane, all-ones 3×3 kernel, pad 1: each output is the sum of its 3×3
  // neighbourhood within the image.
  const tensor x = f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const tensor w = f32({1, 1, 3, 3}, std::vector<float>(9, 1.0f));
  const tensor b = f32({1}, {0.5f});
  auto r = run_op("Conv", {&x, &w, &b}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, 1, 3, 3}));
  expect_near_all(values_of(r.outputs[0]), {12.5f, 21.5f, 16.5f, 27.5f, 45.5f, 33.5f, 24.5f, 39.5f, 28.5f}, 1e-5f);
}

TEST(ConvKernel, HandComputed1DStride2) {
  // x = [1 2 3 4 5], w = [1 -1], stride 2: [1-2, 3-4] = [-1, -1].
  const tensor x = f32({1, 1, 5}, {1, 2, 3, 4, 5});
  const tensor w = f32({1, 1, 2}, {1, -1});
  auto r = run_op("Conv", {&x, &w}, {{"strides", std::vector<int64_t>{2}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, 1, 2}));
  expect_near_all(values_of(r.outputs[0]), {-1, -1}, 0);
}

TEST(ConvKernel, SameUpperAndLowerPutTheOddPadOnOppositeSides) {
  // in 4, kernel 2, stride 1: total pad 1. UPPER pads the end, LOWER the beginning.
  const tensor x = f32({1, 1, 4}, {1, 2, 3, 4});
  const tensor w = f32({1, 1, 2}, {1, 10});
  auto upper = run_op("Conv", {&x, &w}, {{"auto_pad", std::string("SAME_UPPER")}});
  auto lower = run_op("Conv", {&x, &w}, {{"auto_pad", std::string("SAME_LOWER")}});
  ASSERT_TRUE(upper.status.ok() && lower.status.ok());
  expect_near_all(values_of(upper.outputs[0]), {21, 32, 43, 4}, 0);
  expect_near_all(values_of(lower.outputs[0]), {10, 21, 32, 43}, 0);
  auto valid = run_op("Conv", {&x, &w}, {{"auto_pad", std::string("VALID")}});
  expect_near_all(values_of(valid.outputs[0]), {21, 32, 43}, 0);
}

// Direct convolution straight from the ONNX definition.
std::vector<float> direct_conv(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& bias, int64_t n, int64_t c,
                               int64_t h, int64_t wd, int64_t m, int64_t kh, int64_t kw, int64_t group, const std::vector<int64_t>& stride,
                               const std::vector<int64_t>& dil, const std::vector<int64_t>& pads, int64_t oh, int64_t ow) {
  std::vector<float> y(n * m * oh * ow);
  const int64_t cg = c / group, mg = m / group;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < m; ++o)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = bias.empty() ? 0.0 : bias[o];
          const int64_t g = o / mg;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iy = oy * stride[0] - pads[0] + i * dil[0];
                const int64_t ix = ox * stride[1] - pads[1] + j * dil[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += double(x[((b * c + g * cg + ci) * h + iy) * wd + ix]) * w[((o * cg + ci) * kh + i) * kw + j];
              }
          y[((b * m + o) * oh + oy) * ow + ox] = static_cast<float>(acc);
        }
  return y;
}

struct conv_case {
  int64_t n, c, h, w, m, kh, kw, group;
  std::vector<int64_t> stride, dil, pads;  // pads: top, left, bottom, right
  bool bias;
};

TEST(ConvKernel, MatchesDirectReferenceOnOddShapes) {
  const std::vector<conv_case> cases = {
      {1, 3, 5, 7, 4, 3, 3, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},
      {2, 3, 5, 7, 6, 3, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, false},
      {1, 6, 7, 5, 6, 3, 3, 6, {2, 2}, {1, 1}, {1, 1, 1, 1}, true},   // depthwise
      {1, 3, 9, 11, 5, 3, 3, 1, {1, 1}, {2, 2}, {2, 2, 2, 2}, true},  // dilation 2
      {1, 4, 7, 9, 4, 3, 2, 2, {2, 1}, {1, 2}, {0, 1, 2, 0}, true},   // asymmetric pads
      {1, 8, 6, 6, 16, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true},  // pointwise fast path
      {1, 8, 9, 7, 8, 5, 5, 8, {2, 1}, {1, 1}, {2, 2, 2, 2}, true},   // PP-OCR depthwise 5×5
      {1, 1, 1, 13, 3, 1, 4, 1, {1, 3}, {1, 1}, {0, 1, 0, 2}, true},  // 1-D shaped
      {1, 4, 7, 9, 6, 1, 1, 2, {2, 2}, {1, 1}, {0, 0, 0, 0}, false},  // 1×1 strided: no fast path
      {1, 3, 5, 5, 2, 1, 1, 1, {1, 1}, {1, 1}, {1, 0, 0, 1}, true},   // 1×1 padded: no fast path
  };
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const auto& k : cases) {
    std::vector<float> xv(k.n * k.c * k.h * k.w), wv(k.m * (k.c / k.group) * k.kh * k.kw), bv(k.bias ? k.m : 0);
    for (auto* v : {&xv, &wv, &bv})
      for (float& e : *v) e = dist(rng);
    const tensor x = f32({k.n, k.c, k.h, k.w}, xv);
    const tensor w = f32({k.m, k.c / k.group, k.kh, k.kw}, wv);
    const tensor b = f32({k.m}, bv);
    auto r = run_op("Conv", {&x, &w, k.bias ? &b : nullptr},
                    {{"group", k.group}, {"strides", k.stride}, {"dilations", k.dil}, {"pads", k.pads},
                     {"kernel_shape", std::vector<int64_t>{k.kh, k.kw}}});
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    const int64_t oh = (k.h + k.pads[0] + k.pads[2] - ((k.kh - 1) * k.dil[0] + 1)) / k.stride[0] + 1;
    const int64_t ow = (k.w + k.pads[1] + k.pads[3] - ((k.kw - 1) * k.dil[1] + 1)) / k.stride[1] + 1;
    ASSERT_EQ(r.outputs[0].shape, (std::vector<int64_t>{k.n, k.m, oh, ow}));
    const auto expected = direct_conv(xv, wv, bv, k.n, k.c, k.h, k.w, k.m, k.kh, k.kw, k.group, k.stride, k.dil, k.pads, oh, ow);
    const auto actual = values_of(r.outputs[0]);
    float max_abs = 0;
    for (size_t i = 0; i < actual.size(); ++i) max_abs = std::max(max_abs, std::fabs(actual[i] - expected[i]));
    EXPECT_LT(max_abs, 1e-5f) << "case c=" << k.c << " group=" << k.group;
  }
}

TEST(ConvKernel, OneDimensionalMatchesTwoDimensionalWithUnitHeight) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> xv(2 * 4 * 11), wv(6 * 2 * 3), bv(6);
  for (auto* v : {&xv, &wv, &bv})
    for (float& e : *v) e = dist(rng);
  const tensor x1 = f32({2, 4, 11}, xv), w1 = f32({6, 2, 3}, wv), b = f32({6}, bv);
  const tensor x2 = f32({2, 4, 1, 11}, xv), w2 = f32({6, 2, 1, 3}, wv);
  auto r1 = run_op("Conv", {&x1, &w1, &b}, {{"group", int64_t{2}}, {"strides", std::vector<int64_t>{2}}, {"pads", std::vector<int64_t>{1, 2}}});
  auto r2 = run_op("Conv", {&x2, &w2, &b},
                   {{"group", int64_t{2}}, {"strides", std::vector<int64_t>{1, 2}}, {"pads", std::vector<int64_t>{0, 1, 0, 2}}});
  ASSERT_TRUE(r1.status.ok() && r2.status.ok()) << r1.status.message() << r2.status.message();
  EXPECT_EQ(r1.outputs[0].shape, (std::vector<int64_t>{2, 6, 6}));
  expect_near_all(values_of(r1.outputs[0]), values_of(r2.outputs[0]), 0);
}

TEST(ConvKernel, HostileAttributesAndShapesFail) {
  const tensor x = f32({1, 4, 5, 5}, std::vector<float>(100, 1.0f));
  const tensor w = f32({2, 2, 3, 3}, std::vector<float>(36, 1.0f));
  const tensor bad_bias = f32({3}, {1, 2, 3});
  auto expect_fail = [](const op_run& r, const std::string& needle) {
    EXPECT_EQ(r.status.code(), error_code::bad_input);
    EXPECT_NE(r.status.message().find(needle), std::string::npos) << r.status.message();
    EXPECT_NE(r.status.message().find("test_Conv"), std::string::npos);
  };
  expect_fail(run_op("Conv", {&x, &w}, {}), "input channels");                      // W wants 2 channels, group 1
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{3}}}), "group 3");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{0}}}), "group 0");
  expect_fail(run_op("Conv", {&x, &w, &bad_bias}, {{"group", int64_t{2}}}), "B [3]");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{2}}, {"strides", std::vector<int64_t>{0, 1}}}), "strides");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{2}}, {"pads", std::vector<int64_t>{1, 1}}}), "pads has 2 values");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{2}}, {"dilations", std::vector<int64_t>{4, 4}}}), "does not fit");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{2}}, {"auto_pad", std::string("SAME")}}), "auto_pad");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{2}}, {"kernel_shape", std::vector<int64_t>{5, 5}}}), "kernel_shape");
  expect_fail(run_op("Conv", {&x, &w}, {{"group", int64_t{2}}, {"pads", std::vector<int64_t>{int64_t{1} << 40, 0, 0, 0}}}), "out of range");
  const tensor x5 = f32({1, 1, 1, 1, 1}, {1});
  const tensor w5 = f32({1, 1, 1, 1, 1}, {1});
  expect_fail(run_op("Conv", {&x5, &w5}, {}), "X must be");
  const tensor w1 = f32({2, 2, 3}, std::vector<float>(12, 1.0f));
  expect_fail(run_op("Conv", {&x, &w1}, {}), "rank");
}

}  // namespace
}  // namespace edgepack::testing

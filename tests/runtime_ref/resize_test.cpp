// Resize and ConvTranspose (the upsampling ops of PP-OCR det): hand goldens and error cases.
#include <cmath>
#include <random>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

TEST(ResizeKernel, NearestAsymmetricFloorAsInPpOcrDet) {
  const tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const tensor roi = f32({0}, {});
  const tensor scales = f32({4}, {1, 1, 2, 2});
  auto r = run_op("Resize", {&x, &roi, &scales},
                  {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")}, {"nearest_mode", std::string("floor")}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, 1, 4, 4}));
  expect_near_all(values_of(r.outputs[0]), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 0);
}

TEST(ResizeKernel, NearestDefaultModesAndSizes) {
  // half_pixel + round_prefer_floor, 3 -> 2 via sizes: source coords 0.25 and 1.75 -> 0, 2.
  const tensor x = f32({1, 3}, {10, 20, 30});
  const tensor sizes = i64({2}, {1, 2});
  auto r = run_op("Resize", {&x, nullptr, nullptr, &sizes}, {});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  expect_near_all(values_of(r.outputs[0]), {10, 30}, 0);
}

TEST(ResizeKernel, LinearHalfPixelAndAlignCorners) {
  const tensor x = f32({1, 1, 1, 2}, {0, 4});
  const tensor scales = f32({4}, {1, 1, 1, 2});
  // half_pixel: coords -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1) -> 0, 1, 3, 4.
  auto r = run_op("Resize", {&x, nullptr, &scales}, {{"mode", std::string("linear")}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  expect_near_all(values_of(r.outputs[0]), {0, 1, 3, 4}, 1e-6f);
  // align_corners: coords 0, 1/3, 2/3, 1 -> 0, 4/3, 8/3, 4.
  auto a = run_op("Resize", {&x, nullptr, &scales}, {{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}});
  expect_near_all(values_of(a.outputs[0]), {0, 4 / 3.0f, 8 / 3.0f, 4}, 1e-6f);
  // Bilinear on 2×2 -> 3×3 with align_corners: centre is the mean of the four corners.
  const tensor y = f32({1, 1, 2, 2}, {0, 2, 4, 6});
  const tensor sizes = i64({4}, {1, 1, 3, 3});
  auto b = run_op("Resize", {&y, nullptr, nullptr, &sizes}, {{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}});
  expect_near_all(values_of(b.outputs[0]), {0, 1, 2, 2, 3, 4, 4, 5, 6}, 1e-6f);
}

TEST(ResizeKernel, HostileInputsFail) {
  const tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const tensor scales = f32({4}, {1, 1, 2, 2});
  const tensor short_scales = f32({2}, {2, 2});
  const tensor zero_scale = f32({4}, {1, 1, 0, 2});
  const tensor huge = f32({4}, {1, 1, 1e5f, 1e5f});
  const tensor sizes = i64({4}, {1, 1, 4, 4});
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &short_scales}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &zero_scale}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &huge}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &scales, &sizes}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Resize", {&x}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &scales}, {{"mode", std::string("cubic")}}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &scales}, {{"coordinate_transformation_mode", std::string("tf_crop_and_resize")}}).status.code(),
            error_code::bad_input);
  const tensor scales_c = f32({4}, {1, 2, 2, 2});
  EXPECT_EQ(run_op("Resize", {&x, nullptr, &scales_c}, {{"mode", std::string("linear")}}).status.code(), error_code::bad_input);
}

TEST(ConvTransposeKernel, Stride2Kernel2AsInPpOcrDet) {
  // Non-overlapping 2×2 stamps: each input pixel scales the kernel into its own block.
  const tensor x = f32({1, 1, 1, 2}, {1, 2});
  const tensor w = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const tensor b = f32({1}, {0.5f});
  auto r = run_op("ConvTranspose", {&x, &w, &b}, {{"strides", std::vector<int64_t>{2, 2}}, {"kernel_shape", std::vector<int64_t>{2, 2}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, 1, 2, 4}));
  expect_near_all(values_of(r.outputs[0]), {1.5f, 2.5f, 2.5f, 4.5f, 3.5f, 4.5f, 6.5f, 8.5f}, 0);
}

TEST(ConvTransposeKernel, OverlapPadsGroupsMatchDirectScatter) {
  // 1-D, stride 2, kernel 3, pads (1, 0), output_padding 1, 2 groups of 2 → 3 maps each.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1, 1);
  const int64_t c = 4, g = 2, mg = 3, len = 5, k = 3, s = 2, pb = 1, pe = 0, op = 1;
  std::vector<float> xv(c * len), wv(c * mg * k), bv(g * mg);
  for (auto* v : {&xv, &wv, &bv})
    for (float& e : *v) e = dist(rng);
  const int64_t out_len = s * (len - 1) + op + k - pb - pe;
  std::vector<double> expected(g * mg * out_len);
  for (int64_t o = 0; o < g * mg; ++o)
    for (int64_t t = 0; t < out_len; ++t) expected[o * out_len + t] = bv[o];
  for (int64_t ci = 0; ci < c; ++ci) {
    const int64_t grp = ci / (c / g);
    for (int64_t m = 0; m < mg; ++m)
      for (int64_t i = 0; i < len; ++i)
        for (int64_t j = 0; j < k; ++j) {
          const int64_t t = i * s - pb + j;
          if (t >= 0 && t < out_len) expected[(grp * mg + m) * out_len + t] += double(xv[ci * len + i]) * wv[(ci * mg + m) * k + j];
        }
  }
  const tensor x = f32({1, c, len}, xv), w = f32({c, mg, k}, wv), b = f32({g * mg}, bv);
  auto r = run_op("ConvTranspose", {&x, &w, &b},
                  {{"group", g}, {"strides", std::vector<int64_t>{s}}, {"pads", std::vector<int64_t>{pb, pe}}, {"output_padding", std::vector<int64_t>{op}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.outputs[0].shape, (std::vector<int64_t>{1, g * mg, out_len}));
  const auto actual = values_of(r.outputs[0]);
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-5) << i;
}

TEST(ConvTransposeKernel, HostileInputsFail) {
  const tensor x = f32({1, 2, 3}, {1, 2, 3, 4, 5, 6});
  const tensor w = f32({2, 1, 2}, {1, 1, 1, 1});
  EXPECT_TRUE(run_op("ConvTranspose", {&x, &w}, {}).status.ok());
  const tensor w3 = f32({3, 1, 2}, std::vector<float>(6, 1));
  EXPECT_EQ(run_op("ConvTranspose", {&x, &w3}, {}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("ConvTranspose", {&x, &w}, {{"group", int64_t{3}}}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("ConvTranspose", {&x, &w}, {{"output_shape", std::vector<int64_t>{8}}}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("ConvTranspose", {&x, &w}, {{"pads", std::vector<int64_t>{3, 3}}}).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("ConvTranspose", {&x, &w}, {{"output_padding", std::vector<int64_t>{1}}}).status.code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

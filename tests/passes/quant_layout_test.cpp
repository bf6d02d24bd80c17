// Matrix views of quantized encodings (col_axis, transposed): a Conv-shaped weight groups over
// input channels x taps, a MatMul B [K, N] groups along K, and both decode back to the tensor's
// own element order. Checked against quantizing the explicitly reshaped/transposed matrix with
// the default (last-dim) view, which the rest of the suite already anchors.
#include <gtest/gtest.h>

#include <random>

#include "core/tensor.h"
#include "passes/quantize_rtn.h"

namespace edgepack {
namespace {

std::vector<float> random_values(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::vector<float> v(count);
  for (auto& x : v) x = normal(rng);
  return v;
}

quantize_rtn_options options_for(quant_encoding enc) {
  quantize_rtn_options options;
  options.encoding = enc;
  options.threads = 1;
  return options;
}

TEST(QuantLayout, ViewOfShapes) {
  quant_encoding enc;
  EXPECT_EQ(quant_view_of({6, 5}, enc).rows, 6);
  EXPECT_EQ(quant_view_of({6, 5}, enc).cols, 5);
  enc.col_axis = 1;
  const auto conv = quant_view_of({8, 3, 5, 7}, enc);
  EXPECT_EQ(conv.rows, 8);
  EXPECT_EQ(conv.cols, 3 * 5 * 7);
  enc.col_axis = 0;
  EXPECT_EQ(quant_view_of({8, 3}, enc).rows, 1);
  EXPECT_EQ(quant_view_of({8, 3}, enc).cols, 24);
  quant_encoding transposed;
  transposed.transposed = true;
  EXPECT_EQ(quant_view_of({40, 9}, transposed).rows, 9);
  EXPECT_EQ(quant_view_of({40, 9}, transposed).cols, 40);
  EXPECT_EQ(quant_view_of({0, 9}, transposed).rows, 0);
}

TEST(QuantLayout, ProblemsAreNamed) {
  quant_encoding enc;
  EXPECT_EQ(quant_layout_problem(2, enc), "");
  enc.col_axis = 2;
  EXPECT_NE(quant_layout_problem(2, enc).find("col_axis 2"), std::string::npos);
  enc.col_axis = -2;
  EXPECT_NE(quant_layout_problem(4, enc).find("col_axis -2"), std::string::npos);
  enc.col_axis = -1;
  enc.transposed = true;
  EXPECT_NE(quant_layout_problem(3, enc).find("needs a 2-D tensor"), std::string::npos);
  enc.col_axis = 0;
  EXPECT_NE(quant_layout_problem(2, enc).find("takes no col_axis"), std::string::npos);
}

TEST(QuantLayout, ConvWeightGroupsOverChannelsAndTaps) {
  const std::vector<int64_t> shape{6, 5, 3, 3};  // 45 columns: one full group of 32 + a tail of 13
  const auto values = random_values(6 * 45, 11);
  const tensor conv = tensor::from_values<float>(dtype::f32, shape, std::span<const float>(values));
  const tensor flat = tensor::from_values<float>(dtype::f32, {6, 45}, std::span<const float>(values));
  quant_encoding enc{4, 32, true};
  enc.col_axis = 1;
  auto q = quantize_tensor_rtn(conv, options_for(enc), nullptr);
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto reference = quantize_tensor_rtn(flat, options_for(quant_encoding{4, 32, true}), nullptr);
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(q->scales.size, 6u * 2 * 2);  // 6 rows x 2 groups x f16
  ASSERT_EQ(q->data.size, reference->data.size);
  EXPECT_EQ(std::memcmp(q->data.data, reference->data.data, q->data.size), 0);
  EXPECT_EQ(*to_float_vector(*q), *to_float_vector(*reference));
}

TEST(QuantLayout, TransposedMatMulWeightDecodesInTensorOrder) {
  const int64_t k = 70, n = 9;  // groups of 32 along K: 32 + 32 + 6
  const auto values = random_values(static_cast<size_t>(k * n), 12);
  const tensor b = tensor::from_values<float>(dtype::f32, {k, n}, std::span<const float>(values));
  std::vector<float> transposed_values(values.size());
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) transposed_values[static_cast<size_t>(c * k + r)] = values[static_cast<size_t>(r * n + c)];
  const tensor bt = tensor::from_values<float>(dtype::f32, {n, k}, std::span<const float>(transposed_values));
  quant_encoding enc{4, 32, false};
  enc.transposed = true;
  auto q = quantize_tensor_rtn(b, options_for(enc), nullptr);
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto reference = quantize_tensor_rtn(bt, options_for(quant_encoding{4, 32, false}), nullptr);
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(q->rows(), n);
  EXPECT_EQ(q->cols(), k);
  ASSERT_EQ(q->data.size, reference->data.size);
  EXPECT_EQ(std::memcmp(q->data.data, reference->data.data, q->data.size), 0);
  const auto decoded = *to_float_vector(*q);
  const auto decoded_t = *to_float_vector(*reference);
  double err = 0, norm = 0;
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      const float x = decoded[static_cast<size_t>(r * n + c)];
      ASSERT_EQ(x, decoded_t[static_cast<size_t>(c * k + r)]) << r << "," << c;
      err += (x - values[static_cast<size_t>(r * n + c)]) * (x - values[static_cast<size_t>(r * n + c)]);
      norm += values[static_cast<size_t>(r * n + c)] * values[static_cast<size_t>(r * n + c)];
    }
  EXPECT_LT(err / norm, 0.02);  // 4-bit asymmetric over groups of 32: ~1 % relative energy
}

TEST(QuantLayout, BadLayoutIsRefused) {
  const auto values = random_values(24, 13);
  const tensor t = tensor::from_values<float>(dtype::f32, {2, 3, 4}, std::span<const float>(values));
  quant_encoding enc{8, 0, true};
  enc.transposed = true;
  auto q = quantize_tensor_rtn(t, options_for(enc), nullptr);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), error_code::bad_input);
  EXPECT_NE(q.status().message().find("transposed layout needs a 2-D tensor"), std::string::npos);
}

}  // namespace
}  // namespace edgepack

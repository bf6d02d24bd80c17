// RTN quantization: scheme grammar, code packing, the row quantizer against a slow obvious
// reference, tail groups, and determinism across thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/quant_codes.h"
#include "passes/quantize_rtn.h"
#include "passes/scheme.h"

namespace edgepack {
namespace {

std::vector<float> random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& v : w) v = normal(rng);
  w[3] = 0.9f;  // an outlier, as real weights have
  return w;
}

tensor as_tensor(const std::vector<float>& w, int64_t rows, int64_t cols) {
  return tensor::from_values<float>(dtype::f32, {rows, cols}, std::span<const float>(w));
}

TEST(WeightScheme, ParsesGrammar) {
  auto w4 = parse_weight_scheme("w4g32");
  ASSERT_TRUE(w4.ok());
  EXPECT_EQ(w4->bits, 4);
  EXPECT_EQ(w4->group_size, 32);
  EXPECT_TRUE(w4->symmetric);
  auto w8 = parse_weight_scheme("w8");
  EXPECT_EQ(w8->group_size, 0);
  auto asym = parse_weight_scheme("w3g128_asym");
  EXPECT_FALSE(asym->symmetric);
  EXPECT_EQ(quant_encoding_name(*asym), "w3g128_asym");
  for (const char* bad : {"w9", "w1", "w4g0", "w4g", "x4", "w4g32_foo", "s2:4", "s2:4+w4g32", ""}) {
    auto r = parse_weight_scheme(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), error_code::bad_usage) << bad;
  }
}

TEST(QuantCodes, PackRoundTripsAllWidths) {
  std::mt19937 rng(7);
  for (int bits : {2, 3, 4, 5, 8}) {
    std::vector<uint8_t> codes(1001);
    for (auto& c : codes) c = static_cast<uint8_t>(rng() % (1u << bits));
    std::vector<std::byte> packed(packed_code_bytes(bits, codes.size()));
    pack_codes(codes, bits, packed);
    for (size_t i = 0; i < codes.size(); ++i) ASSERT_EQ(read_code(packed.data(), bits, i), codes[i]) << "bits " << bits << " index " << i;
  }
  EXPECT_EQ(packed_code_bytes(3, 8), 3u);  // 8 codes x 3 bits = 24 bits
  EXPECT_EQ(packed_code_bytes(4, 3), 2u);
}

// The obvious reference for plain absmax (no search): per group, the signed element of largest
// magnitude maps to -2^(b-1); codes are round-half-even of x / f16(scale), clamped.
TEST(RtnRow, PlainAbsmaxMatchesSlowReferenceExactly) {
  const int64_t cols = 172;
  const auto w = random_matrix(1, cols, 11);
  for (int bits : {2, 3, 4, 8}) {
    quant_encoding enc{bits, 32, true};
    std::vector<uint8_t> codes(cols), zeros(8);
    std::vector<uint16_t> scales(8);
    quantize_row_rtn(w.data(), cols, enc, {.scale_search_steps = 0}, codes.data(), scales.data(), zeros.data());
    for (int64_t g = 0; g < 6; ++g) {
      const int64_t begin = g * 32, end = std::min<int64_t>(cols, begin + 32);
      double extreme = 0;
      for (int64_t i = begin; i < end; ++i)
        if (std::fabs(w[i]) > std::fabs(extreme)) extreme = w[i];
      const int zero = 1 << (bits - 1);
      const float scale = f16_to_f32(f32_to_f16(static_cast<float>(extreme / -zero)));
      ASSERT_EQ(scales[g], f32_to_f16(static_cast<float>(extreme / -zero))) << "group " << g;
      for (int64_t i = begin; i < end; ++i) {
        const long expected = std::clamp<long>(std::lrint(w[i] / scale) + zero, 0, (1 << bits) - 1);
        ASSERT_EQ(codes[i], expected) << "bits " << bits << " col " << i;
      }
    }
  }
}

double row_error(const std::vector<float>& w, const tensor& q) {
  std::vector<float> decoded(w.size());
  dequantize_rows(q, 0, q.rows(), decoded.data());
  double err = 0;
  for (size_t i = 0; i < w.size(); ++i) err += (w[i] - decoded[i]) * (w[i] - decoded[i]);
  return err;
}

TEST(RtnRow, ScaleSearchNeverWorseThanAbsmax) {
  const int64_t rows = 37, cols = 172;
  const auto w = random_matrix(rows, cols, 3);
  for (int bits : {2, 3, 4}) {
    quantize_rtn_options plain{{bits, 32, true}, {}, {.scale_search_steps = 0}, 1};
    quantize_rtn_options searched{{bits, 32, true}, {}, {.scale_search_steps = 4}, 1};
    auto a = quantize_tensor_rtn(as_tensor(w, rows, cols), plain, nullptr);
    auto b = quantize_tensor_rtn(as_tensor(w, rows, cols), searched, nullptr);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_LE(row_error(w, *b), row_error(w, *a) * (1 + 1e-9)) << "bits " << bits;
  }
}

TEST(RtnRow, AsymmetricErrorWithinHalfStep) {
  const int64_t cols = 100;
  const auto w = random_matrix(1, cols, 5);
  quant_encoding enc{3, 0, false};  // one group per row
  std::vector<uint8_t> codes(cols), zeros(1);
  std::vector<uint16_t> scales(1);
  quantize_row_rtn(w.data(), cols, enc, {}, codes.data(), scales.data(), zeros.data());
  const float scale = f16_to_f32(scales[0]);
  for (int64_t i = 0; i < cols; ++i) {
    const float value = scale * static_cast<float>(codes[i] - zeros[0]);
    // Half a step, plus the slack of the f16-rounded scale over 7 steps.
    EXPECT_LE(std::fabs(value - w[i]), 0.5f * scale + 8 * scale * 1e-3f) << i;
  }
}

TEST(RtnTensor, TailGroupLayoutAndBytes) {
  const int64_t rows = 5, cols = 172;
  const auto w = random_matrix(rows, cols, 9);
  quantize_rtn_options options{{4, 32, false}, {}, {}, 1};
  quantized_tensor_stats stats;
  auto q = quantize_tensor_rtn(as_tensor(w, rows, cols), options, &stats);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->quant.groups_per_row(cols), 6);  // 5 full groups of 32 + a tail of 12
  EXPECT_EQ(q->data.size, packed_code_bytes(4, rows * cols));
  EXPECT_EQ(q->scales.size, static_cast<size_t>(rows * 6 * 2));
  EXPECT_EQ(q->zeros.size, packed_code_bytes(4, rows * 6));
  EXPECT_GT(stats.relative_error, 0.0);
  EXPECT_LT(stats.relative_error, 0.2);
  EXPECT_EQ(stats.bytes_before, static_cast<uint64_t>(rows * cols * 4));
}

TEST(RtnTensor, ErrorShrinksWithBits) {
  const int64_t rows = 16, cols = 96;
  const auto w = random_matrix(rows, cols, 21);
  double previous = 1e9;
  for (int bits : {2, 3, 4, 8}) {
    quantized_tensor_stats stats;
    auto q = quantize_tensor_rtn(as_tensor(w, rows, cols), {{bits, 32, true}, {}, {}, 1}, &stats);
    ASSERT_TRUE(q.ok());
    EXPECT_LT(stats.relative_error, previous) << bits;
    previous = stats.relative_error;
  }
  EXPECT_LT(previous, 0.01);  // 8-bit
}

TEST(RtnTensor, IdenticalBytesAtAnyThreadCount) {
  const int64_t rows = 301, cols = 172;
  const auto w = random_matrix(rows, cols, 33);
  std::vector<std::string> blobs;
  for (int threads : {1, 2, 3, 8}) {
    auto q = quantize_tensor_rtn(as_tensor(w, rows, cols), {{3, 64, false}, {}, {}, threads}, nullptr);
    ASSERT_TRUE(q.ok());
    std::string bytes(reinterpret_cast<const char*>(q->data.data), q->data.size);
    bytes.append(reinterpret_cast<const char*>(q->scales.data), q->scales.size);
    bytes.append(reinterpret_cast<const char*>(q->zeros.data), q->zeros.size);
    blobs.push_back(bytes);
  }
  for (const auto& b : blobs) EXPECT_EQ(b, blobs[0]);
}

TEST(RtnTensor, F16InputDecodesBeforeQuantizing) {
  const int64_t rows = 3, cols = 40;
  const auto w = random_matrix(rows, cols, 2);
  std::vector<uint16_t> half(w.size());
  std::vector<float> rounded(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    half[i] = f32_to_f16(w[i]);
    rounded[i] = f16_to_f32(half[i]);
  }
  auto from_half = quantize_tensor_rtn(tensor::from_values<uint16_t>(dtype::f16, {rows, cols}, std::span<const uint16_t>(half)), {{4, 32, true}, {}, {}, 1}, nullptr);
  auto from_float = quantize_tensor_rtn(as_tensor(rounded, rows, cols), {{4, 32, true}, {}, {}, 1}, nullptr);
  ASSERT_TRUE(from_half.ok() && from_float.ok());
  EXPECT_EQ(0, std::memcmp(from_half->data.data, from_float->data.data, from_half->data.size));
}

}  // namespace
}  // namespace edgepack

// GPTQ: against a slow, obvious double-precision reference (column by column, no lazy batching,
// plain-loop inverse and Cholesky), an exact RTN golden for a diagonal Hessian, output error below
// RTN on correlated inputs, damping escalation, dead columns, determinism across thread counts and
// GEMM kernel variants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "calibration/hessian.h"
#include "core/dtype.h"
#include "core/quant_codes.h"
#include "passes/gptq.h"
#include "passes/gptq_inverse.h"
#include "passes/quantize_rtn.h"
#include "passes/rtn_quantizer.h"
#include "runtime_ref/gemm_kernels.h"
#include "tests/passes/prune_test_util.h"

namespace edgepack {
namespace {

using matrix = std::vector<double>;

// ---------- data ----------
std::vector<float> random_weight(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& v : w) v = normal(rng);
  w[3] = 0.6f;
  return w;
}

// Correlated activations and their Hessian: the generator the pruning tests use.
using prune_test::correlated_rows;
using prune_test::hessian_of;
using prune_test::output_error;
using prune_test::reference_inverse;
using prune_test::reference_upper_cholesky;

std::vector<float> dequantized(const tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.rows() * t.cols()));
  dequantize_rows(t, 0, t.rows(), out.data());
  return out;
}

// ---------- the slow reference ----------
struct gptq_reference_output {
  std::vector<uint8_t> codes;    // [rows, cols], original order
  std::vector<uint16_t> scales;  // [rows, groups]
  std::vector<double> values;    // dequantized
};

// Group scale/zero: the project's RTN quantizer on the group's values (its own tests cover it).
void reference_params(const std::vector<double>& values, const quant_encoding& enc, int scale_search, uint16_t* scale, int* zero) {
  std::vector<float> f(values.begin(), values.end());
  std::vector<uint8_t> codes(f.size());
  quant_encoding single = enc;
  single.group_size = 0;
  uint8_t z = static_cast<uint8_t>(enc.implicit_zero());
  (void)quantize_row_rtn(f.data(), static_cast<int64_t>(f.size()), single, rtn_row_options{.scale_search_steps = scale_search}, codes.data(),
                         scale, &z);
  *zero = z;
}

gptq_reference_output reference_gptq(const std::vector<float>& weight, int64_t rows, int64_t cols, std::vector<double> h, const gptq_options& o) {
  const quant_encoding& enc = o.encoding;
  const int64_t group = enc.effective_group(cols), groups = enc.groups_per_row(cols);
  const bool static_groups = o.static_groups || o.act_order;
  const int levels = 1 << enc.bits;
  std::vector<double> w(weight.begin(), weight.end());
  for (int64_t i = 0; i < cols; ++i)
    if (h[static_cast<size_t>(i * cols + i)] == 0) {
      h[static_cast<size_t>(i * cols + i)] = 1;
      for (int64_t r = 0; r < rows; ++r) w[static_cast<size_t>(r * cols + i)] = 0;
    }
  std::vector<int64_t> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  if (o.act_order)
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return h[static_cast<size_t>(a * cols + a)] > h[static_cast<size_t>(b * cols + b)]; });
  double mean = 0;
  for (int64_t i = 0; i < cols; ++i) mean += h[static_cast<size_t>(i * cols + i)] / cols;
  matrix hp(static_cast<size_t>(cols * cols));
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      hp[static_cast<size_t>(i * cols + j)] = h[static_cast<size_t>(perm[i] * cols + perm[j])] + (i == j ? o.damp * mean : 0.0);
  const matrix u = reference_upper_cholesky(reference_inverse(hp, cols), cols);

  gptq_reference_output out;
  out.codes.assign(static_cast<size_t>(rows * cols), 0);
  out.scales.assign(static_cast<size_t>(rows * groups), 0);
  out.values.assign(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int> zeros(static_cast<size_t>(groups));
    const double* original = w.data() + r * cols;
    if (static_groups)
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t b = g * group, e = std::min(cols, b + group);
        reference_params(std::vector<double>(original + b, original + e), enc, o.scale_search_steps, &out.scales[static_cast<size_t>(r * groups + g)],
                         &zeros[static_cast<size_t>(g)]);
      }
    std::vector<double> x(static_cast<size_t>(cols));  // current row, processing order
    for (int64_t k = 0; k < cols; ++k) x[static_cast<size_t>(k)] = original[perm[k]];
    for (int64_t k = 0; k < cols; ++k) {
      const int64_t column = perm[k], g = column / group;
      if (!static_groups && k % group == 0)
        reference_params(std::vector<double>(x.begin() + k, x.begin() + std::min(cols, k + group)), enc, o.scale_search_steps,
                         &out.scales[static_cast<size_t>(r * groups + g)], &zeros[static_cast<size_t>(g)]);
      const double s = f16_to_f32(out.scales[static_cast<size_t>(r * groups + g)]);
      const int z = zeros[static_cast<size_t>(g)];
      const int q = s == 0 ? z : std::clamp(static_cast<int>(std::nearbyint(x[k] / s)) + z, 0, levels - 1);
      const double value = s * (q - z);
      out.codes[static_cast<size_t>(r * cols + column)] = static_cast<uint8_t>(q);
      out.values[static_cast<size_t>(r * cols + column)] = value;
      const double err = (x[k] - value) / u[static_cast<size_t>(k * cols + k)];
      for (int64_t j = k + 1; j < cols; ++j) x[static_cast<size_t>(j)] -= err * u[static_cast<size_t>(k * cols + j)];
    }
  }
  return out;
}

// ---------- comparisons ----------
double nmse(const std::vector<float>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return num / den;
}

std::vector<uint8_t> unpacked_codes(const tensor& t) {
  std::vector<uint8_t> codes(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = read_code(t.data.data, t.quant.bits, i);
  return codes;
}

struct gptq_case {
  const char* name;
  int64_t rows, cols;
  quant_encoding enc;
  int64_t block;
  bool act_order, static_groups;
};

class GptqReference : public ::testing::TestWithParam<gptq_case> {};

TEST_P(GptqReference, MatchesSlowDoubleReference) {
  const gptq_case& c = GetParam();
  const auto w = random_weight(c.rows, c.cols, 7 + c.rows);
  const auto x = correlated_rows(400, c.cols, 8);
  const auto h = hessian_of(x, c.cols);
  const gptq_options options{.encoding = c.enc, .block_size = c.block, .act_order = c.act_order, .static_groups = c.static_groups, .row_tile = 16,
                             .threads = 2};
  auto result = gptq_quantize(w, c.rows, c.cols, h, options);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->stats.warnings.empty());
  const gptq_reference_output ref = reference_gptq(w, c.rows, c.cols, h, options);
  const auto got = dequantized(result->weight);
  const auto codes = unpacked_codes(result->weight);
  int64_t same = 0, first_column_same = 0;
  for (size_t i = 0; i < codes.size(); ++i) same += codes[i] == ref.codes[i];
  // The first column processed in each row sees no update yet and its group's scale comes from
  // the same floats: its code is decided by identical numbers (bar an exact rounding tie).
  const int64_t first = c.act_order ? -1 : 0;
  for (int64_t r = 0; r < c.rows && first == 0; ++r) {
    first_column_same += codes[static_cast<size_t>(r * c.cols)] == ref.codes[static_cast<size_t>(r * c.cols)];
  }
  if (first == 0) {
    EXPECT_EQ(first_column_same, c.rows);
  }
  if (options.static_groups || options.act_order) {
    // Static groups: scales come from the original weights in both, so they are equal bit for bit.
    std::vector<uint16_t> scales(ref.scales.size());
    std::memcpy(scales.data(), result->weight.scales.data, scales.size() * 2);
    EXPECT_EQ(scales, ref.scales);
  }
  // Elsewhere the f32 lazy-batch implementation and the double reference differ by rounding
  // (~1e-7 relative per update); a weight whose updated value lands within that of a rounding
  // boundary can take the neighbouring code, and the different error then propagates along the
  // row. Such flips are rare and each costs at most one quantization step.
  const double agreement = static_cast<double>(same) / static_cast<double>(codes.size());
  const double error = nmse(got, ref.values);
  EXPECT_GT(agreement, 0.98) << c.name;
  EXPECT_LT(error, 2e-4) << c.name;
  std::printf("[%s] code agreement %.5f, NMSE vs reference %.3g\n", c.name, agreement, error);
}

quant_encoding gptq_encoding(int bits, int64_t group, bool symmetric) { return quant_encoding{.bits = bits, .group_size = group, .symmetric = symmetric}; }

quantize_rtn_options rtn_options(const quant_encoding& enc) {
  quantize_rtn_options options;
  options.encoding = enc;
  return options;
}

INSTANTIATE_TEST_SUITE_P(Cases, GptqReference,
                         ::testing::Values(gptq_case{"w4g16_37x53_block8", 37, 53, gptq_encoding(4, 16, true), 8, false, false},
                                           gptq_case{"w4g16_37x53_block12", 37, 53, gptq_encoding(4, 16, true), 12, false, false},
                                           gptq_case{"w4g32_64x172_tail", 64, 172, gptq_encoding(4, 32, true), 128, false, false},
                                           gptq_case{"w8_per_channel_37x53", 37, 53, gptq_encoding(8, 0, true), 16, false, false},
                                           gptq_case{"w4g32_asym_64x172", 64, 172, gptq_encoding(4, 32, false), 128, false, false},
                                           gptq_case{"w3g32_asym_41x100_block24", 41, 100, gptq_encoding(3, 32, false), 24, false, false},
                                           gptq_case{"w2g16_asym_37x53", 37, 53, gptq_encoding(2, 16, false), 128, false, false},
                                           gptq_case{"w3_per_channel_asym_172x64", 172, 64, gptq_encoding(3, 0, false), 32, false, false},
                                           gptq_case{"w4g32_static_64x172", 64, 172, gptq_encoding(4, 32, true), 128, false, true},
                                           gptq_case{"w4g32_act_order_64x172", 64, 172, gptq_encoding(4, 32, true), 40, true, true},
                                           gptq_case{"w4g32_asym_act_order_37x100", 37, 100, gptq_encoding(4, 32, false), 128, true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Gptq, DiagonalHessianGivesExactlyRtn) {
  // With a diagonal H the inverse factor is diagonal: no error is propagated, so GPTQ must be RTN.
  const int64_t rows = 19, cols = 45;
  const auto w = random_weight(rows, cols, 3);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = 1.0 + i;
  for (const quant_encoding enc : {gptq_encoding(4, 16, true), gptq_encoding(3, 0, false), gptq_encoding(8, 32, true), gptq_encoding(2, 16, false)}) {
    auto g = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = enc, .damp = 0.0});
    ASSERT_TRUE(g.ok());
    auto r = quantize_tensor_rtn(tensor::from_values<float>(dtype::f32, {rows, cols}, std::span<const float>(w)),
                                 rtn_options(enc), nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(unpacked_codes(g->weight), unpacked_codes(*r)) << quant_encoding_name(enc);
    ASSERT_EQ(g->weight.scales.size, r->scales.size);
    EXPECT_EQ(std::memcmp(g->weight.scales.data, r->scales.data, r->scales.size), 0);
    EXPECT_EQ(g->weight.zeros.size, r->zeros.size);
  }
}

TEST(Gptq, BeatsRtnOnCorrelatedInputsAtEveryScheme) {
  const int64_t rows = 48, cols = 96;
  const auto w = random_weight(rows, cols, 5);
  const auto calib = correlated_rows(1024, cols, 21), heldout = correlated_rows(256, cols, 22);
  const auto h = hessian_of(calib, cols);
  struct scheme {
    quant_encoding enc;
    bool act_order;
  };
  for (const scheme s : {scheme{gptq_encoding(8, 0, true), false}, scheme{gptq_encoding(4, 32, true), false}, scheme{gptq_encoding(4, 32, false), false},
                         scheme{gptq_encoding(4, 0, true), false}, scheme{gptq_encoding(3, 32, false), false}, scheme{gptq_encoding(2, 32, false), false},
                         scheme{gptq_encoding(4, 32, true), true}, scheme{gptq_encoding(3, 0, false), true}}) {
    auto g = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = s.enc, .act_order = s.act_order, .static_groups = s.act_order});
    ASSERT_TRUE(g.ok());
    auto r = quantize_tensor_rtn(tensor::from_values<float>(dtype::f32, {rows, cols}, std::span<const float>(w)),
                                 rtn_options(s.enc), nullptr);
    ASSERT_TRUE(r.ok());
    const double eg = output_error(heldout, w, dequantized(g->weight), rows, cols);
    const double er = output_error(heldout, w, dequantized(*r), rows, cols);
    EXPECT_LT(eg, 0.9 * er) << quant_encoding_name(s.enc) << (s.act_order ? " act_order" : "");
    std::printf("[%s%s] held-out output error GPTQ %.5f RTN %.5f\n", quant_encoding_name(s.enc).c_str(), s.act_order ? "+act_order" : "", eg, er);
  }
}

TEST(Gptq, SingularHessianEscalatesDampingAndStaysFinite) {
  const int64_t rows = 20, cols = 40;
  const auto w = random_weight(rows, cols, 9);
  // Rank 3 (3 calibration rows) and, second case, two identical columns: H is singular.
  auto x = correlated_rows(3, cols, 4);
  for (const bool duplicate : {false, true}) {
    std::vector<float> xs = duplicate ? correlated_rows(200, cols, 6) : x;
    if (duplicate)
      for (int64_t r = 0; r < 200; ++r) xs[static_cast<size_t>(r * cols + 7)] = xs[static_cast<size_t>(r * cols + 8)];
    const auto h = hessian_of(xs, cols);
    auto g = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = gptq_encoding(4, 16, false), .damp = 0.0});
    ASSERT_TRUE(g.ok()) << g.status().message();
    EXPECT_GE(g->stats.damp_escalations, 1);
    EXPECT_GT(g->stats.damp_fraction, 0.0);
    ASSERT_FALSE(g->stats.warnings.empty());
    EXPECT_NE(g->stats.warnings[0].find("damping 0"), std::string::npos) << g->stats.warnings[0];
    for (const float v : dequantized(g->weight)) ASSERT_TRUE(std::isfinite(v));
    EXPECT_TRUE(std::isfinite(g->stats.total_error));
    // The default damping (1 % of the mean diagonal) needs no escalation here.
    auto d = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = gptq_encoding(4, 16, false)});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->stats.damp_escalations, 0);
    EXPECT_DOUBLE_EQ(d->stats.damp_fraction, 0.01);
  }
}

TEST(Gptq, DeadColumnsQuantizeToZero) {
  const int64_t rows = 12, cols = 30;
  const auto w = random_weight(rows, cols, 10);
  auto x = correlated_rows(100, cols, 3);
  for (int64_t r = 0; r < 100; ++r) x[static_cast<size_t>(r * cols + 2)] = x[static_cast<size_t>(r * cols + 17)] = 0;
  const auto h = hessian_of(x, cols);
  for (const bool symmetric : {true, false}) {
    auto g = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = gptq_encoding(4, 8, symmetric)});
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->stats.dead_columns, 2);
    const auto q = dequantized(g->weight);
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_EQ(q[static_cast<size_t>(r * cols + 2)], 0.0f);
      EXPECT_EQ(q[static_cast<size_t>(r * cols + 17)], 0.0f);
    }
  }
}

TEST(Gptq, ByteIdenticalAtOneAndTwoThreads) {
  const int64_t rows = 70, cols = 53;
  const auto w = random_weight(rows, cols, 12);
  const auto h = hessian_of(correlated_rows(300, cols, 13), cols);
  for (const bool act_order : {false, true}) {
    gptq_options options{.encoding = gptq_encoding(4, 16, false), .block_size = 16, .act_order = act_order, .static_groups = act_order, .row_tile = 8};
    options.threads = 1;
    auto one = gptq_quantize(w, rows, cols, h, options);
    options.threads = 2;
    auto two = gptq_quantize(w, rows, cols, h, options);
    ASSERT_TRUE(one.ok() && two.ok());
    for (auto view : {&tensor::data, &tensor::scales, &tensor::zeros}) {
      const byte_view& a = one->weight.*view;
      const byte_view& b = two->weight.*view;
      ASSERT_EQ(a.size, b.size);
      EXPECT_EQ(std::memcmp(a.data, b.data, a.size), 0);
    }
    EXPECT_EQ(one->stats.row_error, two->stats.row_error);
  }
}

TEST(Gptq, ByteIdenticalOnEveryGemmVariant) {
  // The lazy-batch update and the inverse factor run on the dispatched GEMM kernels; every variant
  // this CPU offers (AVX-512F, AVX2+FMA, portable std::fma) must give the same bytes. 300 columns:
  // three 128-column blocks of the inverse's Cholesky and L^-1, and trailing GEMMs over k blocks.
  const int64_t rows = 37, cols = 300;
  const auto w = random_weight(rows, cols, 17);
  const auto h = hessian_of(correlated_rows(400, cols, 18), cols);
  const gptq_options options{.encoding = gptq_encoding(4, 32, false), .block_size = 48, .row_tile = 16, .threads = 2};
  force_default_gemm_isa(gemm_isa::portable);
  auto reference = gptq_quantize(w, rows, cols, h, options);
  auto factor = damped_inverse_factor(h, cols, inverse_factor_options{});
  ASSERT_TRUE(reference.ok() && factor.ok());
  for (const gemm_isa isa : {gemm_isa::avx2, gemm_isa::avx512}) {
    if (!gemm_isa_available(isa)) continue;
    force_default_gemm_isa(isa);
    auto got = gptq_quantize(w, rows, cols, h, options);
    auto got_factor = damped_inverse_factor(h, cols, inverse_factor_options{});
    ASSERT_TRUE(got.ok() && got_factor.ok());
    EXPECT_EQ(std::memcmp(got_factor->upper.data(), factor->upper.data(), factor->upper.size() * sizeof(float)), 0) << gemm_isa_name(isa);
    for (auto view : {&tensor::data, &tensor::scales, &tensor::zeros}) {
      const byte_view& a = got->weight.*view;
      const byte_view& b = reference->weight.*view;
      ASSERT_EQ(a.size, b.size);
      EXPECT_EQ(std::memcmp(a.data, b.data, a.size), 0) << gemm_isa_name(isa);
    }
    EXPECT_EQ(got->stats.row_error, reference->stats.row_error) << gemm_isa_name(isa);
  }
  force_default_gemm_isa(gemm_isa::automatic);
}

TEST(Gptq, InverseFactorIsByteIdenticalAtAnyThreadCountAndInvertsH) {
  // 300 columns: two full 128-column blocks and a partial one, so the blocked Cholesky's panel and
  // trailing tiles and the per-block-column inverse really run on several threads.
  const int64_t n = 300;
  const auto h = hessian_of(correlated_rows(400, n, 21), n);
  auto one = damped_inverse_factor(h, n, inverse_factor_options{.threads = 1});
  ASSERT_TRUE(one.ok());
  for (const int threads : {2, 3}) {
    auto many = damped_inverse_factor(h, n, inverse_factor_options{.threads = threads});
    ASSERT_TRUE(many.ok());
    EXPECT_EQ(std::memcmp(one->upper.data(), many->upper.data(), one->upper.size() * sizeof(float)), 0) << threads << " threads";
  }
  // U^T U (H + lambda I) = I: checked in double on the f32 factor, relative to |U^T U| |H + lambda I|.
  double worst = 0;
  for (int64_t i = 0; i < n; i += 7)
    for (int64_t j = 0; j < n; j += 5) {
      double v = 0, mag = 0;
      for (int64_t k = 0; k < n; ++k) {
        double uu = 0, uu_abs = 0;  // (U^T U)[i, k]
        for (int64_t m = 0; m <= std::min(i, k); ++m) {
          const double p = static_cast<double>(one->upper[static_cast<size_t>(m * n + i)]) * one->upper[static_cast<size_t>(m * n + k)];
          uu += p;
          uu_abs += std::abs(p);
        }
        const double hk = h[static_cast<size_t>(k * n + j)] + (k == j ? one->damp_absolute : 0.0);
        v += uu * hk;
        mag += uu_abs * std::abs(hk);
      }
      worst = std::max(worst, std::abs(v - (i == j ? 1.0 : 0.0)) / mag);
    }
  EXPECT_LT(worst, 1e-5);  // f32 rounding of U (2^-24 relative) summed over n terms, typical growth
}

TEST(Gptq, ActOrderWithoutStaticGroupsIsNoted) {
  const int64_t rows = 8, cols = 40;
  const auto w = random_weight(rows, cols, 14);
  const auto h = hessian_of(correlated_rows(100, cols, 15), cols);
  auto g = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = gptq_encoding(4, 16, true), .act_order = true});
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->stats.static_groups);
  ASSERT_EQ(g->stats.warnings.size(), 1u);
  EXPECT_NE(g->stats.warnings[0].find("static groups"), std::string::npos);
}

TEST(Gptq, RejectsBadInputs) {
  const int64_t rows = 4, cols = 8;
  auto w = random_weight(rows, cols, 16);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = 1;
  EXPECT_EQ(gptq_quantize(w, rows, cols, std::span<const double>(h).first(10), gptq_options{}).status().code(), error_code::bad_usage);
  auto bad_h = h;
  bad_h[1] = NAN;
  EXPECT_EQ(gptq_quantize(w, rows, cols, bad_h, gptq_options{}).status().code(), error_code::bad_input);
  w[5] = INFINITY;
  EXPECT_EQ(gptq_quantize(w, rows, cols, h, gptq_options{}).status().code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack

// Refinement of GPTQ's codes and scales (passes/quant_refine.h) against slow, obvious references on
// odd shapes with a tail group: the objective tr((W - Q) H (W - Q)^T) recomputed from the decoded
// tensor, least-squares scales by Gauss-Jordan normal equations, coordinate-wise optimality of the
// codes checked by trying every other level of every code, and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/quant_codes.h"
#include "passes/gptq.h"
#include "passes/quant_refine.h"
#include "tests/passes/prune_test_util.h"

namespace edgepack::quant_refine_test {

using prune_test::correlated_rows;
using prune_test::hessian_of;
using prune_test::random_weight;

constexpr int64_t kRows = 7, kCols = 45;

struct fixture {
  std::vector<float> w;
  std::vector<double> h;      // undamped
  std::vector<double> hd;     // damped as the refinement does (no dead columns here)
};

fixture make_fixture(double damp) {
  fixture f;
  f.w = random_weight(kRows, kCols, 5);
  f.w[3] = 0.4f;  // an outlier makes the absmax scales poor
  f.h = hessian_of(correlated_rows(300, kCols, 11), kCols);
  f.hd = f.h;
  double mean = 0;
  for (int64_t i = 0; i < kCols; ++i) mean += f.h[static_cast<size_t>(i * kCols + i)];
  for (int64_t i = 0; i < kCols; ++i) f.hd[static_cast<size_t>(i * kCols + i)] += damp * mean / kCols;
  return f;
}

tensor gptq_of(const fixture& f, const quant_encoding& enc) {
  gptq_options o;
  o.encoding = enc;
  auto q = gptq_quantize(f.w, kRows, kCols, f.h, o);
  EXPECT_TRUE(q.ok()) << q.status().message();
  return q->weight;
}

std::vector<float> decoded(const tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.rows() * t.cols()));
  dequantize_rows(t, 0, t.rows(), out.data());
  return out;
}

// Slow objective of one row: (w - q)^T H (w - q) with plain loops.
double row_objective(const std::vector<float>& w, const std::vector<double>& q, const std::vector<double>& h, int64_t r) {
  double f = 0;
  for (int64_t j = 0; j < kCols; ++j)
    for (int64_t k = 0; k < kCols; ++k)
      f += (w[static_cast<size_t>(r * kCols + j)] - q[static_cast<size_t>(j)]) * h[static_cast<size_t>(j * kCols + k)] *
           (w[static_cast<size_t>(r * kCols + k)] - q[static_cast<size_t>(k)]);
  return f;
}

double objective(const std::vector<float>& w, const tensor& t, const std::vector<double>& h) {
  const std::vector<float> v = decoded(t);
  double f = 0;
  for (int64_t r = 0; r < kRows; ++r) f += row_objective(w, std::vector<double>(v.begin() + r * kCols, v.begin() + (r + 1) * kCols), h, r);
  return f;
}

uint16_t scale_bits(const tensor& t, int64_t index) {
  uint16_t bits = 0;
  std::memcpy(&bits, t.scales.data + index * 2, 2);
  return bits;
}

TEST(QuantRefine, ObjectiveMatchesSlowReferenceAndDecreases) {
  const fixture f = make_fixture(0.01);
  for (const bool symmetric : {true, false}) {
    const quant_encoding enc{.bits = 3, .group_size = 16, .symmetric = symmetric};
    const tensor q = gptq_of(f, enc);
    auto r = refine_quantized_weight(f.w, kRows, kCols, f.h, q, quant_refine_options{.sweeps = 2, .damp = 0.01, .threads = 1});
    ASSERT_TRUE(r.ok()) << r.status().message();
    const double before = objective(f.w, q, f.hd), after = objective(f.w, r->weight, f.hd);
    EXPECT_NEAR(r->stats.error_before, before, 1e-9 * before);
    EXPECT_NEAR(r->stats.error_after, after, 1e-9 * before);
    EXPECT_LT(after, 0.97 * before) << "symmetric " << symmetric;
    EXPECT_GT(r->stats.codes_changed, 0);
    EXPECT_GT(r->stats.scales_changed, 0);
    if (!symmetric) {
      EXPECT_EQ(0, std::memcmp(q.zeros.data, r->weight.zeros.data, q.zeros.size));
    }
  }
}

// Scales only: codes stay, and each row's scales are the f16 rounding of the normal equations'
// solution (Gauss-Jordan on A^T H A, A[j, g] = code_j - zero).
TEST(QuantRefine, ScaleRefitIsWeightedLeastSquares) {
  const fixture f = make_fixture(0.01);
  const quant_encoding enc{.bits = 4, .group_size = 16, .symmetric = true};
  const tensor q = gptq_of(f, enc);
  auto r = refine_quantized_weight(f.w, kRows, kCols, f.h, q, quant_refine_options{.sweeps = 0, .damp = 0.01, .threads = 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.codes_changed, 0);
  ASSERT_EQ(0, std::memcmp(q.data.data, r->weight.data.data, q.data.size));
  const int64_t groups = 3;
  for (int64_t row = 0; row < kRows; ++row) {
    std::vector<double> a(static_cast<size_t>(kCols));
    for (int64_t j = 0; j < kCols; ++j) a[static_cast<size_t>(j)] = read_code(q.data.data, 4, static_cast<uint64_t>(row * kCols + j)) - 8.0;
    prune_test::matrix m(groups * groups, 0.0);
    std::vector<double> b(groups, 0.0);
    for (int64_t j = 0; j < kCols; ++j)
      for (int64_t k = 0; k < kCols; ++k) {
        const double hjk = f.hd[static_cast<size_t>(j * kCols + k)];
        m[static_cast<size_t>((j / 16) * groups + k / 16)] += a[j] * hjk * a[k];
        b[static_cast<size_t>(j / 16)] += a[j] * hjk * f.w[static_cast<size_t>(row * kCols + k)];
      }
    const prune_test::matrix inv = prune_test::reference_inverse(m, groups);
    for (int64_t g = 0; g < groups; ++g) {
      double s = 0;
      for (int64_t c = 0; c < groups; ++c) s += inv[static_cast<size_t>(g * groups + c)] * b[static_cast<size_t>(c)];
      const float got = f16_to_f32(scale_bits(r->weight, row * groups + g));
      EXPECT_NEAR(got, s, 1e-3 * std::abs(s)) << "row " << row << " group " << g;  // f16 rounding: 2^-11 relative
    }
  }
}

// With scales fixed and enough sweeps, no single code can move to any other level and lower f.
TEST(QuantRefine, SweepsReachCoordinateWiseOptimum) {
  const fixture f = make_fixture(0.01);
  const quant_encoding enc{.bits = 3, .group_size = 16, .symmetric = false};
  const tensor q = gptq_of(f, enc);
  auto r = refine_quantized_weight(f.w, kRows, kCols, f.h, q,
                                   quant_refine_options{.refit_scales = false, .sweeps = 40, .damp = 0.01, .threads = 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.scales_changed, 0);
  const std::vector<float> v = decoded(r->weight);
  for (int64_t row = 0; row < kRows; ++row) {
    std::vector<double> qr(v.begin() + row * kCols, v.begin() + (row + 1) * kCols);
    const double base = row_objective(f.w, qr, f.hd, row);
    for (int64_t j = 0; j < kCols; ++j) {
      const int64_t gi = row * 3 + j / 16;
      const float scale = f16_to_f32(scale_bits(r->weight, gi));
      const int zero = read_code(r->weight.zeros.data, 3, static_cast<uint64_t>(gi));
      const double keep = qr[static_cast<size_t>(j)];
      for (int code = 0; code < 8; ++code) {
        qr[static_cast<size_t>(j)] = static_cast<double>(scale * static_cast<float>(code - zero));
        EXPECT_GE(row_objective(f.w, qr, f.hd, row), base - 1e-9 * base) << "row " << row << " col " << j << " code " << code;
      }
      qr[static_cast<size_t>(j)] = keep;
    }
  }
}

TEST(QuantRefine, ThreadCountDoesNotChangeBytes) {
  const fixture f = make_fixture(0.01);
  const quant_encoding enc{.bits = 4, .group_size = 16, .symmetric = true};
  const tensor q = gptq_of(f, enc);
  auto one = refine_quantized_weight(f.w, kRows, kCols, f.h, q, quant_refine_options{.sweeps = 2, .threads = 1});
  auto two = refine_quantized_weight(f.w, kRows, kCols, f.h, q, quant_refine_options{.sweeps = 2, .threads = 3});
  ASSERT_TRUE(one.ok() && two.ok());
  ASSERT_EQ(one->weight.data.size, two->weight.data.size);
  EXPECT_EQ(0, std::memcmp(one->weight.data.data, two->weight.data.data, one->weight.data.size));
  EXPECT_EQ(0, std::memcmp(one->weight.scales.data, two->weight.scales.data, one->weight.scales.size));
  EXPECT_EQ(one->stats.error_after, two->stats.error_after);
}

TEST(QuantRefine, RejectsMismatchedInputs) {
  const fixture f = make_fixture(0.01);
  const tensor q = gptq_of(f, quant_encoding{.bits = 4, .group_size = 16});
  tensor dense;
  dense.shape = {kRows, kCols};
  EXPECT_EQ(refine_quantized_weight(f.w, kRows, kCols, f.h, dense, {}).status().message(), "refinement needs a quantized tensor");
  std::vector<double> small(10);
  EXPECT_EQ(refine_quantized_weight(f.w, kRows, kCols, small, q, {}).status().message(), "Hessian is not [cols, cols] for this weight");
  EXPECT_EQ(refine_quantized_weight(f.w, kRows, kCols, f.h, q, quant_refine_options{.sweeps = -1}).status().code(), error_code::bad_usage);
}

}  // namespace edgepack::quant_refine_test

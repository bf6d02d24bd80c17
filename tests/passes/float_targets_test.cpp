// Float-output targets (passes/float_targets.h): the paired activation layout, the split of the
// paired Hessian against plain-loop sums, and W' against its defining equations on odd shapes:
// W' (H + lambda I) = W (C + lambda I), W' = W when the inputs are unperturbed, and the float-output
// objective ||W x - Q x~||^2 equal to tr((Q - W') H (Q - W')^T) + const for any Q (undamped case).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "calibration/hessian.h"
#include "passes/float_targets.h"
#include "tests/passes/prune_test_util.h"

namespace edgepack::float_targets_test {

using prune_test::correlated_rows;
using prune_test::random_weight;

constexpr int64_t kRows = 5, kCols = 13, kSamples = 200;

// x~ = x + noise: the quantized model's inputs as a perturbation of the float ones.
std::vector<float> perturbed(const std::vector<float>& x, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  std::vector<float> y = x;
  for (auto& v : y) v += normal(rng);
  return y;
}

gptq_observer rows_observer(int64_t dim) {
  gptq_observer o;
  o.activation = "x";
  o.dim = dim;
  return o;
}

split_hessian paired_sums(const std::vector<float>& xq, const std::vector<float>& xf) {
  const gptq_observer o = rows_observer(kCols);
  const tensor a = tensor::from_values<float>(dtype::f32, {kSamples, kCols}, xq);
  const tensor b = tensor::from_values<float>(dtype::f32, {kSamples, kCols}, xf);
  auto paired = paired_activation(o, a, b);
  EXPECT_TRUE(paired.ok());
  hessian_accumulator acc(2 * kCols);
  EXPECT_TRUE(observe_hessian_rows(paired_observer(o), *paired, acc).ok());
  return split_paired_hessian(acc.hessian(), kCols);
}

TEST(FloatTargets, PairedActivationLayout) {
  gptq_observer conv = rows_observer(4);
  conv.kind = gptq_reader_kind::conv;
  const std::vector<float> av = {1, 2, 3, 4, 5, 6, 7, 8}, bv = {-1, -2, -3, -4, -5, -6, -7, -8};
  const tensor a = tensor::from_values<float>(dtype::f32, {2, 2, 2}, av);
  const tensor b = tensor::from_values<float>(dtype::f32, {2, 2, 2}, bv);
  auto rows = paired_activation(rows_observer(2), a, b);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->shape, (std::vector<int64_t>{2, 2, 4}));
  const std::vector<float> want_rows = {1, 2, -1, -2, 3, 4, -3, -4, 5, 6, -5, -6, 7, 8, -7, -8};
  EXPECT_EQ(std::vector<float>(rows->data_as<float>(), rows->data_as<float>() + 16), want_rows);
  auto channels = paired_activation(conv, a, b);
  ASSERT_TRUE(channels.ok());
  EXPECT_EQ(channels->shape, (std::vector<int64_t>{2, 4, 2}));
  const std::vector<float> want_channels = {1, 2, 3, 4, -1, -2, -3, -4, 5, 6, 7, 8, -5, -6, -7, -8};
  EXPECT_EQ(std::vector<float>(channels->data_as<float>(), channels->data_as<float>() + 16), want_channels);
  const tensor c = tensor::from_values<float>(dtype::f32, {2, 4}, av);
  EXPECT_EQ(paired_activation(rows_observer(4), a, c).status().code(), error_code::bad_input);
}

TEST(FloatTargets, SplitHessianMatchesPlainSums) {
  const std::vector<float> xf = correlated_rows(kSamples, kCols, 3), xq = perturbed(xf, 4);
  const split_hessian s = paired_sums(xq, xf);
  for (int64_t i = 0; i < kCols; ++i)
    for (int64_t j = 0; j < kCols; ++j) {
      double h = 0, c = 0;
      for (int64_t t = 0; t < kSamples; ++t) {
        h += static_cast<double>(xq[t * kCols + i]) * xq[t * kCols + j];
        c += static_cast<double>(xf[t * kCols + i]) * xq[t * kCols + j];
      }
      EXPECT_NEAR(s.h[i * kCols + j], 2 * h / kSamples, 1e-5 * (1 + std::abs(h) / kSamples));
      EXPECT_NEAR(s.cross[i * kCols + j], 2 * c / kSamples, 1e-5 * (1 + std::abs(c) / kSamples));
    }
}

TEST(FloatTargets, TargetSolvesRidgeEquations) {
  const std::vector<float> w = random_weight(kRows, kCols, 7);
  const std::vector<float> xf = correlated_rows(kSamples, kCols, 3), xq = perturbed(xf, 4);
  const split_hessian s = paired_sums(xq, xf);
  const double damp = 0.05;
  auto target = float_target_weight(w, kRows, kCols, s.h, s.cross, damp);
  ASSERT_TRUE(target.ok());
  double mean = 0;
  for (int64_t i = 0; i < kCols; ++i) mean += s.h[i * kCols + i];
  const double lambda = damp * mean / kCols;
  double shift = 0;
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t j = 0; j < kCols; ++j) {
      double lhs = 0, rhs = 0;  // [W' (H + lambda I)]_rj and [W (C + lambda I)]_rj
      for (int64_t k = 0; k < kCols; ++k) {
        lhs += (*target)[r * kCols + k] * (s.h[k * kCols + j] + (k == j ? lambda : 0));
        rhs += w[r * kCols + k] * (s.cross[k * kCols + j] + (k == j ? lambda : 0));
      }
      EXPECT_NEAR(lhs, rhs, 1e-5 * (1 + std::abs(rhs)));
      shift += std::abs((*target)[r * kCols + j] - w[r * kCols + j]);
    }
  EXPECT_GT(shift, 1e-3);  // the perturbation does move the target
  // Unperturbed inputs: C = H, so W' = W exactly.
  auto same = float_target_weight(w, kRows, kCols, s.h, s.h, damp);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, w);
}

// Undamped: for two different Q, the difference of ||W x - Q x~||^2 over the samples equals the
// difference of tr((Q - W') H (Q - W')^T) (times n/2, the Hessian's scale).
TEST(FloatTargets, ObjectiveIsFloatOutputError) {
  const std::vector<float> w = random_weight(kRows, kCols, 7);
  const std::vector<float> xf = correlated_rows(kSamples, kCols, 3), xq = perturbed(xf, 4);
  const split_hessian s = paired_sums(xq, xf);
  auto target = float_target_weight(w, kRows, kCols, s.h, s.cross, 0.0);
  ASSERT_TRUE(target.ok());
  const auto direct = [&](const std::vector<float>& q) {
    double f = 0;
    for (int64_t t = 0; t < kSamples; ++t)
      for (int64_t r = 0; r < kRows; ++r) {
        double d = 0;
        for (int64_t k = 0; k < kCols; ++k) d += w[r * kCols + k] * xf[t * kCols + k] - q[r * kCols + k] * xq[t * kCols + k];
        f += d * d;
      }
    return f;
  };
  const auto proxy = [&](const std::vector<float>& q) {
    double f = 0;
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t j = 0; j < kCols; ++j)
        for (int64_t k = 0; k < kCols; ++k)
          f += (q[r * kCols + j] - (*target)[r * kCols + j]) * s.h[j * kCols + k] * (q[r * kCols + k] - (*target)[r * kCols + k]);
    return f * kSamples / 2;
  };
  const std::vector<float> q1 = random_weight(kRows, kCols, 8), q2 = w;
  const double want = direct(q1) - direct(q2), got = proxy(q1) - proxy(q2);
  EXPECT_NEAR(got, want, 1e-4 * std::abs(want));
}

}  // namespace edgepack::float_targets_test

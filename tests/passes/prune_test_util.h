// Data and slow references shared by the pruning tests (prune_*_test.cpp); gptq_test.cpp uses
// its correlated activations and Hessian too.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "calibration/hessian.h"
#include "passes/sparsity_pattern.h"

namespace edgepack::prune_test {

using matrix = std::vector<double>;

// Gauss-Jordan inverse with partial pivoting (the slow references of GPTQ and SparseGPT).
inline matrix reference_inverse(matrix a, int64_t n) {
  matrix inv(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) inv[static_cast<size_t>(i * n + i)] = 1;
  for (int64_t c = 0; c < n; ++c) {
    int64_t p = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::abs(a[static_cast<size_t>(r * n + c)]) > std::abs(a[static_cast<size_t>(p * n + c)])) p = r;
    for (int64_t j = 0; j < n; ++j) {
      std::swap(a[static_cast<size_t>(c * n + j)], a[static_cast<size_t>(p * n + j)]);
      std::swap(inv[static_cast<size_t>(c * n + j)], inv[static_cast<size_t>(p * n + j)]);
    }
    const double d = a[static_cast<size_t>(c * n + c)];
    for (int64_t j = 0; j < n; ++j) {
      a[static_cast<size_t>(c * n + j)] /= d;
      inv[static_cast<size_t>(c * n + j)] /= d;
    }
    for (int64_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[static_cast<size_t>(r * n + c)];
      for (int64_t j = 0; j < n; ++j) {
        a[static_cast<size_t>(r * n + j)] -= f * a[static_cast<size_t>(c * n + j)];
        inv[static_cast<size_t>(r * n + j)] -= f * inv[static_cast<size_t>(c * n + j)];
      }
    }
  }
  return inv;
}

// Upper U with U^T U = a.
inline matrix reference_upper_cholesky(const matrix& a, int64_t n) {
  matrix u(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double d = a[static_cast<size_t>(i * n + i)];
    for (int64_t k = 0; k < i; ++k) d -= u[static_cast<size_t>(k * n + i)] * u[static_cast<size_t>(k * n + i)];
    const double uii = std::sqrt(d);
    u[static_cast<size_t>(i * n + i)] = uii;
    for (int64_t j = i + 1; j < n; ++j) {
      double s = a[static_cast<size_t>(i * n + j)];
      for (int64_t k = 0; k < i; ++k) s -= u[static_cast<size_t>(k * n + i)] * u[static_cast<size_t>(k * n + j)];
      u[static_cast<size_t>(i * n + j)] = s / uii;
    }
  }
  return u;
}

inline std::vector<float> random_weight(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& v : w) v = normal(rng);
  return w;
}

// x = 0.7 z A / sqrt(8) + 0.7 e with a rank-8 factor; every 23rd channel (from 4) is 8x louder.
inline std::vector<float> correlated_rows(int64_t n, int64_t dim, uint64_t seed) {
  std::mt19937_64 rng_a(99), rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rank = 8;
  std::vector<float> a(static_cast<size_t>(rank * dim));
  for (auto& v : a) v = normal(rng_a);
  std::vector<float> x(static_cast<size_t>(n * dim));
  for (int64_t r = 0; r < n; ++r) {
    float z[rank];
    for (auto& v : z) v = normal(rng);
    for (int64_t j = 0; j < dim; ++j) {
      float s = 0;
      for (int64_t k = 0; k < rank; ++k) s += z[k] * a[static_cast<size_t>(k * dim + j)];
      float v = 0.7f * s / std::sqrt(static_cast<float>(rank)) + 0.7f * normal(rng);
      if (j % 23 == 4) v *= 8.0f;
      x[static_cast<size_t>(r * dim + j)] = v;
    }
  }
  return x;
}

inline std::vector<double> hessian_of(const std::vector<float>& x, int64_t dim) {
  hessian_accumulator acc(dim);
  EXPECT_TRUE(acc.add_rows(x.data(), static_cast<int64_t>(x.size()) / dim).ok());
  return acc.hessian();
}

// Relative output error ||X W^T - X Q^T|| / ||X W^T|| in double.
template <class Q>
double output_error(const std::vector<float>& x, const std::vector<float>& w, const std::vector<Q>& q, int64_t rows, int64_t cols) {
  const int64_t n = static_cast<int64_t>(x.size()) / cols;
  double num = 0, den = 0;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t r = 0; r < rows; ++r) {
      double y = 0, yq = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double xv = x[static_cast<size_t>(s * cols + c)];
        y += xv * w[static_cast<size_t>(r * cols + c)];
        yq += xv * static_cast<double>(q[static_cast<size_t>(r * cols + c)]);
      }
      num += (y - yq) * (y - yq);
      den += y * y;
    }
  return std::sqrt(num / den);
}

template <class A, class B>
double nmse(const std::vector<A>& got, const std::vector<B>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = static_cast<double>(got[i]) - static_cast<double>(want[i]);
    num += d * d;
    den += static_cast<double>(want[i]) * static_cast<double>(want[i]);
  }
  return num / den;
}

// The slow, obvious selection: sort (score, index) pairs of `n` entries ascending and prune the
// first `count` (ties: lower index first, the documented rule).
inline void reference_prune_lowest(const std::vector<double>& scores, int64_t count, std::vector<uint8_t>& mask, int64_t offset) {
  std::vector<std::pair<double, int64_t>> order;
  for (size_t i = 0; i < scores.size(); ++i) order.emplace_back(scores[i], static_cast<int64_t>(i));
  std::sort(order.begin(), order.end());
  for (int64_t i = 0; i < count; ++i) mask[static_cast<size_t>(offset + order[static_cast<size_t>(i)].second)] = 0;
}

// One row of scores under a pattern, by the plain definition (per-row unstructured count).
inline void reference_row_mask(const std::vector<double>& scores, const sparsity_pattern& p, std::vector<uint8_t>& mask, int64_t offset) {
  const int64_t cols = static_cast<int64_t>(scores.size());
  if (p.kind == sparsity_kind::unstructured) {
    reference_prune_lowest(scores, static_cast<int64_t>(std::floor(p.fraction * cols + 0.5)), mask, offset);
    return;
  }
  for (int64_t g = 0; g < cols; g += p.m) {
    const int64_t width = std::min(p.m, cols - g);
    const int64_t keep = width == p.m ? p.n : (p.n * width) / p.m;
    std::vector<double> group(scores.begin() + g, scores.begin() + g + width);
    reference_prune_lowest(group, width - keep, mask, offset + g);
  }
}

inline int64_t mask_agreement(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int64_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return same;
}

}  // namespace edgepack::prune_test

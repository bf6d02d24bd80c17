// The synthetic layer data shared by the 4096x4096 layer benchmarks (gptq_layer_bench,
// sparsegpt_layer_bench): the recipe of ../shared/peers/gptq_layer_ref.py (x = sqrt(.5) z A +
// sqrt(.5) e with a rank-64 factor A), generated with std::mt19937_64 + Box-Muller, so the same
// distribution as the reference but not torch's exact samples.
#pragma once
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/parallel.h"

namespace edgepack::bench {

using row_matrix_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline constexpr int64_t factor_rank = 64;
inline constexpr int64_t chunk_rows = 2048;

inline double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Standard normal floats from a seeded 64-bit Mersenne Twister (Box-Muller, both values used).
struct normal_source {
  std::mt19937_64 rng;
  bool has_spare = false;
  double spare = 0;
  explicit normal_source(uint64_t seed) : rng(seed) {}
  double uniform() { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }
  float next() {
    if (has_spare) {
      has_spare = false;
      return static_cast<float>(spare);
    }
    const double r = std::sqrt(-2.0 * std::log(uniform())), t = 2.0 * M_PI * uniform();
    spare = r * std::sin(t);
    has_spare = true;
    return static_cast<float>(r * std::cos(t));
  }
};

// Rows [first, first + count) of the stream with this seed; each chunk of 2048 rows has its own
// generator so chunks can be made in parallel and in any order.
inline row_matrix_f make_rows(int64_t first, int64_t count, int64_t dim, uint64_t seed, const row_matrix_f& a, int threads) {
  row_matrix_f z(count, factor_rank), e(count, dim);
  const int64_t chunks = (count + chunk_rows - 1) / chunk_rows;
  parallel_for(chunks, threads, [&](int64_t b, int64_t end) {
    for (int64_t c = b; c < end; ++c) {
      normal_source gen(seed * 1000003 + static_cast<uint64_t>((first + c * chunk_rows) / chunk_rows));
      for (int64_t r = c * chunk_rows; r < std::min(count, (c + 1) * chunk_rows); ++r) {
        for (int64_t k = 0; k < factor_rank; ++k) z(r, k) = gen.next();
        for (int64_t j = 0; j < dim; ++j) e(r, j) = gen.next();
      }
    }
  });
  const float h = std::sqrt(0.5f);
  row_matrix_f x = h * e;
  x.noalias() += h * (z * a);
  return x;
}

// The rank-64 factor A (unit-norm columns, seed 3) and the weight W ~ N(0, 0.02^2) (seed 0).
inline row_matrix_f make_factor(int64_t dim) {
  row_matrix_f a(factor_rank, dim);
  normal_source gen(3);
  for (int64_t k = 0; k < factor_rank; ++k)
    for (int64_t j = 0; j < dim; ++j) a(k, j) = gen.next();
  for (int64_t j = 0; j < dim; ++j) a.col(j) /= a.col(j).norm();
  return a;
}

inline std::vector<float> make_weight(int64_t dim) {
  std::vector<float> w(static_cast<size_t>(dim * dim));
  normal_source gen(0);
  for (auto& v : w) v = 0.02f * gen.next();
  return w;
}

// ||y - x q^T|| / ||y|| for a [dim, dim] row-major weight q and y = x w^T.
inline double relative_output_error(const row_matrix_f& x, const row_matrix_f& y, const std::vector<float>& q, int64_t dim) {
  const Eigen::Map<const row_matrix_f> qm(q.data(), dim, dim);
  const row_matrix_f yq = x * qm.transpose();
  return static_cast<double>((y - yq).norm() / y.norm());
}

inline long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

}  // namespace edgepack::bench

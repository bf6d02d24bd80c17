// Hessian accumulation: against a naive double sum, determinism across thread counts, input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "calibration/hessian.h"

namespace edgepack {
namespace {

std::vector<float> random_rows(int64_t rows, int64_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * dim));
  for (auto& v : x) v = normal(rng);
  if (dim > 5)
    for (int64_t r = 0; r < rows; ++r) x[static_cast<size_t>(r * dim + 5)] *= 30.0f;  // an outlier channel
  return x;
}

hessian_accumulator accumulate(const std::vector<float>& x, int64_t dim, const hessian_options& options) {
  hessian_accumulator acc(dim, options);
  const int64_t chunks[] = {100, 33, 1, 250, 0, 116};  // uneven chunks, 500 rows in all
  int64_t at = 0;
  for (const int64_t c : chunks) {
    EXPECT_TRUE(acc.add_rows(x.data() + at * dim, c).ok());
    at += c;
  }
  return acc;
}

TEST(Hessian, MatchesNaiveDoubleSum) {
  const int64_t dim = 77, rows = 500;
  const auto x = random_rows(rows, dim, 11);
  const auto acc = accumulate(x, dim, hessian_options{.threads = 2, .tile = 16, .flush_rows = 64});
  EXPECT_EQ(acc.count(), rows);
  const auto h = acc.hessian();
  double max_rel = 0;
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = 0; j < dim; ++j) {
      double naive = 0, magnitude = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const double a = x[static_cast<size_t>(r * dim + i)], b = x[static_cast<size_t>(r * dim + j)];
        naive += a * b;
        magnitude += std::abs(a * b);
      }
      naive *= 2.0 / rows;
      magnitude *= 2.0 / rows;
      // f32 products summed over <= 64 rows, then in double: error well under 1e-6 of sum |x_i x_j|.
      max_rel = std::max(max_rel, std::abs(h[static_cast<size_t>(i * dim + j)] - naive) / magnitude);
      EXPECT_EQ(h[static_cast<size_t>(i * dim + j)], h[static_cast<size_t>(j * dim + i)]);
    }
  EXPECT_LT(max_rel, 1e-6);
  EXPECT_GT(max_rel, 0.0);  // f32 tiles are really used (the test would not see a double-only path)
}

TEST(Hessian, ByteIdenticalAtAnyThreadCount) {
  const int64_t dim = 130;
  const auto x = random_rows(500, dim, 12);
  const auto one = accumulate(x, dim, hessian_options{.threads = 1, .tile = 32}).hessian();
  for (const int threads : {2, 3}) {
    const auto many = accumulate(x, dim, hessian_options{.threads = threads, .tile = 32}).hessian();
    ASSERT_EQ(one.size(), many.size());
    EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * sizeof(double)), 0) << threads << " threads";
  }
}

// Naive double sum of the lower triangle; compares H with it entry by entry relative to
// sum |x_i x_j| (the scale of each entry's rounding error) and returns the largest such error.
double max_relative_error(const std::vector<float>& x, int64_t rows, int64_t dim, const std::vector<double>& h) {
  double max_rel = 0;
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double naive = 0, magnitude = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const double a = x[static_cast<size_t>(r * dim + i)], b = x[static_cast<size_t>(r * dim + j)];
        naive += a * b;
        magnitude += std::abs(a * b);
      }
      const double scale = 2.0 / static_cast<double>(rows);
      max_rel = std::max(max_rel, std::abs(h[static_cast<size_t>(i * dim + j)] - naive * scale) / (magnitude * scale));
      EXPECT_EQ(h[static_cast<size_t>(i * dim + j)], h[static_cast<size_t>(j * dim + i)]);
    }
  return max_rel;
}

std::vector<syrk_isa> available_kernels() {
  std::vector<syrk_isa> out;
  for (const syrk_isa isa : {syrk_isa::portable, syrk_isa::avx2, syrk_isa::avx512})
    if (syrk_isa_available(isa)) out.push_back(isa);
  return out;
}

TEST(Hessian, OddDimsMatchNaiveDoubleSum) {
  // Products of f32 inputs are exact inside an fma; each f32 chain of m terms adds at most m
  // roundings of 2^-24 relative to sum |x_i x_j| (m <= 250 here: the largest chunk), and the double
  // part is ~1e-16. So the error is below 250 * 2^-24 ~ 1.5e-5 of sum |x_i x_j| for every entry.
  for (const int64_t dim : {1, 77, 173}) {
    const auto x = random_rows(500, dim, 20 + static_cast<uint64_t>(dim));
    for (const syrk_isa isa : available_kernels()) {
      const auto acc = accumulate(x, dim, hessian_options{.threads = 2, .tile = 64, .kernel = isa});
      EXPECT_EQ(acc.kernel(), isa);
      const double max_rel = max_relative_error(x, 500, dim, acc.hessian());
      EXPECT_LT(max_rel, 250 * 0x1.0p-24) << dim << " " << syrk_isa_name(isa);
      if (dim > 1) {
        EXPECT_GT(max_rel, 0.0) << dim;  // f32 chains are really used
      }
    }
  }
}

TEST(Hessian, KernelVariantsAreBitIdentical) {
  // Every variant available on this CPU against the portable one (std::fma chains), for odd dims,
  // several tile sizes (edge slivers, partial tiles), uneven chunks, flushes and thread counts.
  const auto kernels = available_kernels();
  ASSERT_EQ(kernels.front(), syrk_isa::portable);
  if (kernels.size() == 1) GTEST_SKIP() << "only the portable kernel runs on this CPU";
  for (const int64_t dim : {1, 77, 173, 300}) {
    const auto x = random_rows(500, dim, 40 + static_cast<uint64_t>(dim));
    for (const int64_t tile : {16, 100, 256}) {
      for (const int64_t flush : {37, 300, 2048}) {
        const auto ref = accumulate(x, dim, hessian_options{.threads = 1, .tile = tile, .flush_rows = flush, .kernel = syrk_isa::portable}).raw_sum();
        for (const syrk_isa isa : kernels)
          for (const int threads : {1, 3}) {
            const auto got = accumulate(x, dim, hessian_options{.threads = threads, .tile = tile, .flush_rows = flush, .kernel = isa}).raw_sum();
            ASSERT_EQ(got.size(), ref.size());
            EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(double)), 0)
                << syrk_isa_name(isa) << " dim " << dim << " tile " << tile << " flush " << flush << " threads " << threads;
          }
      }
    }
  }
}

TEST(Hessian, UnavailableKernelFallsBackToTheBest) {
  const syrk_isa best = resolve_syrk_isa(syrk_isa::automatic);
  EXPECT_NE(best, syrk_isa::automatic);
  EXPECT_TRUE(syrk_isa_available(best));
  EXPECT_EQ(hessian_accumulator(8).kernel(), best);
  for (const syrk_isa isa : {syrk_isa::portable, syrk_isa::avx2, syrk_isa::avx512})
    EXPECT_EQ(hessian_accumulator(8, hessian_options{.kernel = isa}).kernel(), syrk_isa_available(isa) ? isa : best);
}

TEST(Hessian, EmptyIsZeroAndNanRowsAreRejected) {
  hessian_accumulator acc(4);
  for (const double v : acc.hessian()) EXPECT_EQ(v, 0.0);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, NAN, 8};
  const Status status = acc.add_rows(x.data(), 2);
  EXPECT_EQ(status.code(), error_code::bad_input);
  EXPECT_NE(status.message().find("row 1"), std::string::npos) << status.message();
  EXPECT_EQ(acc.count(), 0);
  ASSERT_TRUE(acc.add_rows(x.data(), 1).ok());
  EXPECT_EQ(acc.count(), 1);
  EXPECT_DOUBLE_EQ(acc.hessian()[1 * 4 + 3], 2.0 * 2 * 4);
}

}  // namespace
}  // namespace edgepack

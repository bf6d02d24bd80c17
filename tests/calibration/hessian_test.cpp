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

// Magnitude pruning and Wanda against plain-sort references on odd shapes (exact masks: random
// floats have no ties), pattern/sparsity checks, the global threshold, thread independence, errors.
#include <gtest/gtest.h>

#include "passes/prune_magnitude.h"
#include "passes/prune_wanda.h"
#include "tests/passes/prune_test_util.h"

namespace edgepack {
namespace {

using namespace prune_test;

struct shape {
  int64_t rows, cols;
};

const sparsity_pattern patterns[] = {sparsity_pattern::unstructured(0.5), sparsity_pattern::unstructured(0.3), sparsity_pattern::n_of_m(2, 4),
                                     sparsity_pattern::n_of_m(4, 8), sparsity_pattern::n_of_m(1, 3)};
const shape shapes[] = {{37, 53}, {172, 64}, {64, 172}, {5, 7}};

std::vector<uint8_t> reference_magnitude(const std::vector<float>& w, int64_t rows, int64_t cols, const sparsity_pattern& p, mask_scope scope) {
  std::vector<uint8_t> mask(w.size(), 1);
  if (p.kind == sparsity_kind::unstructured && scope == mask_scope::per_tensor) {
    std::vector<double> s(w.size());
    for (size_t i = 0; i < w.size(); ++i) s[i] = std::fabs(static_cast<double>(w[i]));
    reference_prune_lowest(s, static_cast<int64_t>(std::floor(p.fraction * static_cast<double>(w.size()) + 0.5)), mask, 0);
    return mask;
  }
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> s(static_cast<size_t>(cols));
    for (int64_t c = 0; c < cols; ++c) s[static_cast<size_t>(c)] = std::fabs(static_cast<double>(w[static_cast<size_t>(r * cols + c)]));
    reference_row_mask(s, p, mask, r * cols);
  }
  return mask;
}

TEST(PruneMagnitude, MatchesReferenceOnOddShapes) {
  for (const shape sh : shapes)
    for (const sparsity_pattern& p : patterns)
      for (const mask_scope scope : {mask_scope::per_tensor, mask_scope::per_row}) {
        const auto w = random_weight(sh.rows, sh.cols, 11 + static_cast<uint64_t>(sh.cols));
        auto got = prune_magnitude(w, sh.rows, sh.cols, magnitude_options{.pattern = p, .scope = scope, .threads = 2});
        ASSERT_TRUE(got.ok()) << got.status().message();
        const auto want = reference_magnitude(w, sh.rows, sh.cols, p, scope);
        EXPECT_EQ(got->mask, want) << sparsity_pattern_name(p) << " " << sh.rows << "x" << sh.cols;
        const mask_scope check = p.kind == sparsity_kind::n_of_m ? mask_scope::per_row : scope;
        EXPECT_TRUE(check_sparsity_mask(got->mask, sh.rows, sh.cols, p, check).ok());
        for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(got->values[i], want[i] ? w[i] : 0.0f);
        const int64_t expected = p.kind == sparsity_kind::n_of_m || scope == mask_scope::per_row ? sh.rows * pruned_per_row(p, sh.cols)
                                                                                                  : pruned_count(p.fraction, sh.rows * sh.cols);
        EXPECT_EQ(got->pruned, expected);
      }
}

TEST(PruneMagnitude, GlobalThresholdAcrossTensors) {
  // Two tensors of different scale: one global threshold prunes the quiet one far more.
  auto a = random_weight(37, 53, 1), b = random_weight(20, 64, 2);
  for (auto& v : b) v *= 4.0f;
  const weight_matrix_ref refs[] = {{"a", a, 37, 53}, {"b", b, 20, 64}};
  auto got = prune_magnitude_global(refs, magnitude_options{.pattern = sparsity_pattern::unstructured(0.5)});
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 2u);
  std::vector<float> all(a);
  all.insert(all.end(), b.begin(), b.end());
  const auto want = reference_magnitude(all, 1, static_cast<int64_t>(all.size()), sparsity_pattern::unstructured(0.5), mask_scope::per_tensor);
  std::vector<uint8_t> joined((*got)[0].mask);
  joined.insert(joined.end(), (*got)[1].mask.begin(), (*got)[1].mask.end());
  EXPECT_EQ(joined, want);
  EXPECT_EQ((*got)[0].pruned + (*got)[1].pruned, pruned_count(0.5, static_cast<int64_t>(all.size())));
  EXPECT_GT((*got)[0].pruned, 2 * (*got)[1].pruned);
  auto nm = prune_magnitude_global(refs, magnitude_options{.pattern = sparsity_pattern::n_of_m(2, 4)});
  ASSERT_FALSE(nm.ok());
  EXPECT_EQ(nm.status().code(), error_code::bad_usage);
  EXPECT_NE(nm.status().message().find("unstructured"), std::string::npos);
}

std::vector<uint8_t> reference_wanda(const std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<double>& norms, const sparsity_pattern& p,
                                     mask_scope scope) {
  // The documented score: |W| * ||X_j|| in double, rounded once to float.
  std::vector<double> all(w.size());
  for (size_t i = 0; i < w.size(); ++i) all[i] = static_cast<float>(std::fabs(static_cast<double>(w[i])) * norms[i % static_cast<size_t>(cols)]);
  std::vector<uint8_t> mask(w.size(), 1);
  if (p.kind == sparsity_kind::unstructured && scope == mask_scope::per_tensor) {
    reference_prune_lowest(all, static_cast<int64_t>(std::floor(p.fraction * static_cast<double>(w.size()) + 0.5)), mask, 0);
    return mask;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> s(all.begin() + r * cols, all.begin() + (r + 1) * cols);
    reference_row_mask(s, p, mask, r * cols);
  }
  return mask;
}

std::vector<double> plain_column_norms(const std::vector<float>& x, int64_t cols) {
  std::vector<double> n(static_cast<size_t>(cols), 0.0);
  for (size_t i = 0; i < x.size(); ++i) n[i % static_cast<size_t>(cols)] += static_cast<double>(x[i]) * x[i];
  for (auto& v : n) v = std::sqrt(v);
  return n;
}

TEST(PruneWanda, NormsFromHessianMatchPlainSums) {
  const int64_t cols = 53, n = 300;
  const auto x = correlated_rows(n, cols, 4);
  auto norms = activation_norms_from_hessian(hessian_of(x, cols), cols, n);
  ASSERT_TRUE(norms.ok());
  const auto want = plain_column_norms(x, cols);
  for (int64_t j = 0; j < cols; ++j) EXPECT_NEAR((*norms)[static_cast<size_t>(j)], want[static_cast<size_t>(j)], 1e-5 * want[static_cast<size_t>(j)]);
}

TEST(PruneWanda, MatchesReferenceOnOddShapes) {
  for (const shape sh : shapes)
    for (const sparsity_pattern& p : patterns)
      for (const mask_scope scope : {mask_scope::per_row, mask_scope::per_tensor}) {
        const auto w = random_weight(sh.rows, sh.cols, 21 + static_cast<uint64_t>(sh.rows));
        const auto norms = plain_column_norms(correlated_rows(200, sh.cols, 5), sh.cols);
        auto got = prune_wanda(w, sh.rows, sh.cols, norms, wanda_options{.pattern = p, .scope = scope, .threads = 2});
        ASSERT_TRUE(got.ok()) << got.status().message();
        EXPECT_EQ(got->mask, reference_wanda(w, sh.rows, sh.cols, norms, p, scope)) << sparsity_pattern_name(p) << " " << sh.rows << "x" << sh.cols;
        const bool tensor_count = p.kind == sparsity_kind::unstructured && scope == mask_scope::per_tensor;
        EXPECT_TRUE(check_sparsity_mask(got->mask, sh.rows, sh.cols, p, tensor_count ? mask_scope::per_tensor : mask_scope::per_row).ok());
        EXPECT_EQ(got->pruned, tensor_count ? pruned_count(p.fraction, sh.rows * sh.cols) : sh.rows * pruned_per_row(p, sh.cols));
        for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(got->values[i], got->mask[i] ? w[i] : 0.0f);
      }
}

TEST(PruneWanda, PerTensorPrunesQuietRowsHarder) {
  // Rows 0..9 are 20x quieter: one threshold over the tensor takes most of its zeros from them,
  // while per row every row prunes the same count; the tensor total is the same.
  const int64_t rows = 30, cols = 41;
  auto w = random_weight(rows, cols, 17);
  for (int64_t i = 0; i < 10 * cols; ++i) w[static_cast<size_t>(i)] *= 0.05f;
  const std::vector<double> norms(static_cast<size_t>(cols), 1.0);
  const sparsity_pattern p = sparsity_pattern::unstructured(0.4);
  auto row = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p});
  auto tensor = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p, .scope = mask_scope::per_tensor});
  ASSERT_TRUE(row.ok() && tensor.ok());
  EXPECT_EQ(tensor->pruned, pruned_count(0.4, rows * cols));
  int64_t quiet = 0;
  for (int64_t i = 0; i < 10 * cols; ++i) quiet += tensor->mask[static_cast<size_t>(i)] == 0;
  EXPECT_GT(quiet, 9 * cols);
  EXPECT_EQ(std::count(row->mask.begin(), row->mask.begin() + 10 * cols, uint8_t{0}), 10 * pruned_count(0.4, cols));
}

TEST(PruneWanda, BeatsMagnitudeWithLoudChannels) {
  const int64_t rows = 48, cols = 96;
  const auto w = random_weight(rows, cols, 8);
  const auto calib = correlated_rows(1024, cols, 31), held = correlated_rows(256, cols, 32);
  const auto norms = plain_column_norms(calib, cols);
  for (const sparsity_pattern& p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::n_of_m(2, 4)}) {
    auto wa = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p});
    auto mg = prune_magnitude(w, rows, cols, magnitude_options{.pattern = p, .scope = mask_scope::per_row});
    ASSERT_TRUE(wa.ok() && mg.ok());
    EXPECT_LT(output_error(held, w, wa->values, rows, cols), 0.9 * output_error(held, w, mg->values, rows, cols)) << sparsity_pattern_name(p);
  }
}

TEST(PruneMagnitudeWanda, SameAtOneAndTwoThreads) {
  const int64_t rows = 70, cols = 53;
  const auto w = random_weight(rows, cols, 12);
  const auto norms = plain_column_norms(correlated_rows(100, cols, 3), cols);
  for (const sparsity_pattern& p : patterns) {
    auto m1 = prune_magnitude(w, rows, cols, magnitude_options{.pattern = p, .scope = mask_scope::per_row, .threads = 1});
    auto m2 = prune_magnitude(w, rows, cols, magnitude_options{.pattern = p, .scope = mask_scope::per_row, .threads = 2});
    auto w1 = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p, .threads = 1});
    auto w2 = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p, .threads = 2});
    auto t1 = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p, .scope = mask_scope::per_tensor, .threads = 1});
    auto t2 = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p, .scope = mask_scope::per_tensor, .threads = 2});
    ASSERT_TRUE(m1.ok() && m2.ok() && w1.ok() && w2.ok() && t1.ok() && t2.ok());
    EXPECT_EQ(m1->mask, m2->mask);
    EXPECT_EQ(m1->values, m2->values);
    EXPECT_EQ(w1->mask, w2->mask);
    EXPECT_EQ(w1->values, w2->values);
    EXPECT_EQ(t1->mask, t2->mask);
    EXPECT_EQ(t1->values, t2->values);
  }
}

TEST(PruneMagnitudeWanda, BadOptionsAndInputs) {
  const auto w = random_weight(4, 8, 1);
  const std::vector<double> norms(8, 1.0);
  struct bad {
    sparsity_pattern p;
    const char* expected;
  };
  for (const bad b : {bad{sparsity_pattern::unstructured(1.0), "outside [0, 1)"}, bad{sparsity_pattern::unstructured(-0.5), "outside [0, 1)"},
                      bad{sparsity_pattern::n_of_m(4, 4), "0 < N < M"}, bad{sparsity_pattern::n_of_m(2, 0), "M > 0"}}) {
    auto m = prune_magnitude(w, 4, 8, magnitude_options{.pattern = b.p});
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), error_code::bad_usage);
    EXPECT_NE(m.status().message().find(b.expected), std::string::npos) << m.status().message();
    auto wa = prune_wanda(w, 4, 8, norms, wanda_options{.pattern = b.p});
    ASSERT_FALSE(wa.ok());
    EXPECT_EQ(wa.status().code(), error_code::bad_usage);
  }
  EXPECT_EQ(prune_magnitude(w, 4, 7, magnitude_options{}).status().code(), error_code::bad_usage);
  EXPECT_EQ(prune_magnitude(w, 0, 8, magnitude_options{}).status().code(), error_code::bad_usage);
  auto nan = w;
  nan[5] = std::nanf("");
  EXPECT_EQ(prune_magnitude(nan, 4, 8, magnitude_options{}).status().code(), error_code::bad_input);
  EXPECT_EQ(prune_wanda(w, 4, 8, std::vector<double>(7, 1.0), wanda_options{}).status().code(), error_code::bad_usage);
  EXPECT_EQ(prune_wanda(w, 4, 8, std::vector<double>(8, -1.0), wanda_options{}).status().code(), error_code::bad_input);
  EXPECT_EQ(activation_norms_from_hessian(std::vector<double>(4, 1.0), 2, 0).status().code(), error_code::bad_usage);
}

}  // namespace
}  // namespace edgepack

// Sparsity patterns: scheme parsing (correct and error cases), the tail rule, counts, the mask
// checker, and the shared selection (prune_lowest / select_row_mask) against a plain sort.
#include <gtest/gtest.h>

#include "passes/prune_mask.h"
#include "passes/sparsity_pattern.h"
#include "tests/passes/prune_test_util.h"

namespace edgepack {
namespace {

TEST(SparsityPattern, ParsesTerms) {
  auto a = parse_sparsity_term("s50");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, sparsity_kind::unstructured);
  EXPECT_DOUBLE_EQ(a->fraction, 0.5);
  auto b = parse_sparsity_term("s62.5");
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(b->fraction, 0.625);
  auto z = parse_sparsity_term("s0");
  ASSERT_TRUE(z.ok());
  EXPECT_DOUBLE_EQ(z->fraction, 0.0);
  auto c = parse_sparsity_term("s2:4");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, sparsity_kind::n_of_m);
  EXPECT_EQ(c->n, 2);
  EXPECT_EQ(c->m, 4);
  EXPECT_EQ(sparsity_pattern_name(*c), "s2:4");
  EXPECT_EQ(sparsity_pattern_name(*a), "s50");
  EXPECT_EQ(sparsity_pattern_name(*b), "s62.5");
  auto d = parse_sparsity_term("s4:8");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->n, 4);
}

TEST(SparsityPattern, ParsesCompressionSchemes) {
  auto a = parse_compression_scheme("s2:4+w4g32");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(a->sparsity && a->weights);
  EXPECT_EQ(a->sparsity->m, 4);
  EXPECT_EQ(a->weights->bits, 4);
  EXPECT_EQ(a->weights->group_size, 32);
  auto b = parse_compression_scheme("w3g128_asym+s50");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_FALSE(b->weights->symmetric);
  EXPECT_DOUBLE_EQ(b->sparsity->fraction, 0.5);
  auto c = parse_compression_scheme("s50");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->weights.has_value());
  auto d = parse_compression_scheme("w8");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->sparsity.has_value());
}

struct bad_case {
  const char* text;
  const char* expected;
};

TEST(SparsityPattern, RejectsBadTermsWithBadUsage) {
  for (const bad_case c : {bad_case{"s100", "below 100"}, bad_case{"s150", "below 100"}, bad_case{"s0.5", "percentage"},
                           bad_case{"s-5", "expected a percentage"}, bad_case{"s4:4", "0 < N < M"}, bad_case{"s5:4", "0 < N < M"},
                           bad_case{"s0:4", "0 < N < M"}, bad_case{"s2:0", "M > 0"}, bad_case{"s2:", "two integers"}, bad_case{"s:4", "two integers"},
                           bad_case{"s2:4:8", "two integers"}, bad_case{"s", "not a sparsity term"}, bad_case{"x50", "not a sparsity term"},
                           bad_case{"s50%", "expected a percentage"}, bad_case{"s1e1", "expected a percentage"}, bad_case{"s 50", "expected a percentage"}}) {
    auto p = parse_sparsity_term(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), error_code::bad_usage) << c.text;
    EXPECT_NE(p.status().message().find(c.expected), std::string::npos) << c.text << ": " << p.status().message();
    EXPECT_NE(p.status().message().find(std::string("'") + c.text + "'"), std::string::npos) << p.status().message();
  }
  for (const bad_case c : {bad_case{"s50+s2:4", "more than one sparsity"}, bad_case{"w4+w8", "more than one weight"}, bad_case{"s50+", "empty term"},
                           bad_case{"", "empty scheme"}, bad_case{"s50+q4", "neither"}, bad_case{"s2:4+w9", "bits must be 2..8"},
                           bad_case{"s3:2+w4", "0 < N < M"}}) {
    auto s = parse_compression_scheme(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), error_code::bad_usage);
    EXPECT_NE(s.status().message().find(c.expected), std::string::npos) << c.text << ": " << s.status().message();
  }
  EXPECT_EQ(validate_sparsity_pattern(sparsity_pattern::unstructured(1.0)).code(), error_code::bad_usage);
  EXPECT_EQ(validate_sparsity_pattern(sparsity_pattern::unstructured(-0.1)).code(), error_code::bad_usage);
  EXPECT_EQ(validate_sparsity_pattern(sparsity_pattern::n_of_m(2, 0)).code(), error_code::bad_usage);
  EXPECT_EQ(validate_sparsity_pattern(sparsity_pattern::n_of_m(4, 4)).code(), error_code::bad_usage);
}

TEST(SparsityPattern, TailRuleAndCounts) {
  const auto p24 = sparsity_pattern::n_of_m(2, 4), p48 = sparsity_pattern::n_of_m(4, 8);
  EXPECT_EQ(kept_in_group(p24, 4), 2);
  EXPECT_EQ(kept_in_group(p24, 3), 1);  // floor(2*3/4)
  EXPECT_EQ(kept_in_group(p24, 1), 0);
  EXPECT_EQ(kept_in_group(p48, 4), 2);  // 172 = 21*8 + 4
  EXPECT_EQ(pruned_per_row(p48, 172), 21 * 4 + 2);
  EXPECT_EQ(pruned_per_row(p24, 53), 13 * 2 + 1);
  EXPECT_EQ(pruned_count(0.5, 53), 27);
  EXPECT_EQ(pruned_count(0.5, 52), 26);
  EXPECT_EQ(pruned_count(0.0, 53), 0);
  EXPECT_EQ(pruned_per_row(sparsity_pattern::unstructured(0.3), 10), 3);
}

TEST(SparsityPattern, MaskCheckerAcceptsAndRejects) {
  const int64_t rows = 2, cols = 7;
  // 2:4 with a 3-wide tail (keeps at most 1).
  std::vector<uint8_t> ok = {1, 0, 1, 0, 1, 0, 0, /**/ 0, 0, 0, 1, 0, 0, 0};
  EXPECT_TRUE(check_sparsity_mask(ok, rows, cols, sparsity_pattern::n_of_m(2, 4), mask_scope::per_row).ok());
  std::vector<uint8_t> bad_group = ok;
  bad_group[1] = 1;
  Status s = check_sparsity_mask(bad_group, rows, cols, sparsity_pattern::n_of_m(2, 4), mask_scope::per_row);
  EXPECT_EQ(s.code(), error_code::bad_input);
  EXPECT_NE(s.message().find("row 0, columns 0..3 keep 3"), std::string::npos) << s.message();
  std::vector<uint8_t> bad_tail = ok;
  bad_tail[11] = bad_tail[12] = 1;
  s = check_sparsity_mask(bad_tail, rows, cols, sparsity_pattern::n_of_m(2, 4), mask_scope::per_row);
  EXPECT_NE(s.message().find("row 1, columns 4..6 keep 2"), std::string::npos) << s.message();
  // Unstructured 50 %: 4 of 7 per row (floor(3.5 + .5)), 7 of 14 per tensor.
  std::vector<uint8_t> u = {1, 1, 1, 0, 0, 0, 0, /**/ 1, 1, 1, 0, 0, 0, 0};
  EXPECT_TRUE(check_sparsity_mask(u, rows, cols, sparsity_pattern::unstructured(0.5), mask_scope::per_row).ok());
  EXPECT_FALSE(check_sparsity_mask(u, rows, cols, sparsity_pattern::unstructured(0.5), mask_scope::per_tensor).ok());
  u[3] = 1;
  EXPECT_TRUE(check_sparsity_mask(u, rows, cols, sparsity_pattern::unstructured(0.5), mask_scope::per_tensor).ok());
  s = check_sparsity_mask(u, rows, cols, sparsity_pattern::unstructured(0.5), mask_scope::per_row);
  EXPECT_NE(s.message().find("row 0 prunes 3 of 7"), std::string::npos) << s.message();
  EXPECT_FALSE(check_sparsity_mask(std::vector<uint8_t>(3), rows, cols, sparsity_pattern::unstructured(0.5), mask_scope::per_row).ok());
}

TEST(SparsityPattern, SelectionMatchesPlainSortWithTies) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> small(0, 6);  // many ties on purpose
  for (const sparsity_pattern p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::unstructured(0.37), sparsity_pattern::n_of_m(2, 4),
                                   sparsity_pattern::n_of_m(4, 8), sparsity_pattern::n_of_m(1, 3)}) {
    for (const int64_t cols : {1, 3, 7, 53, 172}) {
      std::vector<float> scores(static_cast<size_t>(cols));
      for (auto& v : scores) v = static_cast<float>(small(rng));
      std::vector<uint8_t> got(static_cast<size_t>(cols)), want(static_cast<size_t>(cols), 1);
      select_row_mask(scores.data(), cols, p, got.data());
      prune_test::reference_row_mask(std::vector<double>(scores.begin(), scores.end()), p, want, 0);
      EXPECT_EQ(got, want) << sparsity_pattern_name(p) << " cols " << cols;
      EXPECT_TRUE(check_sparsity_mask(got, 1, cols, p, mask_scope::per_row).ok());
      int64_t zeros = 0;
      for (const auto m : got) zeros += m == 0;
      EXPECT_EQ(zeros, pruned_per_row(p, cols));
    }
  }
}

}  // namespace
}  // namespace edgepack

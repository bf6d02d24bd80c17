// SparseGPT: against a slow, obvious double-precision reference (column by column, no lazy
// batching, Gauss-Jordan inverse + plain Cholesky; per-row and per-tensor masks), pattern and exact-count checks, goldens
// (diagonal Hessian = Wanda's mask; s0 + quantization = GPTQ bit for bit), joint quantization
// keeping pruned weights at exact zero codes, thread independence, output error below Wanda and
// magnitude on correlated inputs, bad options.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "core/dtype.h"
#include "core/quant_codes.h"
#include "passes/gptq.h"
#include "passes/prune_magnitude.h"
#include "passes/prune_wanda.h"
#include "passes/rtn_quantizer.h"
#include "passes/sparsegpt.h"
#include "tests/passes/prune_test_util.h"
#include "tests/passes/sparsegpt_reference.h"

namespace edgepack {
namespace {

using namespace prune_test;
using matrix = std::vector<double>;

struct reference_case {
  const char* name;
  int64_t rows, cols;
  sparsity_pattern pattern;
  std::optional<quant_encoding> quantize;
  int64_t block;
  mask_scope scope = mask_scope::per_row;
};

quant_encoding enc_of(int bits, int64_t group, bool symmetric) { return quant_encoding{.bits = bits, .group_size = group, .symmetric = symmetric}; }

class SparseGptReference : public ::testing::TestWithParam<reference_case> {};

TEST_P(SparseGptReference, MatchesSlowDoubleReference) {
  const reference_case& c = GetParam();
  const auto w = random_weight(c.rows, c.cols, 7 + static_cast<uint64_t>(c.rows));
  const auto h = hessian_of(correlated_rows(400, c.cols, 8), c.cols);
  const sparsegpt_options options{.pattern = c.pattern, .scope = c.scope, .quantize = c.quantize, .block_size = c.block, .row_tile = 16, .threads = 2};
  auto got = sparsegpt_prune(w, c.rows, c.cols, h, options);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->stats.warnings.empty());
  const reference_output ref = reference_sparsegpt(w, c.rows, c.cols, h, options, c.scope);
  // The mask and the pattern: exact counts per row, or over the tensor.
  const bool per_tensor = c.pattern.kind == sparsity_kind::unstructured && c.scope == mask_scope::per_tensor;
  EXPECT_TRUE(check_sparsity_mask(got->pruned.mask, c.rows, c.cols, c.pattern, per_tensor ? mask_scope::per_tensor : mask_scope::per_row).ok());
  EXPECT_EQ(got->pruned.pruned, per_tensor ? pruned_count(c.pattern.fraction, c.rows * c.cols) : c.rows * pruned_per_row(c.pattern, c.cols));
  for (size_t i = 0; i < w.size(); ++i)
    if (got->pruned.mask[i] == 0) {
      ASSERT_EQ(got->pruned.values[i], 0.0f);
    }
  // Agreement: f32 lazy batches vs the double reference differ by rounding; a weight whose score
  // lands within that of its competitor's can flip, and the different error then propagates along
  // the row. Such flips are rare.
  const double agreement = static_cast<double>(mask_agreement(got->pruned.mask, ref.mask)) / static_cast<double>(w.size());
  const double error = nmse(got->pruned.values, ref.values);
  EXPECT_GT(agreement, 0.99) << c.name;
  EXPECT_LT(error, c.quantize ? 2e-4 : 1e-5) << c.name;
  std::printf("[%s] mask agreement %.5f, NMSE vs reference %.3g\n", c.name, agreement, error);
  if (c.quantize) {
    // The packed tensor decodes to the reported values; pruned weights hold the zero-point code.
    ASSERT_TRUE(got->quantized.has_value());
    std::vector<float> decoded(w.size());
    dequantize_rows(*got->quantized, 0, c.rows, decoded.data());
    EXPECT_EQ(decoded, got->pruned.values);
    const int64_t group = c.quantize->effective_group(c.cols), groups = c.quantize->groups_per_row(c.cols);
    for (int64_t r = 0; r < c.rows; ++r)
      for (int64_t k = 0; k < c.cols; ++k) {
        if (got->pruned.mask[static_cast<size_t>(r * c.cols + k)] != 0) continue;
        const int code = read_code(got->quantized->data.data, c.quantize->bits, static_cast<uint64_t>(r * c.cols + k));
        const int zero = c.quantize->symmetric ? static_cast<int>(c.quantize->implicit_zero())
                                               : read_code(got->quantized->zeros.data, c.quantize->bits, static_cast<uint64_t>(r * groups + k / group));
        ASSERT_EQ(code, zero);
      }
  } else {
    EXPECT_FALSE(got->quantized.has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SparseGptReference,
    ::testing::Values(reference_case{"s50_37x53_block8", 37, 53, sparsity_pattern::unstructured(0.5), std::nullopt, 8},
                      reference_case{"s50_172x64", 172, 64, sparsity_pattern::unstructured(0.5), std::nullopt, 128},
                      reference_case{"s30_64x172_block40", 64, 172, sparsity_pattern::unstructured(0.3), std::nullopt, 40},
                      reference_case{"s2of4_37x53_tail_block12", 37, 53, sparsity_pattern::n_of_m(2, 4), std::nullopt, 12},
                      reference_case{"s4of8_64x172_tail_block20", 64, 172, sparsity_pattern::n_of_m(4, 8), std::nullopt, 20},
                      reference_case{"s1of3_41x100", 41, 100, sparsity_pattern::n_of_m(1, 3), std::nullopt, 128},
                      reference_case{"s50_w4g16_37x53_block16", 37, 53, sparsity_pattern::unstructured(0.5), enc_of(4, 16, true), 16},
                      reference_case{"s2of4_w4g32_64x172", 64, 172, sparsity_pattern::n_of_m(2, 4), enc_of(4, 32, true), 128},
                      reference_case{"s2of4_w4g32_asym_64x172", 64, 172, sparsity_pattern::n_of_m(2, 4), enc_of(4, 32, false), 128},
                      reference_case{"s50_w3g32_asym_41x100_block24", 41, 100, sparsity_pattern::unstructured(0.5), enc_of(3, 32, false), 24},
                      reference_case{"s4of8_w8_per_channel_37x53", 37, 53, sparsity_pattern::n_of_m(4, 8), enc_of(8, 0, true), 16},
                      reference_case{"s50_per_tensor_37x53_block8", 37, 53, sparsity_pattern::unstructured(0.5), std::nullopt, 8, mask_scope::per_tensor},
                      reference_case{"s30_per_tensor_64x172_block40", 64, 172, sparsity_pattern::unstructured(0.3), std::nullopt, 40, mask_scope::per_tensor},
                      reference_case{"s50_per_tensor_172x64", 172, 64, sparsity_pattern::unstructured(0.5), std::nullopt, 128, mask_scope::per_tensor},
                      reference_case{"s50_w3g32_asym_per_tensor_41x100_block24", 41, 100, sparsity_pattern::unstructured(0.5), enc_of(3, 32, false), 24,
                                     mask_scope::per_tensor},
                      // N:M ignores the scope.
                      reference_case{"s2of4_per_tensor_37x53_block12", 37, 53, sparsity_pattern::n_of_m(2, 4), std::nullopt, 12, mask_scope::per_tensor}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SparseGpt, DiagonalHessianGivesWandaMaskAndNoUpdate) {
  // H diagonal, no damping, one block: score w^2 H_cc = (|w| sqrt(H_cc))^2, no error propagation.
  const int64_t rows = 19, cols = 45;
  const auto w = random_weight(rows, cols, 3);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0), norms(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) {
    h[static_cast<size_t>(i * cols + i)] = 1.0 + 0.37 * static_cast<double>(i % 7);
    norms[static_cast<size_t>(i)] = std::sqrt(h[static_cast<size_t>(i * cols + i)]);
  }
  for (const sparsity_pattern& p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::n_of_m(2, 4)})
    for (const mask_scope scope : {mask_scope::per_row, mask_scope::per_tensor}) {
      auto s = sparsegpt_prune(w, rows, cols, h, sparsegpt_options{.pattern = p, .scope = scope, .damp = 0.0, .block_size = 64});
      auto wa = prune_wanda(w, rows, cols, norms, wanda_options{.pattern = p, .scope = scope});
      ASSERT_TRUE(s.ok() && wa.ok());
      EXPECT_EQ(s->pruned.mask, wa->mask) << sparsity_pattern_name(p);
      EXPECT_EQ(s->pruned.values, wa->values) << sparsity_pattern_name(p);
    }
}

TEST(SparseGpt, ZeroSparsityWithQuantizationIsGptq) {
  const int64_t rows = 40, cols = 53;
  const auto w = random_weight(rows, cols, 4);
  const auto h = hessian_of(correlated_rows(300, cols, 9), cols);
  for (const quant_encoding enc : {enc_of(4, 16, true), enc_of(3, 32, false)}) {
    auto s = sparsegpt_prune(w, rows, cols, h, sparsegpt_options{.pattern = sparsity_pattern::unstructured(0.0), .quantize = enc, .block_size = 24});
    auto g = gptq_quantize(w, rows, cols, h, gptq_options{.encoding = enc, .block_size = 24});
    ASSERT_TRUE(s.ok() && g.ok());
    EXPECT_EQ(s->pruned.pruned, 0);
    for (auto view : {&tensor::data, &tensor::scales, &tensor::zeros}) {
      const byte_view& a = (*s->quantized).*view;
      const byte_view& b = g->weight.*view;
      ASSERT_EQ(a.size, b.size);
      if (a.size > 0) {  // an absent part (symmetric zeros) has no pointer
        EXPECT_EQ(std::memcmp(a.data, b.data, a.size), 0);
      }
    }
    EXPECT_EQ(s->stats.row_error, g->stats.row_error);
  }
  auto plain = sparsegpt_prune(w, rows, cols, h, sparsegpt_options{.pattern = sparsity_pattern::unstructured(0.0)});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->pruned.values, w);
}

TEST(SparseGpt, BeatsWandaAndMagnitudeOnCorrelatedInputs) {
  const int64_t rows = 48, cols = 96;
  const auto w = random_weight(rows, cols, 5);
  const auto calib = correlated_rows(1024, cols, 21), held = correlated_rows(256, cols, 22);
  const auto h = hessian_of(calib, cols);
  auto norms = activation_norms_from_hessian(h, cols, 1024);
  ASSERT_TRUE(norms.ok());
  for (const sparsity_pattern& p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::n_of_m(2, 4), sparsity_pattern::n_of_m(4, 8)}) {
    auto s = sparsegpt_prune(w, rows, cols, h, sparsegpt_options{.pattern = p});
    auto wa = prune_wanda(w, rows, cols, *norms, wanda_options{.pattern = p});
    auto mg = prune_magnitude(w, rows, cols, magnitude_options{.pattern = p});
    ASSERT_TRUE(s.ok() && wa.ok() && mg.ok());
    const double es = output_error(held, w, s->pruned.values, rows, cols), ew = output_error(held, w, wa->values, rows, cols),
                 em = output_error(held, w, mg->values, rows, cols);
    EXPECT_LT(es, ew) << sparsity_pattern_name(p);
    EXPECT_LT(ew, em) << sparsity_pattern_name(p);
    std::printf("[%s] held-out output error SparseGPT %.4f Wanda %.4f magnitude %.4f\n", sparsity_pattern_name(p).c_str(), es, ew, em);
  }
}

TEST(SparseGpt, ByteIdenticalAtOneAndTwoThreadsAndAnyRowTile) {
  const int64_t rows = 70, cols = 53;
  const auto w = random_weight(rows, cols, 12);
  const auto h = hessian_of(correlated_rows(300, cols, 13), cols);
  for (const sparsity_pattern& p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::n_of_m(2, 4)})
    for (const mask_scope scope : {mask_scope::per_row, mask_scope::per_tensor}) {
      sparsegpt_options options{.pattern = p, .scope = scope, .quantize = enc_of(4, 16, false), .block_size = 16, .row_tile = 8};
      options.threads = 1;
      auto one = sparsegpt_prune(w, rows, cols, h, options);
      options.threads = 2;
      options.row_tile = 5;  // tiles of another size (the last one short): rows depend only on themselves and the mask
      auto two = sparsegpt_prune(w, rows, cols, h, options);
      ASSERT_TRUE(one.ok() && two.ok());
      EXPECT_EQ(one->pruned.mask, two->pruned.mask);
      EXPECT_EQ(one->pruned.values, two->pruned.values);
      EXPECT_EQ(one->stats.row_error, two->stats.row_error);
      for (auto view : {&tensor::data, &tensor::scales, &tensor::zeros}) {
        const byte_view& a = (*one->quantized).*view;
        const byte_view& b = (*two->quantized).*view;
        ASSERT_EQ(a.size, b.size);
        if (a.size > 0) {  // an absent part (symmetric zeros) has no pointer
          EXPECT_EQ(std::memcmp(a.data, b.data, a.size), 0);
        }
      }
    }
}

TEST(SparseGpt, SingularHessianEscalatesAndDeadColumnsArePruned) {
  const int64_t rows = 20, cols = 40;
  const auto w = random_weight(rows, cols, 9);
  auto x = correlated_rows(3, cols, 4);  // rank 3: singular
  for (int64_t r = 0; r < 3; ++r) x[static_cast<size_t>(r * cols + 5)] = 0;  // a dead column
  const auto h = hessian_of(x, cols);
  auto s = sparsegpt_prune(w, rows, cols, h, sparsegpt_options{.pattern = sparsity_pattern::n_of_m(2, 4), .damp = 0.0});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_GE(s->stats.damp_escalations, 1);
  EXPECT_FALSE(s->stats.warnings.empty());
  EXPECT_EQ(s->stats.dead_columns, 1);
  for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(s->pruned.mask[static_cast<size_t>(r * cols + 5)], 0);
  for (const float v : s->pruned.values) ASSERT_TRUE(std::isfinite(v));
  EXPECT_TRUE(check_sparsity_mask(s->pruned.mask, rows, cols, sparsity_pattern::n_of_m(2, 4), mask_scope::per_row).ok());
}

TEST(SparseGpt, BadOptions) {
  const int64_t rows = 4, cols = 8;
  const auto w = random_weight(rows, cols, 1);
  std::vector<double> h(static_cast<size_t>(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = 1.0;
  struct bad {
    sparsegpt_options options;
    const char* expected;
  };
  const bad cases[] = {
      {sparsegpt_options{.pattern = sparsity_pattern::unstructured(1.0)}, "outside [0, 1)"},
      {sparsegpt_options{.pattern = sparsity_pattern::n_of_m(3, 2)}, "0 < N < M"},
      {sparsegpt_options{.pattern = sparsity_pattern::n_of_m(1, 0)}, "M > 0"},
      {sparsegpt_options{.block_size = 0}, "block size"},
      {sparsegpt_options{.row_tile = 0}, "row tile"},
      {sparsegpt_options{.damp = -1.0}, "damping"},
      {sparsegpt_options{.quantize = enc_of(9, 32, true)}, "2..8 bits"},
  };
  for (const bad& b : cases) {
    auto s = sparsegpt_prune(w, rows, cols, h, b.options);
    ASSERT_FALSE(s.ok()) << b.expected;
    EXPECT_EQ(s.status().code(), error_code::bad_usage);
    EXPECT_NE(s.status().message().find(b.expected), std::string::npos) << s.status().message();
  }
  EXPECT_EQ(sparsegpt_prune(w, rows, cols, std::vector<double>(10, 1.0), sparsegpt_options{}).status().code(), error_code::bad_usage);
  auto negative = h;
  negative[0] = -1;
  EXPECT_EQ(sparsegpt_prune(w, rows, cols, negative, sparsegpt_options{}).status().code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack

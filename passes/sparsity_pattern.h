// What a pruned weight W [rows = out, cols = in] must look like (docs/pruning.md).
//
// * unstructured: a fraction s in [0, 1) of the weights is zero. The count is always
//   pruned_count(s, n) = floor(s * n + 1/2) over the n weights the pattern is applied to (a row, a
//   tensor, or several tensors, depending on the method's scope).
// * N:M (0 < N < M): along the input dimension, every group of M consecutive columns (groups start
//   at column 0 and never span rows) keeps at most N non-zeros, i.e. prunes at least M - N.
//   Tail rule: when M does not divide cols, the last group of each row has t = cols % M columns and
//   keeps at most floor(N * t / M). The row's density then never exceeds N/M, and the tail padded
//   with M - t zeros is a valid N:M group, so a packed N:M kernel can treat it as a full group.
//   Methods prune exactly M - N per full group and t - floor(N * t / M) in the tail.
//
// Scheme grammar (DESIGN.md §3): `s<pct>` with pct a percentage in [1, 100) or 0 (decimals allowed:
// s50, s62.5), or `s<N>:<M>`; joined with '+' to one weight term: `s2:4+w4g32`, `s50+w4g32_asym`.
// `s0.5` is refused rather than read as 0.5 %, since it almost always means 50 %.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/encoding.h"
#include "core/status.h"

namespace edgepack {

enum class sparsity_kind : uint8_t { unstructured, n_of_m };

struct sparsity_pattern {
  sparsity_kind kind = sparsity_kind::unstructured;
  double fraction = 0.5;  // unstructured: fraction of zeros, in [0, 1)
  int64_t n = 2;          // N:M: at most n non-zeros ...
  int64_t m = 4;          // ... in every group of m consecutive input columns

  static sparsity_pattern unstructured(double fraction) { return {.kind = sparsity_kind::unstructured, .fraction = fraction}; }
  static sparsity_pattern n_of_m(int64_t n, int64_t m) { return {.kind = sparsity_kind::n_of_m, .fraction = 0, .n = n, .m = m}; }
};

// ok when the pattern is well formed, else bad_usage saying what is wrong (fraction outside [0, 1), N >= M, ...).
Status validate_sparsity_pattern(const sparsity_pattern& pattern);

// "s50", "s2:4", "s62.5": the canonical scheme term.
std::string sparsity_pattern_name(const sparsity_pattern& pattern);

// floor(fraction * count + 1/2): how many of `count` weights an unstructured pattern prunes.
int64_t pruned_count(double fraction, int64_t count);

// N:M: non-zeros allowed in the group of `width` columns (M, or the tail's cols % M).
int64_t kept_in_group(const sparsity_pattern& pattern, int64_t width);

// Weights one row of `cols` columns prunes: pruned_count for unstructured (per-row scope), the
// sum over groups of width - kept_in_group for N:M.
int64_t pruned_per_row(const sparsity_pattern& pattern, int64_t cols);

// A sparsity term alone ("s50", "s2:4"). Errors are bad_usage and quote the text.
Expected<sparsity_pattern> parse_sparsity_term(const std::string& text);

// A full compression scheme: at most one sparsity term and at most one weight term, joined by '+',
// in any order ("s2:4+w4g32", "w4g32+s50", "s50", "w4g32").
struct compression_scheme {
  std::optional<sparsity_pattern> sparsity;
  std::optional<quant_encoding> weights;
};
Expected<compression_scheme> parse_compression_scheme(const std::string& text);

// Which set of weights an unstructured count applies to when checking a mask.
enum class mask_scope : uint8_t { per_row, per_tensor };

// Checks a keep-mask (1 = kept, 0 = pruned), row-major [rows, cols]:
// N:M: every full group keeps <= N, the tail <= floor(N * t / M);
// unstructured: exactly pruned_count zeros per row (per_row) or over the tensor (per_tensor).
// bad_input naming the first offending row/group and the counts.
Status check_sparsity_mask(std::span<const uint8_t> mask, int64_t rows, int64_t cols, const sparsity_pattern& pattern, mask_scope scope);

}  // namespace edgepack

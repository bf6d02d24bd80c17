#include "passes/sparsity_pattern.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "passes/scheme.h"

namespace edgepack {

namespace {

const char* const grammar = " (grammar: s<pct> with pct in [1, 100) or 0, e.g. s50, s62.5; or s<N>:<M> with 0 < N < M, e.g. s2:4, s4:8)";

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Status validate_sparsity_pattern(const sparsity_pattern& pattern) {
  if (pattern.kind == sparsity_kind::unstructured) {
    if (!(pattern.fraction >= 0.0 && pattern.fraction < 1.0))
      return bad_usage("sparsity " + std::to_string(pattern.fraction) + " is outside [0, 1)");
    return {};
  }
  if (pattern.m <= 0) return bad_usage("N:M sparsity needs M > 0 (got " + std::to_string(pattern.n) + ":" + std::to_string(pattern.m) + ")");
  if (pattern.m > 256) return bad_usage("N:M sparsity supports M up to 256 (got M = " + std::to_string(pattern.m) + ")");
  if (pattern.n <= 0 || pattern.n >= pattern.m)
    return bad_usage("N:M sparsity needs 0 < N < M (got " + std::to_string(pattern.n) + ":" + std::to_string(pattern.m) + ")");
  return {};
}

std::string sparsity_pattern_name(const sparsity_pattern& pattern) {
  if (pattern.kind == sparsity_kind::n_of_m) return "s" + std::to_string(pattern.n) + ":" + std::to_string(pattern.m);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "s%g", pattern.fraction * 100.0);
  return buffer;
}

int64_t pruned_count(double fraction, int64_t count) { return static_cast<int64_t>(std::floor(fraction * static_cast<double>(count) + 0.5)); }

int64_t kept_in_group(const sparsity_pattern& pattern, int64_t width) { return width >= pattern.m ? pattern.n : pattern.n * width / pattern.m; }

int64_t pruned_per_row(const sparsity_pattern& pattern, int64_t cols) {
  if (pattern.kind == sparsity_kind::unstructured) return pruned_count(pattern.fraction, cols);
  const int64_t full = cols / pattern.m, tail = cols % pattern.m;
  return full * (pattern.m - pattern.n) + (tail - kept_in_group(pattern, tail));
}

Expected<sparsity_pattern> parse_sparsity_term(const std::string& text) {
  const std::string quoted = "sparsity term '" + text + "'";
  if (text.size() < 2 || text[0] != 's') return bad_usage(quoted + " is not a sparsity term" + grammar);
  const std::string body = text.substr(1);
  const size_t colon = body.find(':');
  if (colon != std::string::npos) {
    const std::string ns = body.substr(0, colon), ms = body.substr(colon + 1);
    if (!all_digits(ns) || !all_digits(ms) || ns.size() > 6 || ms.size() > 6) return bad_usage(quoted + ": expected two integers N:M" + grammar);
    const sparsity_pattern p = sparsity_pattern::n_of_m(std::stoll(ns), std::stoll(ms));
    if (Status s = validate_sparsity_pattern(p); !s.ok()) return bad_usage(quoted + ": " + s.message() + grammar);
    return p;
  }
  // A percentage: digits, optionally '.' and more digits (no sign, exponent or spaces).
  const size_t dot = body.find('.');
  const std::string whole = body.substr(0, dot);
  const std::string frac = dot == std::string::npos ? std::string("0") : body.substr(dot + 1);
  if (!all_digits(whole) || !all_digits(frac) || whole.size() > 6 || frac.size() > 6)
    return bad_usage(quoted + ": expected a percentage or N:M" + grammar);
  double pct = 0;
  const auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), pct);
  if (ec != std::errc() || ptr != body.data() + body.size()) return bad_usage(quoted + ": expected a percentage" + grammar);
  if (pct >= 100.0) return bad_usage(quoted + ": sparsity must be below 100 %" + grammar);
  if (pct > 0.0 && pct < 1.0)
    return bad_usage(quoted + ": the number is a percentage (s50 = half the weights); values between 0 and 1 are refused as ambiguous" + grammar);
  return sparsity_pattern::unstructured(pct / 100.0);
}

Expected<compression_scheme> parse_compression_scheme(const std::string& text) {
  compression_scheme scheme;
  if (text.empty()) return bad_usage("empty scheme (expected e.g. s50, s2:4, w4g32 or s2:4+w4g32)");
  size_t start = 0;
  while (true) {
    const size_t plus = text.find('+', start);
    const std::string term = text.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    if (term.empty()) return bad_usage("scheme '" + text + "': empty term around '+'");
    if (term[0] == 's') {
      if (scheme.sparsity) return bad_usage("scheme '" + text + "': more than one sparsity term");
      auto p = parse_sparsity_term(term);
      if (!p.ok()) return p.status().with_context("scheme '" + text + "'");
      scheme.sparsity = *p;
    } else if (term[0] == 'w') {
      if (scheme.weights) return bad_usage("scheme '" + text + "': more than one weight term");
      auto w = parse_weight_scheme(term);
      if (!w.ok()) return w.status().with_context("scheme '" + text + "'");
      scheme.weights = *w;
    } else {
      return bad_usage("scheme '" + text + "': term '" + term + "' is neither a sparsity term (s50, s2:4) nor a weight term (w4g32)");
    }
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return scheme;
}

Status check_sparsity_mask(std::span<const uint8_t> mask, int64_t rows, int64_t cols, const sparsity_pattern& pattern, mask_scope scope) {
  EP_RETURN_IF_ERROR(validate_sparsity_pattern(pattern));
  if (rows < 0 || cols < 0 || static_cast<int64_t>(mask.size()) != rows * cols) return bad_input("mask size does not match rows x cols");
  if (pattern.kind == sparsity_kind::n_of_m) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < cols; g += pattern.m) {
        const int64_t width = std::min(pattern.m, cols - g);
        int64_t kept = 0;
        for (int64_t c = g; c < g + width; ++c) kept += mask[static_cast<size_t>(r * cols + c)] != 0;
        if (kept > kept_in_group(pattern, width))
          return bad_input("row " + std::to_string(r) + ", columns " + std::to_string(g) + ".." + std::to_string(g + width - 1) + " keep " +
                           std::to_string(kept) + " weights; " + sparsity_pattern_name(pattern) + " allows " +
                           std::to_string(kept_in_group(pattern, width)));
      }
    return {};
  }
  int64_t total_zeros = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t zeros = 0;
    for (int64_t c = 0; c < cols; ++c) zeros += mask[static_cast<size_t>(r * cols + c)] == 0;
    if (scope == mask_scope::per_row && zeros != pruned_count(pattern.fraction, cols))
      return bad_input("row " + std::to_string(r) + " prunes " + std::to_string(zeros) + " of " + std::to_string(cols) + " weights; " +
                       sparsity_pattern_name(pattern) + " per row means exactly " + std::to_string(pruned_count(pattern.fraction, cols)));
    total_zeros += zeros;
  }
  if (scope == mask_scope::per_tensor && total_zeros != pruned_count(pattern.fraction, rows * cols))
    return bad_input("mask prunes " + std::to_string(total_zeros) + " of " + std::to_string(rows * cols) + " weights; " +
                     sparsity_pattern_name(pattern) + " means exactly " + std::to_string(pruned_count(pattern.fraction, rows * cols)));
  return {};
}

}  // namespace edgepack

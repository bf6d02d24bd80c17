// Inner loops of round-to-nearest quantization over one group, with an AVX2 path chosen at run
// time. Both paths compute in 8 float lanes in the same order (element i goes to lane i % 8, lanes
// are reduced in a fixed tree, no FMA), so results are bit-identical on every x86-64 machine.
// Inputs are zero-padded to a multiple of 8: padding rounds to code 0 and adds nothing.
#pragma once
#include <cstdint>

namespace edgepack {

struct candidate_sums {
  float xl = 0;  // sum x * l
  float ll = 0;  // sum l * l
};

// l = clamp(round_half_even(x * inv), lo, hi) for each element; returns the sums above.
candidate_sums rtn_candidate_sums(const float* x, int64_t padded_count, float inv, float lo, float hi);

// The symmetric scale search of passes/rtn_quantizer.h over one group: candidates
// inv_k = (-2^(bits-1) - 0.1 k) / extreme for k = -steps..steps; for each, the least-squares scale
// s = sum(x l) / sum(l l) of its rounded codes; returns the s with the largest sum(x l)^2 / sum(l l)
// (the smallest squared error), compared by cross-multiplication (no division per candidate).
// Returns 0 when no candidate has non-zero codes.
float rtn_best_symmetric_scale(const float* x, int64_t padded_count, float extreme, int bits, int steps);

// codes[i] = clamp(round(x * inv) + zero, 0, levels - 1); returns sum (x - scale * (code - zero))^2.
float rtn_quantize_group(const float* x, int64_t padded_count, float inv, float scale, int zero, int levels, uint8_t* codes);

}  // namespace edgepack

namespace edgepack {

struct group_range {
  float min = 0;     // min(0, x)
  float max = 0;     // max(0, x)
  float sum_sq = 0;  // sum x^2
  bool finite = true;
  // The element of largest magnitude with its sign; the negative one wins a tie.
  float extreme() const { return -min >= max ? min : max; }
};

group_range rtn_group_range(const float* x, int64_t padded_count);

}  // namespace edgepack

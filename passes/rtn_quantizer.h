// Round-to-nearest quantization of one row of a weight matrix into a quant_encoding.
//
// Symmetric: codes q in [0, 2^b), value = s * (q - 2^(b-1)). The base scale maps the element of
// largest magnitude exactly onto the most negative level (s = x_maxabs / -2^(b-1), sign kept, as
// llama.cpp's Q4_0 does), which uses all 2^b levels. With scale search (default), a few scales
// around that one are tried (divisors 2^(b-1) +- 0.1 k); for each, codes are rounded to nearest,
// the least-squares scale for those codes is s* = sum(x l) / sum(l l) and its error is
// sum(x^2) - sum(x l)^2 / sum(l l); the candidate with the smallest error wins.
// Asymmetric: s = (max - min) / (2^b - 1), zero point z = round(-min / s), value = s * (q - z).
// Scales are stored as f16; codes are always re-rounded against the stored f16 scale.
#pragma once
#include <cstdint>

#include "core/encoding.h"

namespace edgepack {

struct rtn_row_options {
  // Candidate scales tried on each side of the base scale (0 = plain absmax scale).
  int scale_search_steps = 4;
};

struct rtn_row_result {
  double squared_error = 0;  // sum over the row of (x - decoded)^2
  double squared_norm = 0;   // sum of x^2
  bool finite = true;        // false when the row holds NaN or Inf (nothing meaningful was written)
};

// codes: cols entries; scales: groups entries (f16 bits); zeros: groups entries (unused when symmetric).
rtn_row_result quantize_row_rtn(const float* row, int64_t cols, const quant_encoding& enc, const rtn_row_options& options, uint8_t* codes,
                                uint16_t* scales, uint8_t* zeros);

}  // namespace edgepack

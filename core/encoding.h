// How a weight is stored: dense (its dtype) or quantized with per-group scales.
//
// Quantized layout (normative text in docs/format.md): the tensor is viewed as a matrix
// [rows, cols] whose columns are the reduction dims of the op that reads the weight (see
// quant_matrix_view). Each row is split into groups of `group_size` consecutive columns;
// the last group of a row is shorter when group_size does not divide cols (tail-group rule).
// group_size == 0 means one group per row (per output channel).
// Codes q are unsigned `bits`-wide integers; value = scale * (q - zero_point).
// Symmetric encodings have the implicit zero point 2^(bits-1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace edgepack {

enum class encoding_kind : uint8_t { dense, quantized };

struct quant_encoding {
  int bits = 4;             // 2..8
  int64_t group_size = 32;  // 0: one group spanning the whole row
  bool symmetric = true;
  // Matrix view. cols = product of dims [col_axis, rank), rows = product of the dims before;
  // -1 means the last dim alone (a linear weight [out, in], LSTM [dirs, 4H, in]). Conv weights
  // [O, I/g, kh, kw] use col_axis 1, so groups span input channels x kernel taps.
  int64_t col_axis = -1;
  // 2-D only: rows = dim 1, cols = dim 0, and codes/scales are stored in [rows, cols] order (the
  // transpose of the tensor). For MatMul B [K, N], whose reduction dim K comes first.
  bool transposed = false;

  int64_t groups_per_row(int64_t cols) const {
    if (group_size <= 0 || group_size >= cols) return 1;
    return (cols + group_size - 1) / group_size;
  }
  int64_t effective_group(int64_t cols) const { return group_size <= 0 || group_size > cols ? cols : group_size; }
  int64_t implicit_zero() const { return int64_t{1} << (bits - 1); }
  dtype code_dtype() const;
  bool operator==(const quant_encoding&) const = default;
};

struct quant_matrix_view {
  int64_t rows = 0;
  int64_t cols = 0;
};

// The [rows, cols] view of a tensor of `shape` under `enc`. The caller validated the layout
// (valid_quant_layout) and that the element count does not overflow.
quant_matrix_view quant_view_of(const std::vector<int64_t>& shape, const quant_encoding& enc);
// Empty when col_axis/transposed fit a tensor of this rank, else what is wrong.
std::string quant_layout_problem(size_t rank, const quant_encoding& enc);

// Canonical scheme-like name: "w4g32", "w8", "w3g128_asym".
std::string quant_encoding_name(const quant_encoding& enc);

}  // namespace edgepack

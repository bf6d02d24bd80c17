// How a weight is stored: dense (its dtype) or quantized with per-group scales.
//
// Quantized layout (normative text in docs/format.md): the tensor is viewed as a matrix
// [rows, cols] where cols is the last dimension (the input / reduction dimension of a linear
// weight stored as [out, in]). Each row is split into groups of `group_size` consecutive columns;
// the last group of a row is shorter when group_size does not divide cols (tail-group rule).
// group_size == 0 means one group per row (per output channel).
// Codes q are unsigned `bits`-wide integers; value = scale * (q - zero_point).
// Symmetric encodings have the implicit zero point 2^(bits-1).
#pragma once
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace edgepack {

enum class encoding_kind : uint8_t { dense, quantized };

struct quant_encoding {
  int bits = 4;             // 2..8
  int64_t group_size = 32;  // 0: one group spanning the whole row
  bool symmetric = true;

  int64_t groups_per_row(int64_t cols) const {
    if (group_size <= 0 || group_size >= cols) return 1;
    return (cols + group_size - 1) / group_size;
  }
  int64_t effective_group(int64_t cols) const { return group_size <= 0 || group_size > cols ? cols : group_size; }
  int64_t implicit_zero() const { return int64_t{1} << (bits - 1); }
  dtype code_dtype() const;
  bool operator==(const quant_encoding&) const = default;
};

// Canonical scheme-like name: "w4g32", "w8", "w3g128_asym".
std::string quant_encoding_name(const quant_encoding& enc);

}  // namespace edgepack

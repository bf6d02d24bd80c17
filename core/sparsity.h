// How a sparse weight is stored (normative text: docs/format.md §5.1). A sparsity layout combines
// with either value encoding (dense float or quantized) and works on the same [rows, cols] matrix
// view (quant_view_of): only the kept values are stored, in row-major view order, followed by
// metadata that says where they go.
//
// * n_of_m {n, m}: each row splits into groups of m columns (the last, shorter group of t = cols % m
//   columns is the tail). Every full group stores exactly n values, the tail floor(n * t / m); a
//   group with fewer non-zeros is padded with explicit zeros. Blob `indices`: for every stored
//   value its column within its group, ceil(log2 m) bits each, one LSB-first bitstream over the
//   tensor (like codes). Within a group indices are strictly increasing and < the group's width.
// * bitmask {nnz}: blob `mask`, 1 bit per view element, row-major, LSB first (rows not padded),
//   1 = stored; blob `row_offsets`: rows + 1 little-endian uint32, the index of each row's first
//   stored value (CSR row pointer; [0] = 0, [rows] = nnz), so any row decodes without reading the
//   rows before it. `nnz` (stored values) is in the tensor table so blob sizes follow from it.
//
// Quantized + sparse: `data` holds the codes of the stored values only; scales and zero points are
// unchanged, one per group of the ORIGINAL columns (group of stored value (r, c) = c / group_size).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace edgepack {

struct tensor;

enum class sparsity_layout : uint8_t { none, n_of_m, bitmask };

struct sparse_encoding {
  sparsity_layout layout = sparsity_layout::none;
  int n = 0;         // n_of_m: values stored per full group
  int m = 0;         // n_of_m: group width, 2..256
  uint64_t nnz = 0;  // bitmask: number of stored values

  bool is_sparse() const { return layout != sparsity_layout::none; }
  // n_of_m: ceil(log2 m) bits per index.
  int index_bits() const;
  // n_of_m: values stored in a group of `width` columns (n for a full group, floor(n*width/m) for the tail).
  int64_t kept_in_group(int64_t width) const { return width == m ? n : n * width / m; }
  // n_of_m: values stored per row of `cols` columns.
  int64_t kept_per_row(int64_t cols) const;
  bool operator==(const sparse_encoding&) const = default;
};

// "2:4", "bitmask", "dense".
std::string sparse_encoding_name(const sparse_encoding& s);

// Empty when the parameters are valid (1 <= n < m <= 256), else the problem.
std::string sparse_encoding_problem(const sparse_encoding& s);

// Number of values stored by a sparse tensor (n_of_m: rows * kept_per_row; bitmask: nnz).
uint64_t sparse_stored_values(const tensor& t);

// Generic LSB-first bitstream of `width`-bit fields (1..8), field i at bits [i*width, i*width+width).
uint32_t read_bit_field(const std::byte* packed, int width, uint64_t index);
void write_bit_field(std::byte* packed, int width, uint64_t index, uint32_t value);  // target bits must be zero

// Checks the blob contents of a sparse tensor whose blob sizes are already right: n_of_m indices in
// range and strictly increasing per group; bitmask padding bits zero and row_offsets consistent with
// the mask. bad_input without a tensor prefix (callers add it).
Status check_sparse_blobs(const tensor& t);

// Decodes view rows [row_begin, row_end) of a sparse tensor into `out` (row-major view order),
// bit-identical to decoding the equivalent dense tensor.
void decode_sparse_rows(const tensor& t, int64_t row_begin, int64_t row_end, float* out);

// The same tensor with sparsity none: values scattered back to every position (float zeros, or the
// group's zero-point code for quantized tensors). The result owns its storage.
tensor unpack_sparse_tensor(const tensor& t);

}  // namespace edgepack

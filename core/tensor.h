// A tensor: element type, shape, encoding and views of the bytes that hold it.
// Views share ownership of their storage (heap or mmapped file), so copying a tensor is cheap
// and never copies data.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/encoding.h"
#include "core/sparsity.h"
#include "core/status.h"
#include "core/storage.h"

namespace edgepack {

struct byte_view {
  std::shared_ptr<const storage> owner;
  const std::byte* data = nullptr;
  size_t size = 0;
  bool empty() const { return size == 0; }
};

// Product of dims with overflow and negativity checks; nullopt when invalid.
std::optional<uint64_t> checked_element_count(std::span<const int64_t> shape);
std::string shape_to_string(std::span<const int64_t> shape);

struct tensor {
  dtype type = dtype::f32;  // dense: element type; quantized: type the codes decode to (f32)
  std::vector<int64_t> shape;
  encoding_kind kind = encoding_kind::dense;
  quant_encoding quant;  // meaningful when kind == quantized
  byte_view data;        // dense elements (row-major, little-endian) or packed codes
  byte_view scales;      // quantized: f16 scales, [rows, groups]
  byte_view zeros;       // quantized asymmetric: packed zero-point codes, [rows, groups]
  // Sparse storage (core/sparsity.h): data then holds only the stored values (or their codes), and
  // the matrix view (quant.col_axis / quant.transposed) applies to dense float tensors too.
  sparse_encoding sparsity;
  byte_view indices;      // n_of_m: per stored value its column within its group
  byte_view mask;         // bitmask: 1 bit per view element
  byte_view row_offsets;  // bitmask: rows + 1 uint32 (first stored value of each row)

  int64_t numel() const;
  // Rows/cols of the matrix view used by quantized encodings (quant_view_of; a dense tensor's
  // default quant gives cols = last dim).
  int64_t cols() const { return quant_view_of(shape, quant).cols; }
  int64_t rows() const { return quant_view_of(shape, quant).rows; }
  bool is_quantized() const { return kind == encoding_kind::quantized; }
  bool is_sparse() const { return sparsity.is_sparse(); }
  // Quantized or sparse: data is not a plain row-major array of `type` elements.
  bool is_encoded() const { return is_quantized() || is_sparse(); }
  // Bytes the tensor occupies in a file (all blobs).
  uint64_t stored_bytes() const { return data.size + scales.size + zeros.size + indices.size + mask.size + row_offsets.size; }

  template <class T>
  const T* data_as() const { return reinterpret_cast<const T*>(data.data); }
  // Only valid for tensors made by allocate(): their storage is ours to write.
  template <class T>
  T* mutable_data_as() { return reinterpret_cast<T*>(const_cast<std::byte*>(data.data)); }

  // Fresh zero-filled dense tensor with owned storage.
  static tensor allocate(dtype type, std::vector<int64_t> shape);
  template <class T>
  static tensor from_values(dtype type, std::vector<int64_t> shape, std::span<const T> values) {
    tensor t = allocate(type, std::move(shape));
    std::copy(values.begin(), values.end(), t.mutable_data_as<T>());
    return t;
  }
};

// Byte view of owned memory holding `bytes`.
byte_view make_owned_view(std::vector<std::byte> bytes);

// Dense float copy of any float-typed dense tensor (f32/f16/bf16/f64) or quantized tensor.
Expected<std::vector<float>> to_float_vector(const tensor& t);

}  // namespace edgepack

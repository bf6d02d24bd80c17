// NumPy .npy arrays: calibration inputs for ONNX models and golden inputs/outputs.
//
// Reads format versions 1.0 and 2.0, little-endian (or byte-order-free) numeric and bool dtypes,
// C order only. The header is a Python dict literal; it is parsed by a small strict parser with
// caps on its length, nesting and numbers, never by anything that evaluates it. Every error is
// bad_input and names the file.
//
// Writes version 1.0 (2.0 only if the header would not fit), with the header padded so the data
// starts at a multiple of 64 bytes; the output is deterministic and written atomically.
#pragma once
#include <cstddef>
#include <span>
#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace edgepack {

// Largest header accepted (numpy itself writes a few hundred bytes at most).
inline constexpr uint64_t npy_max_header_bytes = uint64_t{1} << 20;

// Maps the file; the tensor views the mapping when the data is aligned for its element type
// and holds an aligned copy otherwise.
Expected<tensor> read_npy(const std::string& path);
// Copies the data out of `bytes`, so the result does not depend on their lifetime.
Expected<tensor> read_npy_from_memory(std::span<const std::byte> bytes, const std::string& display_name);
// Dense tensors of dtypes numpy knows: f32 '<f4', f16 '<f2', f64 '<f8', i8 '|i1', u8 '|u1',
// i16/u16/i32/u32/i64/u64 '<i2'... '<u8', bool '|b1'. bf16 and sub-byte types have no .npy form.
Status write_npy(const std::string& path, const tensor& t);

}  // namespace edgepack

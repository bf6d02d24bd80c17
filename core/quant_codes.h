// Bit packing of quantization codes and the reference decoder of quantized tensors.
// Packing rule (docs/format.md): codes of 2, 3 and 4 bits form one little-endian bitstream over the
// whole tensor in row-major order, code i occupying bits [i*b, i*b + b) (LSB first); codes of 5..8
// bits take one byte each. This decoder defines what a quantized encoding means.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace edgepack {

int packed_code_bits(int bits);  // 2,3,4 stay; 5..8 -> 8
uint64_t packed_code_bytes(int bits, uint64_t count);
void pack_codes(std::span<const uint8_t> codes, int bits, std::span<std::byte> out);
uint8_t read_code(const std::byte* packed, int bits, uint64_t index);

// A quantized f32 tensor of `shape` in encoding `enc` from unpacked codes (one per element, in
// the matrix view's row-major order), f16 scale bits and zero-point codes ([rows, groups] each;
// zeros ignored for symmetric encodings). Packs codes and zeros; owns its storage.
tensor make_quantized_tensor(std::vector<int64_t> shape, const quant_encoding& enc, std::span<const uint8_t> codes,
                             std::span<const uint16_t> scales, std::span<const uint8_t> zeros);

// Decodes rows [row_begin, row_end) of a quantized tensor into out (row-major floats).
void dequantize_rows(const tensor& t, int64_t row_begin, int64_t row_end, float* out);

}  // namespace edgepack

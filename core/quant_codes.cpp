#include "core/quant_codes.h"

#include <cassert>
#include <cstring>

namespace edgepack {

int packed_code_bits(int bits) { return bits <= 4 ? bits : 8; }

uint64_t packed_code_bytes(int bits, uint64_t count) {
  const uint64_t b = static_cast<uint64_t>(packed_code_bits(bits));
  return (count * b + 7) / 8;
}

void pack_codes(std::span<const uint8_t> codes, int bits, std::span<std::byte> out) {
  const int b = packed_code_bits(bits);
  assert(out.size() >= packed_code_bytes(bits, codes.size()));
  if (out.empty()) return;  // no codes (e.g. symmetric zeros, an empty tensor): out may be null
  std::memset(out.data(), 0, out.size());
  if (b == 8) {
    if (!codes.empty()) std::memcpy(out.data(), codes.data(), codes.size());
    return;
  }
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  if (b == 4) {  // two codes per byte, low nibble first
    const size_t pairs = codes.size() / 2;
    for (size_t i = 0; i < pairs; ++i) bytes[i] = static_cast<uint8_t>((codes[2 * i] & 15) | ((codes[2 * i + 1] & 15) << 4));
    if (codes.size() % 2) bytes[pairs] = static_cast<uint8_t>(codes.back() & 15);
    return;
  }
  uint64_t bit = 0;
  for (uint8_t code : codes) {
    const uint32_t value = code & ((1u << b) - 1);
    const uint64_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    bytes[byte] |= static_cast<uint8_t>(value << shift);
    if (shift + static_cast<unsigned>(b) > 8) bytes[byte + 1] |= static_cast<uint8_t>(value >> (8 - shift));
    bit += static_cast<uint64_t>(b);
  }
}

uint8_t read_code(const std::byte* packed, int bits, uint64_t index) {
  const int b = packed_code_bits(bits);
  const auto* bytes = reinterpret_cast<const uint8_t*>(packed);
  if (b == 8) return bytes[index];
  const uint64_t bit = index * static_cast<uint64_t>(b);
  const uint64_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  uint32_t value = bytes[byte] >> shift;
  if (shift + static_cast<unsigned>(b) > 8) value |= static_cast<uint32_t>(bytes[byte + 1]) << (8 - shift);
  return static_cast<uint8_t>(value & ((1u << b) - 1));
}

tensor make_quantized_tensor(std::vector<int64_t> shape, const quant_encoding& enc, std::span<const uint8_t> codes,
                             std::span<const uint16_t> scales, std::span<const uint8_t> zeros) {
  tensor t;
  t.type = dtype::f32;
  t.shape = std::move(shape);
  t.kind = encoding_kind::quantized;
  t.quant = enc;
  std::vector<std::byte> packed(packed_code_bytes(enc.bits, codes.size()));
  pack_codes(codes, enc.bits, packed);
  t.data = make_owned_view(std::move(packed));
  std::vector<std::byte> scale_bytes(scales.size() * sizeof(uint16_t));
  if (!scales.empty()) std::memcpy(scale_bytes.data(), scales.data(), scale_bytes.size());
  t.scales = make_owned_view(std::move(scale_bytes));
  if (!enc.symmetric) {
    std::vector<std::byte> packed_zeros(packed_code_bytes(enc.bits, zeros.size()));
    pack_codes(zeros, enc.bits, packed_zeros);
    t.zeros = make_owned_view(std::move(packed_zeros));
  }
  return t;
}

void dequantize_rows(const tensor& t, int64_t row_begin, int64_t row_end, float* out) {
  const int64_t cols = t.cols();
  const quant_encoding& q = t.quant;
  const int64_t groups = q.groups_per_row(cols);
  const int64_t group = q.effective_group(cols);
  const auto* scales = reinterpret_cast<const uint16_t*>(t.scales.data);
  for (int64_t r = row_begin; r < row_end; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const uint64_t group_index = static_cast<uint64_t>(r * groups + g);
      const float scale = f16_to_f32(scales[group_index]);
      const int zero = q.symmetric ? static_cast<int>(q.implicit_zero()) : read_code(t.zeros.data, q.bits, group_index);
      const int64_t begin = g * group;
      const int64_t end = std::min(cols, begin + group);
      for (int64_t c = begin; c < end; ++c) {
        const uint64_t index = static_cast<uint64_t>(r * cols + c);
        const int code = read_code(t.data.data, q.bits, index);
        out[(r - row_begin) * cols + c] = scale * static_cast<float>(code - zero);
      }
    }
  }
}

}  // namespace edgepack

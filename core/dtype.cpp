#include "core/dtype.h"

#include <Eigen/Core>
#include <cstring>
#include <vector>

namespace edgepack {

int dtype_bits(dtype t) {
  switch (t) {
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) \
  case dtype::name:                                        \
    return bits;
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
  }
  return 0;
}

std::string_view dtype_name(dtype t) {
  switch (t) {
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) \
  case dtype::name:                                        \
    return st_name;
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
  }
  return "?";
}

std::optional<dtype> dtype_from_name(std::string_view text) {
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) \
  if (text == st_name) return dtype::name;
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
  return std::nullopt;
}

int dtype_onnx_id(dtype t) {
  switch (t) {
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) \
  case dtype::name:                                        \
    return onnx_id;
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
  }
  return 0;
}

bool dtype_is_float(dtype t) {
  switch (t) {
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) \
  case dtype::name:                                        \
    return kind == 'f';
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
  }
  return false;
}

uint64_t dtype_bytes_for(dtype t, uint64_t count) {
  const uint64_t bits = static_cast<uint64_t>(dtype_bits(t));
  if (bits % 8 == 0) return count * (bits / 8);
  return (count * bits + 7) / 8;
}

// Eigen's half/bfloat16 types implement IEEE rounding; we only move bits through them.
// A 64K-entry table (256 KB, built once) makes scalar conversion a load instead of Eigen's
// bit-by-bit software path; the table itself is filled by Eigen's exact conversion.
float f16_to_f32(uint16_t bits) {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(static_cast<uint16_t>(i)));
    return t;
  }();
  return table[bits];
}
uint16_t f32_to_f16(float value) { return Eigen::numext::bit_cast<uint16_t>(Eigen::half(value)); }
float bf16_to_f32(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float out;
  std::memcpy(&out, &wide, sizeof out);
  return out;
}
uint16_t f32_to_bf16(float value) { return Eigen::numext::bit_cast<uint16_t>(Eigen::bfloat16(value)); }

}  // namespace edgepack

// Element types (closed set from dtype.def) and float16/bfloat16 conversion.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace edgepack {

enum class dtype : uint8_t {
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) name,
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
};

constexpr int dtype_count = 0
#define EDGEPACK_DTYPE(name, bits, st_name, onnx_id, kind) +1
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
    ;
static_assert(dtype_count == 16, "dtype.def changed: review readers/writers that switch on dtype");

int dtype_bits(dtype t);
// Name as used in safetensors headers ("F32") and in .epk metadata.
std::string_view dtype_name(dtype t);
std::optional<dtype> dtype_from_name(std::string_view name);
// ONNX TensorProto.DataType id, 0 when ONNX has no such type.
int dtype_onnx_id(dtype t);
bool dtype_is_float(dtype t);
// Bytes needed for `count` elements; sub-byte types are bit-packed and rounded up to whole bytes.
uint64_t dtype_bytes_for(dtype t, uint64_t count);

float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);  // round to nearest even
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);  // round to nearest even

}  // namespace edgepack

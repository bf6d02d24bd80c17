// Bulk float16 -> float32 conversion (exact), with an F16C path chosen at run time.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace edgepack {

void f16_to_f32_bulk(const uint16_t* in, float* out, size_t count);
void bf16_to_f32_bulk(const uint16_t* in, float* out, size_t count);

// Decodes `count` elements of a dense float type (f32, f16, bf16, f64) at `in` into f32.
// Returns false for any other type. The one decoder used by tensors and by passes reading rows.
bool decode_float_elements(dtype type, const std::byte* in, float* out, size_t count);

}  // namespace edgepack

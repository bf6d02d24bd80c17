// Bulk float16 -> float32 conversion (exact), with an F16C path chosen at run time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace edgepack {

void f16_to_f32_bulk(const uint16_t* in, float* out, size_t count);
void bf16_to_f32_bulk(const uint16_t* in, float* out, size_t count);

}  // namespace edgepack

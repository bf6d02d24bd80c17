#include "core/half_convert.h"

#include <cstring>

#include "core/cpu_features.h"
#include "core/dtype.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgepack {

namespace {

// Exact software conversion (every f16 value is representable in f32), table-free.
void f16_to_f32_portable(const uint16_t* in, float* out, size_t count) {
  for (size_t i = 0; i < count; ++i) out[i] = f16_to_f32(in[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx,f16c"))) void f16_to_f32_f16c(const uint16_t* in, float* out, size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  f16_to_f32_portable(in + i, out + i, count - i);
}
#endif

}  // namespace

void f16_to_f32_bulk(const uint16_t* in, float* out, size_t count) {
#if defined(__x86_64__)
  if (detected_cpu_features().f16c) return f16_to_f32_f16c(in, out, count);
#endif
  f16_to_f32_portable(in, out, count);
}

void bf16_to_f32_bulk(const uint16_t* in, float* out, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const uint32_t wide = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(out + i, &wide, sizeof(float));
  }
}

bool decode_float_elements(dtype type, const std::byte* in, float* out, size_t count) {
  switch (type) {
    case dtype::f32:
      if (count > 0) std::memcpy(out, in, count * sizeof(float));
      return true;
    case dtype::f16: f16_to_f32_bulk(reinterpret_cast<const uint16_t*>(in), out, count); return true;
    case dtype::bf16: bf16_to_f32_bulk(reinterpret_cast<const uint16_t*>(in), out, count); return true;
    case dtype::f64: {
      const auto* p = reinterpret_cast<const double*>(in);
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(p[i]);
      return true;
    }
    default: return false;
  }
}

}  // namespace edgepack

#include "core/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace edgepack {

const cpu_features& detected_cpu_features() {
  static const cpu_features features = [] {
    cpu_features f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the AVX state.
    f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    // GCC's and clang's runtimes report avx512f only when XCR0 enables the opmask and zmm state.
    f.avx512f = __builtin_cpu_supports("avx512f") != 0;
    // F16C is CPUID leaf 1, ECX bit 29; clang 14's __builtin_cpu_supports does not know "f16c".
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool has_f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
    f.f16c = __builtin_cpu_supports("avx") && has_f16c;
#endif
    return f;
  }();
  return features;
}

}  // namespace edgepack

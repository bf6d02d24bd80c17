#include "core/cpu_features.h"

namespace edgepack {

const cpu_features& detected_cpu_features() {
  static const cpu_features features = [] {
    cpu_features f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the AVX state.
    f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    f.f16c = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
#endif
    return f;
  }();
  return features;
}

}  // namespace edgepack

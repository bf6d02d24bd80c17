// Runtime CPU feature checks for optional SIMD paths. The project builds for baseline x86-64;
// faster paths are compiled with target attributes and chosen here, never assumed.
#pragma once

namespace edgepack {

struct cpu_features {
  bool avx2 = false;  // AVX2 + FMA usable (CPU and OS)
  bool f16c = false;  // F16C + AVX usable
  bool avx512f = false;  // AVX-512 Foundation usable (CPU and OS saves the zmm/opmask state)
};

const cpu_features& detected_cpu_features();

}  // namespace edgepack

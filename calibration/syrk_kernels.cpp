#include "calibration/syrk_kernels.h"

#include <algorithm>
#include <cmath>

#include "core/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgepack {

namespace {

// Rows of X per packed block: a B sliver (kc x nr floats, 32 KiB for AVX-512) stays in L1 while
// the A slivers of the tile stream past it from L2.
constexpr int64_t kc_max = 256;

// A micro-kernel updates an mr x nr block of C (row stride ldc) with kc rank-1 steps from packed
// slivers a[k * mr + r] and b[k * nr + c]; `start` means C's old contents are ignored (chains
// start from +0). The chain per element is the same in every variant: acc = fma(a, b, acc), k up.
using micro_kernel = void (*)(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start);

constexpr int portable_mr = 4, portable_nr = 8;

void micro_portable(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start) {
  float acc[portable_mr][portable_nr];
  for (int r = 0; r < portable_mr; ++r)
    for (int j = 0; j < portable_nr; ++j) acc[r][j] = start ? 0.0f : c[r * ldc + j];
  for (int64_t k = 0; k < kc; ++k)
    for (int r = 0; r < portable_mr; ++r)
      for (int j = 0; j < portable_nr; ++j) acc[r][j] = std::fma(a[k * portable_mr + r], b[k * portable_nr + j], acc[r][j]);
  for (int r = 0; r < portable_mr; ++r)
    for (int j = 0; j < portable_nr; ++j) c[r * ldc + j] = acc[r][j];
}

#if defined(__x86_64__)
// AVX2: 6 rows x 16 columns = 12 ymm accumulators, 2 for the B row, 1 broadcast.
constexpr int avx2_mr = 6, avx2_nr = 16;

__attribute__((target("avx2,fma"))) void micro_avx2(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start) {
  __m256 acc[avx2_mr][2];
#pragma GCC unroll 6
  for (int r = 0; r < avx2_mr; ++r) {
    acc[r][0] = start ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc);
    acc[r][1] = start ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 8);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * avx2_nr), b1 = _mm256_loadu_ps(b + k * avx2_nr + 8);
#pragma GCC unroll 6
    for (int r = 0; r < avx2_mr; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + k * avx2_mr + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < avx2_mr; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}

// AVX-512F: 12 rows x 32 columns = 24 zmm accumulators, 2 for the B row, 1 broadcast.
constexpr int avx512_mr = 12, avx512_nr = 32;

__attribute__((target("avx512f"))) void micro_avx512(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start) {
  __m512 acc[avx512_mr][2];
#pragma GCC unroll 12
  for (int r = 0; r < avx512_mr; ++r) {
    acc[r][0] = start ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc);
    acc[r][1] = start ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc + 16);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b + k * avx512_nr), b1 = _mm512_loadu_ps(b + k * avx512_nr + 16);
#pragma GCC unroll 12
    for (int r = 0; r < avx512_mr; ++r) {
      const __m512 av = _mm512_set1_ps(a[k * avx512_mr + r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < avx512_mr; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}
#endif

struct variant {
  micro_kernel micro;
  int mr, nr;
};

variant variant_for(syrk_isa isa) {
#if defined(__x86_64__)
  if (isa == syrk_isa::avx512) return {micro_avx512, avx512_mr, avx512_nr};
  if (isa == syrk_isa::avx2) return {micro_avx2, avx2_mr, avx2_nr};
#endif
  (void)isa;
  return {micro_portable, portable_mr, portable_nr};
}

// Packs X[k0 .. k0 + kc, first .. first + count] into slivers of `width` columns: dst[s][k][w]
// (zero past `count`, so edge slivers run the full micro-kernel on padding).
void pack(const float* x, int64_t ld, int64_t k0, int64_t kc, int64_t first, int64_t count, int width, float* dst) {
  const int64_t slivers = (count + width - 1) / width;
  for (int64_t k = 0; k < kc; ++k) {
    const float* row = x + (k0 + k) * ld + first;
    for (int64_t s = 0; s < slivers; ++s) {
      float* out = dst + (s * kc + k) * width;
      const int64_t base = s * width, n = std::min<int64_t>(width, count - base);
      std::copy(row + base, row + base + n, out);
      std::fill(out + n, out + width, 0.0f);
    }
  }
}

}  // namespace

const char* syrk_isa_name(syrk_isa isa) {
  switch (isa) {
    case syrk_isa::automatic: return "automatic";
    case syrk_isa::portable: return "portable";
    case syrk_isa::avx2: return "avx2+fma";
    case syrk_isa::avx512: return "avx512f";
  }
  return "?";
}

bool syrk_isa_available(syrk_isa isa) {
#if defined(__x86_64__)
  if (isa == syrk_isa::avx512) return detected_cpu_features().avx512f;
  if (isa == syrk_isa::avx2) return detected_cpu_features().avx2;
#else
  if (isa == syrk_isa::avx512 || isa == syrk_isa::avx2) return false;
#endif
  return true;
}

syrk_isa resolve_syrk_isa(syrk_isa requested) {
  if (requested != syrk_isa::automatic && syrk_isa_available(requested)) return requested;
  if (syrk_isa_available(syrk_isa::avx512)) return syrk_isa::avx512;
  if (syrk_isa_available(syrk_isa::avx2)) return syrk_isa::avx2;
  return syrk_isa::portable;
}

void syrk_tile_add(syrk_isa isa, const float* x, int64_t rows, int64_t ld, const syrk_tile_spec& tile, double* sum, int64_t ld_sum,
                   syrk_workspace& ws) {
  if (tile.ni <= 0 || tile.nj <= 0) return;
  const variant v = variant_for(isa);
  const int64_t a_slivers = (tile.ni + v.mr - 1) / v.mr, b_slivers = (tile.nj + v.nr - 1) / v.nr;
  const int64_t ldc = b_slivers * v.nr;
  const int64_t kc_cap = std::min(kc_max, std::max<int64_t>(rows, 1));
  ws.a.resize(static_cast<size_t>(a_slivers * v.mr * kc_cap));
  ws.b.resize(static_cast<size_t>(b_slivers * v.nr * kc_cap));
  ws.c.assign(static_cast<size_t>(a_slivers * v.mr * ldc), 0.0f);
  for (int64_t k0 = 0; k0 < rows; k0 += kc_max) {
    const int64_t kc = std::min(kc_max, rows - k0);
    pack(x, ld, k0, kc, tile.i0, tile.ni, v.mr, ws.a.data());
    pack(x, ld, k0, kc, tile.j0, tile.nj, v.nr, ws.b.data());
    for (int64_t sb = 0; sb < b_slivers; ++sb) {
      const float* bp = ws.b.data() + sb * kc * v.nr;
      for (int64_t sa = 0; sa < a_slivers; ++sa) {
        // In a diagonal tile, a block wholly above the diagonal (first column past its last row) is skipped.
        if (tile.lower_only && tile.j0 + sb * v.nr > tile.i0 + sa * v.mr + v.mr - 1) continue;
        v.micro(ws.a.data() + sa * kc * v.mr, bp, kc, ws.c.data() + sa * v.mr * ldc + sb * v.nr, ldc, k0 == 0);
      }
    }
  }
  for (int64_t r = 0; r < tile.ni; ++r) {
    double* dst = sum + (tile.i0 + r) * ld_sum + tile.j0;
    const float* src = ws.c.data() + r * ldc;
    const int64_t limit = tile.lower_only ? std::min(tile.nj, tile.i0 + r - tile.j0 + 1) : tile.nj;
    for (int64_t j = 0; j < limit; ++j) dst[j] += static_cast<double>(src[j]);
  }
}

}  // namespace edgepack

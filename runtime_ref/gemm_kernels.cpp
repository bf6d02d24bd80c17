#include "runtime_ref/gemm_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgepack {

namespace {

// Depth of one packed block: a B sliver (kc x nr floats, 32 KiB for AVX-512) stays in L1 while
// the A slivers of the row block stream past it from L2.
constexpr int64_t kc_max = 256;
// Row blocks of A hold 16 slivers (kc x 16 mr floats: 192 KiB for AVX-512, less for the others).
constexpr int64_t slivers_per_row_block = 16;

// A micro-kernel updates an R x nr block of C (row stride ldc) with kc rank-1 steps from packed
// slivers a[k * MR + r] (r < R) and b[k * nr + c]; `start` means C's old contents are ignored
// (chains start from +0). The chain per element is the same in every variant: acc = fma(a, b, acc),
// k up. R < MR serves the last rows of a product without computing padding rows.
using micro_kernel = void (*)(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start);

constexpr int portable_mr = 4, portable_nr = 8;

template <int R>
void micro_portable(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start) {
  float acc[R][portable_nr];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < portable_nr; ++j) acc[r][j] = start ? 0.0f : c[r * ldc + j];
  for (int64_t k = 0; k < kc; ++k)
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < portable_nr; ++j) acc[r][j] = std::fma(a[k * portable_mr + r], b[k * portable_nr + j], acc[r][j]);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < portable_nr; ++j) c[r * ldc + j] = acc[r][j];
}

#if defined(__x86_64__)
// AVX2: 6 rows x 16 columns = 12 ymm accumulators, 2 for the B row, 1 broadcast.
constexpr int avx2_mr = 6, avx2_nr = 16;

template <int R>
__attribute__((target("avx2,fma"))) void micro_avx2(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start) {
  __m256 acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    acc[r][0] = start ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc);
    acc[r][1] = start ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 8);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * avx2_nr), b1 = _mm256_loadu_ps(b + k * avx2_nr + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + k * avx2_mr + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}

// AVX-512F: 12 rows x 32 columns = 24 zmm accumulators, 2 for the B row, 1 broadcast.
constexpr int avx512_mr = 12, avx512_nr = 32;

template <int R>
__attribute__((target("avx512f"))) void micro_avx512(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool start) {
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    acc[r][0] = start ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc);
    acc[r][1] = start ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc + 16);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b + k * avx512_nr), b1 = _mm512_loadu_ps(b + k * avx512_nr + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[k * avx512_mr + r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}
#endif

constexpr int max_mr = 12, max_nr = 32;

struct variant {
  std::array<micro_kernel, max_mr + 1> micro{};  // micro[R] for R = 1 .. mr
  int mr = 0, nr = 0;
};

template <template <int> class Tag, int... R>
constexpr std::array<micro_kernel, max_mr + 1> table(std::integer_sequence<int, R...>) {
  return {nullptr, Tag<R + 1>::fn...};
}

template <int R>
struct portable_tag {
  static constexpr micro_kernel fn = micro_portable<R>;
};
#if defined(__x86_64__)
template <int R>
struct avx2_tag {
  static constexpr micro_kernel fn = micro_avx2<R>;
};
template <int R>
struct avx512_tag {
  static constexpr micro_kernel fn = micro_avx512<R>;
};
#endif

const variant& variant_for(gemm_isa isa) {
  static const variant portable{table<portable_tag>(std::make_integer_sequence<int, portable_mr>{}), portable_mr, portable_nr};
#if defined(__x86_64__)
  static const variant avx2{table<avx2_tag>(std::make_integer_sequence<int, avx2_mr>{}), avx2_mr, avx2_nr};
  static const variant avx512{table<avx512_tag>(std::make_integer_sequence<int, avx512_mr>{}), avx512_mr, avx512_nr};
  if (isa == gemm_isa::avx512) return avx512;
  if (isa == gemm_isa::avx2) return avx2;
#endif
  (void)isa;
  return portable;
}

// Packs B[k0 .. k0 + kc, 0 .. n] into slivers of `width` columns: dst[s][k][w] (zero past n, so edge
// slivers run the full micro-kernel on padding).
void pack_b(gemm_view b, int64_t k0, int64_t kc, int64_t n, int width, float* dst) {
  const int64_t slivers = (n + width - 1) / width;
  for (int64_t s = 0; s < slivers; ++s) {
    const int64_t base = s * width, count = std::min<int64_t>(width, n - base);
    for (int64_t k = 0; k < kc; ++k) {
      float* out = dst + (s * kc + k) * width;
      const float* src = b.data + (k0 + k) * b.row_stride + base * b.col_stride;
      if (b.col_stride == 1) {
        std::copy(src, src + count, out);
      } else {
        for (int64_t w = 0; w < count; ++w) out[w] = src[w * b.col_stride];
      }
      std::fill(out + count, out + width, 0.0f);
    }
  }
}

// Packs A[i0 .. i0 + rows, k0 .. k0 + kc] into slivers of `height` rows: dst[s][k][r] (zero past rows).
void pack_a(gemm_view a, int64_t i0, int64_t rows, int64_t k0, int64_t kc, int height, float* dst) {
  const int64_t slivers = (rows + height - 1) / height;
  for (int64_t s = 0; s < slivers; ++s) {
    float* out = dst + s * kc * height;
    const int64_t count = std::min<int64_t>(height, rows - s * height);
    for (int64_t r = 0; r < height; ++r) {
      if (r >= count) {
        for (int64_t k = 0; k < kc; ++k) out[k * height + r] = 0.0f;
        continue;
      }
      const float* src = a.data + (i0 + s * height + r) * a.row_stride + k0 * a.col_stride;
      if (a.col_stride == 1) {
        for (int64_t k = 0; k < kc; ++k) out[k * height + r] = src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) out[k * height + r] = src[k * a.col_stride];
      }
    }
  }
}

}  // namespace

const char* gemm_isa_name(gemm_isa isa) {
  switch (isa) {
    case gemm_isa::automatic: return "automatic";
    case gemm_isa::portable: return "portable";
    case gemm_isa::avx2: return "avx2+fma";
    case gemm_isa::avx512: return "avx512f";
  }
  return "?";
}

bool gemm_isa_available(gemm_isa isa) {
#if defined(__x86_64__)
  if (isa == gemm_isa::avx512) return detected_cpu_features().avx512f;
  if (isa == gemm_isa::avx2) return detected_cpu_features().avx2;
#else
  if (isa == gemm_isa::avx512 || isa == gemm_isa::avx2) return false;
#endif
  return true;
}

gemm_isa resolve_gemm_isa(gemm_isa requested) {
  if (requested != gemm_isa::automatic && gemm_isa_available(requested)) return requested;
  if (gemm_isa_available(gemm_isa::avx512)) return gemm_isa::avx512;
  if (gemm_isa_available(gemm_isa::avx2)) return gemm_isa::avx2;
  return gemm_isa::portable;
}

gemm_isa default_gemm_isa() {
  static const gemm_isa isa = resolve_gemm_isa(gemm_isa::automatic);
  return isa;
}

void gemm_f32(gemm_isa isa, int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc, gemm_workspace& ws) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const variant& v = variant_for(isa);
  const int64_t mr = v.mr, nr = v.nr;
  const int64_t b_slivers = (n + nr - 1) / nr;
  const int64_t kc_cap = std::min(kc_max, k);
  const int64_t mc = std::min(slivers_per_row_block * mr, (m + mr - 1) / mr * mr);
  ws.a.resize(static_cast<size_t>(mc * kc_cap));
  ws.b.resize(static_cast<size_t>(b_slivers * nr * kc_cap));
  alignas(64) float edge[max_mr * max_nr] = {};
  for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
    const int64_t kc = std::min(kc_max, k - k0);
    const bool start = k0 == 0;
    pack_b(b, k0, kc, n, v.nr, ws.b.data());
    for (int64_t i0 = 0; i0 < m; i0 += mc) {
      const int64_t rows = std::min(mc, m - i0);
      const int64_t a_slivers = (rows + mr - 1) / mr;
      pack_a(a, i0, rows, k0, kc, v.mr, ws.a.data());
      for (int64_t sb = 0; sb < b_slivers; ++sb) {
        const float* bp = ws.b.data() + sb * kc * nr;
        const int64_t j = sb * nr, cols = std::min(nr, n - j);
        for (int64_t sa = 0; sa < a_slivers; ++sa) {
          const int64_t i = i0 + sa * mr, r = std::min(mr, m - i);
          const micro_kernel micro = v.micro[static_cast<size_t>(r)];
          const float* ap = ws.a.data() + sa * kc * mr;
          float* cp = c + i * ldc + j;
          if (cols == nr) {
            micro(ap, bp, kc, cp, ldc, start);
            continue;
          }
          // A right-edge block runs on a full-width copy; its padding columns are discarded.
          if (!start)
            for (int64_t rr = 0; rr < r; ++rr) std::copy(cp + rr * ldc, cp + rr * ldc + cols, edge + rr * nr);
          micro(ap, bp, kc, edge, nr, start);
          for (int64_t rr = 0; rr < r; ++rr) std::copy(edge + rr * nr, edge + rr * nr + cols, cp + rr * ldc);
        }
      }
    }
  }
}

void gemm_f32(int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc) {
  thread_local gemm_workspace ws;
  gemm_f32(default_gemm_isa(), m, n, k, a, b, c, ldc, ws);
}

}  // namespace edgepack

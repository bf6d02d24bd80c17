#include "runtime_ref/gemm_kernels.h"

#include <algorithm>
#include <array>
#include <atomic>
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
// k up. R < MR serves the last rows of a product without computing padding rows. T is float or
// double: one set of kernels, the register block is 2 vectors wide whatever the element.
template <class T>
using micro_kernel = void (*)(const T* a, const T* b, int64_t kc, T* c, int64_t ldc, bool start);

constexpr int portable_mr = 4, portable_nr = 8;

template <class T, int R>
void micro_portable(const T* a, const T* b, int64_t kc, T* c, int64_t ldc, bool start) {
  T acc[R][portable_nr];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < portable_nr; ++j) acc[r][j] = start ? T(0) : c[r * ldc + j];
  for (int64_t k = 0; k < kc; ++k)
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < portable_nr; ++j) acc[r][j] = std::fma(a[k * portable_mr + r], b[k * portable_nr + j], acc[r][j]);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < portable_nr; ++j) c[r * ldc + j] = acc[r][j];
}

#if defined(__x86_64__)
// Overloads per vector type, so one kernel template serves float and double.
#define EP_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline
EP_AVX2 __m256 v_load(const float* p) { return _mm256_loadu_ps(p); }
EP_AVX2 __m256d v_load(const double* p) { return _mm256_loadu_pd(p); }
EP_AVX2 void v_store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
EP_AVX2 void v_store(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
EP_AVX2 __m256 v_broadcast(const float* p) { return _mm256_broadcast_ss(p); }
EP_AVX2 __m256d v_broadcast(const double* p) { return _mm256_broadcast_sd(p); }
EP_AVX2 __m256 v_fma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
EP_AVX2 __m256d v_fma(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
#undef EP_AVX2
#define EP_AVX512 __attribute__((target("avx512f"), always_inline)) inline
EP_AVX512 __m512 v512_load(const float* p) { return _mm512_loadu_ps(p); }
EP_AVX512 __m512d v512_load(const double* p) { return _mm512_loadu_pd(p); }
EP_AVX512 void v_store(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
EP_AVX512 void v_store(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
EP_AVX512 __m512 v512_broadcast(const float* p) { return _mm512_set1_ps(*p); }
EP_AVX512 __m512d v512_broadcast(const double* p) { return _mm512_set1_pd(*p); }
EP_AVX512 __m512 v_fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
EP_AVX512 __m512d v_fma(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
#undef EP_AVX512

// AVX2: 6 rows x 2 ymm columns (16 floats / 8 doubles) = 12 accumulators, 2 for the B row, 1 broadcast.
constexpr int avx2_mr = 6;
template <class T>
constexpr int avx2_nr = 2 * 32 / static_cast<int>(sizeof(T));

template <class T, int R>
__attribute__((target("avx2,fma"))) void micro_avx2(const T* a, const T* b, int64_t kc, T* c, int64_t ldc, bool start) {
  constexpr int lanes = avx2_nr<T> / 2;
  using vec = decltype(v_load(a));
  vec acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    acc[r][0] = start ? vec{} : v_load(c + r * ldc);
    acc[r][1] = start ? vec{} : v_load(c + r * ldc + lanes);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const vec b0 = v_load(b + k * avx2_nr<T>), b1 = v_load(b + k * avx2_nr<T> + lanes);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const vec av = v_broadcast(a + k * avx2_mr + r);
      acc[r][0] = v_fma(av, b0, acc[r][0]);
      acc[r][1] = v_fma(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    v_store(c + r * ldc, acc[r][0]);
    v_store(c + r * ldc + lanes, acc[r][1]);
  }
}

// AVX-512F: 12 rows x 2 zmm columns (32 floats / 16 doubles) = 24 accumulators, 2 for the B row, 1 broadcast.
constexpr int avx512_mr = 12;
template <class T>
constexpr int avx512_nr = 2 * 64 / static_cast<int>(sizeof(T));

template <class T, int R>
__attribute__((target("avx512f"))) void micro_avx512(const T* a, const T* b, int64_t kc, T* c, int64_t ldc, bool start) {
  constexpr int lanes = avx512_nr<T> / 2;
  using vec = decltype(v512_load(a));
  vec acc[R][2];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    acc[r][0] = start ? vec{} : v512_load(c + r * ldc);
    acc[r][1] = start ? vec{} : v512_load(c + r * ldc + lanes);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const vec b0 = v512_load(b + k * avx512_nr<T>), b1 = v512_load(b + k * avx512_nr<T> + lanes);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const vec av = v512_broadcast(a + k * avx512_mr + r);
      acc[r][0] = v_fma(av, b0, acc[r][0]);
      acc[r][1] = v_fma(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    v_store(c + r * ldc, acc[r][0]);
    v_store(c + r * ldc + lanes, acc[r][1]);
  }
}
#endif

constexpr int max_mr = 12, max_nr = 32;

template <class T>
struct variant {
  std::array<micro_kernel<T>, max_mr + 1> micro{};  // micro[R] for R = 1 .. mr
  int mr = 0, nr = 0;
};

template <class T, template <class, int> class Tag, int... R>
constexpr std::array<micro_kernel<T>, max_mr + 1> table(std::integer_sequence<int, R...>) {
  return {nullptr, Tag<T, R + 1>::fn...};
}

template <class T, int R>
struct portable_tag {
  static constexpr micro_kernel<T> fn = micro_portable<T, R>;
};
#if defined(__x86_64__)
template <class T, int R>
struct avx2_tag {
  static constexpr micro_kernel<T> fn = micro_avx2<T, R>;
};
template <class T, int R>
struct avx512_tag {
  static constexpr micro_kernel<T> fn = micro_avx512<T, R>;
};
#endif

template <class T>
const variant<T>& variant_for(gemm_isa isa) {
  static const variant<T> portable{table<T, portable_tag>(std::make_integer_sequence<int, portable_mr>{}), portable_mr, portable_nr};
#if defined(__x86_64__)
  static const variant<T> avx2{table<T, avx2_tag>(std::make_integer_sequence<int, avx2_mr>{}), avx2_mr, avx2_nr<T>};
  static const variant<T> avx512{table<T, avx512_tag>(std::make_integer_sequence<int, avx512_mr>{}), avx512_mr, avx512_nr<T>};
  if (isa == gemm_isa::avx512) return avx512;
  if (isa == gemm_isa::avx2) return avx2;
#endif
  (void)isa;
  return portable;
}

// Packs B[k0 .. k0 + kc, 0 .. n] into slivers of `width` columns: dst[s][k][w] (zero past n, so edge
// slivers run the full micro-kernel on padding).
template <class T>
void pack_b(basic_gemm_view<T> b, int64_t k0, int64_t kc, int64_t n, int width, T* dst) {
  const int64_t slivers = (n + width - 1) / width;
  for (int64_t s = 0; s < slivers; ++s) {
    const int64_t base = s * width, count = std::min<int64_t>(width, n - base);
    if (b.row_stride == 1 && b.col_stride != 1) {
      // Transposed B: read each column's contiguous run of k.
      T* out = dst + s * kc * width;
      for (int64_t w = 0; w < width; ++w) {
        if (w >= count) {
          for (int64_t k = 0; k < kc; ++k) out[k * width + w] = T(0);
          continue;
        }
        const T* src = b.data + k0 + (base + w) * b.col_stride;
        for (int64_t k = 0; k < kc; ++k) out[k * width + w] = src[k];
      }
      continue;
    }
    for (int64_t k = 0; k < kc; ++k) {
      T* out = dst + (s * kc + k) * width;
      const T* src = b.data + (k0 + k) * b.row_stride + base * b.col_stride;
      if (b.col_stride == 1) {
        for (int64_t w = 0; w < count; ++w) out[w] = src[w];  // short runs: a loop beats a memmove call
      } else {
        for (int64_t w = 0; w < count; ++w) out[w] = src[w * b.col_stride];
      }
      std::fill(out + count, out + width, T(0));
    }
  }
}

// Packs A[i0 .. i0 + rows, k0 .. k0 + kc] into slivers of `height` rows: dst[s][k][r] (zero past
// rows), times `sign` (+1 or -1: exact).
template <class T>
void pack_a(basic_gemm_view<T> a, int64_t i0, int64_t rows, int64_t k0, int64_t kc, int height, T sign, T* dst) {
  const int64_t slivers = (rows + height - 1) / height;
  for (int64_t s = 0; s < slivers; ++s) {
    T* out = dst + s * kc * height;
    const int64_t count = std::min<int64_t>(height, rows - s * height);
    if (a.row_stride == 1 && a.col_stride != 1) {
      // Transposed A: each k is a contiguous run of rows.
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = a.data + (i0 + s * height) + (k0 + k) * a.col_stride;
        for (int64_t r = 0; r < count; ++r) out[k * height + r] = sign * src[r];
        for (int64_t r = count; r < height; ++r) out[k * height + r] = T(0);
      }
      continue;
    }
    for (int64_t r = 0; r < height; ++r) {
      if (r >= count) {
        for (int64_t k = 0; k < kc; ++k) out[k * height + r] = T(0);
        continue;
      }
      const T* src = a.data + (i0 + s * height + r) * a.row_stride + k0 * a.col_stride;
      if (a.col_stride == 1) {
        for (int64_t k = 0; k < kc; ++k) out[k * height + r] = sign * src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) out[k * height + r] = sign * src[k * a.col_stride];
      }
    }
  }
}

template <class T>
void gemm_impl(gemm_isa isa, int64_t m, int64_t n, int64_t k, basic_gemm_view<T> a, basic_gemm_view<T> b, T* c, int64_t ldc,
               basic_gemm_workspace<T>& ws, gemm_update update) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (update == gemm_update::overwrite)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return;
  }
  const T sign = update == gemm_update::subtract ? T(-1) : T(1);
  const variant<T>& v = variant_for<T>(isa);
  const int64_t mr = v.mr, nr = v.nr;
  const int64_t b_slivers = (n + nr - 1) / nr;
  const int64_t kc_cap = std::min(kc_max, k);
  const int64_t mc = std::min(slivers_per_row_block * mr, (m + mr - 1) / mr * mr);
  ws.a.resize(static_cast<size_t>(mc * kc_cap));
  ws.b.resize(static_cast<size_t>(b_slivers * nr * kc_cap));
  alignas(64) T edge[max_mr * max_nr] = {};
  for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
    const int64_t kc = std::min(kc_max, k - k0);
    const bool start = k0 == 0 && update == gemm_update::overwrite;
    pack_b(b, k0, kc, n, v.nr, ws.b.data());
    for (int64_t i0 = 0; i0 < m; i0 += mc) {
      const int64_t rows = std::min(mc, m - i0);
      const int64_t a_slivers = (rows + mr - 1) / mr;
      pack_a(a, i0, rows, k0, kc, v.mr, sign, ws.a.data());
      for (int64_t sb = 0; sb < b_slivers; ++sb) {
        const T* bp = ws.b.data() + sb * kc * nr;
        const int64_t j = sb * nr, cols = std::min(nr, n - j);
        for (int64_t sa = 0; sa < a_slivers; ++sa) {
          const int64_t i = i0 + sa * mr, r = std::min(mr, m - i);
          const micro_kernel<T> micro = v.micro[static_cast<size_t>(r)];
          const T* ap = ws.a.data() + sa * kc * mr;
          T* cp = c + i * ldc + j;
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

std::vector<gemm_isa> available_gemm_isas() {
  std::vector<gemm_isa> out;
  for (const gemm_isa isa : {gemm_isa::portable, gemm_isa::avx2, gemm_isa::avx512})
    if (gemm_isa_available(isa)) out.push_back(isa);
  return out;
}

gemm_isa resolve_gemm_isa(gemm_isa requested) {
  if (requested != gemm_isa::automatic && gemm_isa_available(requested)) return requested;
  if (gemm_isa_available(gemm_isa::avx512)) return gemm_isa::avx512;
  if (gemm_isa_available(gemm_isa::avx2)) return gemm_isa::avx2;
  return gemm_isa::portable;
}

namespace {
std::atomic<gemm_isa> forced_isa{gemm_isa::automatic};
}  // namespace

gemm_isa default_gemm_isa() {
  static const gemm_isa isa = resolve_gemm_isa(gemm_isa::automatic);
  const gemm_isa forced = forced_isa.load(std::memory_order_relaxed);
  return forced == gemm_isa::automatic ? isa : forced;
}

void force_default_gemm_isa(gemm_isa isa) {
  forced_isa.store(isa == gemm_isa::automatic ? gemm_isa::automatic : resolve_gemm_isa(isa), std::memory_order_relaxed);
}

void gemm_f32(gemm_isa isa, int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc, gemm_workspace& ws,
              gemm_update update) {
  gemm_impl<float>(isa, m, n, k, a, b, c, ldc, ws, update);
}

void gemm_f32(int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc, gemm_update update) {
  thread_local gemm_workspace ws;
  gemm_impl<float>(default_gemm_isa(), m, n, k, a, b, c, ldc, ws, update);
}

void gemm_f64(gemm_isa isa, int64_t m, int64_t n, int64_t k, gemm_view_f64 a, gemm_view_f64 b, double* c, int64_t ldc, gemm_workspace_f64& ws,
              gemm_update update) {
  gemm_impl<double>(isa, m, n, k, a, b, c, ldc, ws, update);
}

void gemm_f64(int64_t m, int64_t n, int64_t k, gemm_view_f64 a, gemm_view_f64 b, double* c, int64_t ldc, gemm_update update) {
  thread_local gemm_workspace_f64 ws;
  gemm_impl<double>(default_gemm_isa(), m, n, k, a, b, c, ldc, ws, update);
}

}  // namespace edgepack

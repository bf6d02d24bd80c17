#include "passes/rtn_group_kernels.h"

#include <algorithm>
#include <cmath>

#include "core/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgepack {

namespace {

float reduce_lanes(const float lane[8]) { return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])); }

candidate_sums sums_portable(const float* x, int64_t n, float inv, float lo, float hi) {
  float xl[8] = {}, ll[8] = {};
  for (int64_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; ++j) {
      const float l = std::min(std::max(std::nearbyint(x[i + j] * inv), lo), hi);
      const float pxl = x[i + j] * l;  // separate multiply and add: no FMA, as in the AVX2 path
      const float pll = l * l;
      xl[j] = xl[j] + pxl;
      ll[j] = ll[j] + pll;
    }
  return {reduce_lanes(xl), reduce_lanes(ll)};
}

float quantize_portable(const float* x, int64_t n, float inv, float scale, int zero, int levels, uint8_t* codes) {
  float err[8] = {};
  const float lo = static_cast<float>(-zero), hi = static_cast<float>(levels - 1 - zero);
  for (int64_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; ++j) {
      const float l = std::min(std::max(std::nearbyint(x[i + j] * inv), lo), hi);
      codes[i + j] = static_cast<uint8_t>(static_cast<int>(l) + zero);
      const float value = scale * l;
      const float d = x[i + j] - value;
      const float dd = d * d;
      err[j] = err[j] + dd;
    }
  return reduce_lanes(err);
}

group_range range_portable(const float* x, int64_t n) {
  float lo[8] = {}, hi[8] = {}, sq[8] = {};
  bool finite = true;
  for (int64_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; ++j) {
      const float v = x[i + j];
      finite = finite && std::isfinite(v);
      lo[j] = std::min(lo[j], v);
      hi[j] = std::max(hi[j], v);
      const float vv = v * v;
      sq[j] = sq[j] + vv;
    }
  group_range r;
  r.min = *std::min_element(lo, lo + 8);
  r.max = *std::max_element(hi, hi + 8);
  r.sum_sq = reduce_lanes(sq);
  r.finite = finite;
  return r;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) group_range range_avx2(const float* x, int64_t n) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps(), sq = _mm256_setzero_ps();
  __m256 bad = _mm256_setzero_ps();
  const __m256 inf = _mm256_set1_ps(INFINITY);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    // NaN compares unordered and |Inf| == Inf: both flag the group as not finite.
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(v, abs_mask), inf, _CMP_NLT_UQ));
    lo = _mm256_min_ps(lo, v);
    hi = _mm256_max_ps(hi, v);
    sq = _mm256_add_ps(sq, _mm256_mul_ps(v, v));
  }
  float l[8], h[8], q[8];
  _mm256_storeu_ps(l, lo);
  _mm256_storeu_ps(h, hi);
  _mm256_storeu_ps(q, sq);
  group_range r;
  r.min = *std::min_element(l, l + 8);
  r.max = *std::max_element(h, h + 8);
  r.sum_sq = reduce_lanes(q);
  r.finite = _mm256_movemask_ps(bad) == 0;
  return r;
}

__attribute__((target("avx2"))) candidate_sums sums_avx2(const float* x, int64_t n, float inv, float lo, float hi) {
  __m256 xl = _mm256_setzero_ps(), ll = _mm256_setzero_ps();
  const __m256 vinv = _mm256_set1_ps(inv), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 r = _mm256_round_ps(_mm256_mul_ps(v, vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 l = _mm256_min_ps(_mm256_max_ps(r, vlo), vhi);
    xl = _mm256_add_ps(xl, _mm256_mul_ps(v, l));
    ll = _mm256_add_ps(ll, _mm256_mul_ps(l, l));
  }
  float a[8], b[8];
  _mm256_storeu_ps(a, xl);
  _mm256_storeu_ps(b, ll);
  return {reduce_lanes(a), reduce_lanes(b)};
}

__attribute__((target("avx2"))) float quantize_avx2(const float* x, int64_t n, float inv, float scale, int zero, int levels, uint8_t* codes) {
  const __m256 vinv = _mm256_set1_ps(inv), vscale = _mm256_set1_ps(scale);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(-zero)), vhi = _mm256_set1_ps(static_cast<float>(levels - 1 - zero));
  const __m256i vzero = _mm256_set1_epi32(zero);
  __m256 err = _mm256_setzero_ps();
  alignas(32) int32_t lanes[8];
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 r = _mm256_round_ps(_mm256_mul_ps(v, vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 l = _mm256_min_ps(_mm256_max_ps(r, vlo), vhi);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi32(_mm256_cvtps_epi32(l), vzero));
    for (int j = 0; j < 8; ++j) codes[i + j] = static_cast<uint8_t>(lanes[j]);
    const __m256 d = _mm256_sub_ps(v, _mm256_mul_ps(vscale, l));
    err = _mm256_add_ps(err, _mm256_mul_ps(d, d));
  }
  float e[8];
  _mm256_storeu_ps(e, err);
  return reduce_lanes(e);
}
#endif

// Shared candidate loop; `sums` is the portable or the AVX2 kernel, so both paths pick the same.
template <class Sums>
float best_scale(const float* x, int64_t n, float extreme, int bits, int steps, Sums sums) {
  const int zero = 1 << (bits - 1);
  const float lo = static_cast<float>(-zero), hi = static_cast<float>(zero - 1);
  double best_num = 0, best_den = 1;  // best sum(x l)^2 / sum(l l) so far, kept as a fraction
  float best = 0.0f;
  for (int step = -steps; step <= steps; ++step) {
    const float divisor = static_cast<float>(-zero) - 0.1f * static_cast<float>(step);
    const candidate_sums c = sums(x, n, divisor / extreme, lo, hi);
    if (!(c.ll > 0)) continue;
    const double num = static_cast<double>(c.xl) * c.xl, den = c.ll;
    if (best == 0.0f || num * best_den > best_num * den) {
      best_num = num;
      best_den = den;
      best = c.xl / c.ll;
    }
  }
  return best;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) float best_scale_avx2(const float* x, int64_t n, float extreme, int bits, int steps) {
  return best_scale(x, n, extreme, bits, steps, sums_avx2);
}
#endif

}  // namespace

float rtn_best_symmetric_scale(const float* x, int64_t padded_count, float extreme, int bits, int steps) {
#if defined(__x86_64__)
  if (detected_cpu_features().avx2) return best_scale_avx2(x, padded_count, extreme, bits, steps);
#endif
  return best_scale(x, padded_count, extreme, bits, steps, sums_portable);
}

group_range rtn_group_range(const float* x, int64_t padded_count) {
#if defined(__x86_64__)
  if (detected_cpu_features().avx2) return range_avx2(x, padded_count);
#endif
  return range_portable(x, padded_count);
}

candidate_sums rtn_candidate_sums(const float* x, int64_t padded_count, float inv, float lo, float hi) {
#if defined(__x86_64__)
  if (detected_cpu_features().avx2) return sums_avx2(x, padded_count, inv, lo, hi);
#endif
  return sums_portable(x, padded_count, inv, lo, hi);
}

float rtn_quantize_group(const float* x, int64_t padded_count, float inv, float scale, int zero, int levels, uint8_t* codes) {
#if defined(__x86_64__)
  if (detected_cpu_features().avx2) return quantize_avx2(x, padded_count, inv, scale, zero, levels, codes);
#endif
  return quantize_portable(x, padded_count, inv, scale, zero, levels, codes);
}

}  // namespace edgepack

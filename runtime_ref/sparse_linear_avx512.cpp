// AVX-512F kernel of the packed sparse linear (runtime_ref/sparse_linear.h): 16 output rows, one per
// lane. Per window (whole N:M groups, one quantization group) it gathers each row's packed codes and
// indices (one unaligned 8-byte read per row and half window, shifted to the row's bit offset),
// decodes the up to 16 stored values per row to weights (scale * float(code - zero), exactly as the
// reference decoder; f32 values: one 16-lane gather per slot) and their in-group columns into an L1
// tile, then runs the chains of up to 8 batch rows at a time: x of one N:M group is broadcast to
// every 128/256-bit lane and permuted by each row's index, so lane l gets x[b, column of its j-th
// stored value], then one FMA per slot. Every lane's chain therefore visits its row's stored
// columns in order, as the scalar kernel does.
#include "runtime_ref/sparse_linear_plan.h"

#if defined(__x86_64__)
// GCC 12 reports "'__Y' may be used uninitialized" inside avx512fintrin.h for the gather and shift
// intrinsics (their _mm512_undefined_epi32() operand is self-initialised on purpose): a false report
// in a system header (see CMakeLists.txt, EDGEPACK_NATIVE), silenced for this file only (push/pop:
// the unity build appends other sources to this one).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>
#include <vector>

namespace edgepack::sparse_linear_detail {
// Named per ISA: the unity build compiles the AVX2 and AVX-512 files as one unit.
namespace avx512_kernel {
namespace {

constexpr int lanes = 16;

struct alignas(64) window_tile {
  float w[16][lanes];        // slot j: the weights of the 16 rows' j-th stored values in the window
  int32_t column[16][lanes];  // their columns within the N:M group (low index bits; higher bits ignored)
};

// x[0 .. M) of one N:M group in every lane block the permute below reads.
template <int M>
__attribute__((target("avx512f"))) inline __m512 load_group(const float* xg) {
  if constexpr (M == 2) {
    double d;
    std::memcpy(&d, xg, sizeof d);
    return _mm512_castpd_ps(_mm512_set1_pd(d));  // x0 x1 x0 x1 ...: index bit 1 is don't-care
  } else if constexpr (M == 4) {
    return _mm512_broadcast_f32x4(_mm_loadu_ps(xg));
  } else {
    return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd(reinterpret_cast<const double*>(xg))));  // bit 3: either half
  }
}

template <int M>
__attribute__((target("avx512f"))) inline __m512 pick(__m512 xg, __m512i column) {
  if constexpr (M == 8) return _mm512_permutexvar_ps(column, xg);
  else return _mm512_permutevar_ps(xg, column);  // low 2 bits, within each 128-bit block
}

// NB batch rows through one decoded window starting at column c0. The batch loops are unrolled
// so the accumulators and x groups stay in registers.
template <int M, int NB>
__attribute__((target("avx512f"))) void run_window(const window_tile& t, int groups, int n, const float* x, int64_t cols, int64_t c0,
                                                   float* acc, int64_t acc_stride) {
  __m512 a[NB];
#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b) a[b] = _mm512_loadu_ps(acc + b * acc_stride);
  for (int g = 0; g < groups; ++g) {
    __m512 xg[NB];
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b) xg[b] = load_group<M>(x + b * cols + c0 + g * M);
    for (int s = 0; s < n; ++s) {
      const int j = g * n + s;
      const __m512 wv = _mm512_load_ps(t.w[j]);
      const __m512i cv = _mm512_load_si512(t.column[j]);
#pragma GCC unroll 8
      for (int b = 0; b < NB; ++b) a[b] = _mm512_fmadd_ps(pick<M>(xg[b], cv), wv, a[b]);
    }
  }
#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b) _mm512_storeu_ps(acc + b * acc_stride, a[b]);
}

// 32 bits of 8 rows' bitstreams at bit positions `bit` (the 8-byte read may cover later fields).
__attribute__((target("avx512f"))) inline __m256i gather_fields(const std::byte* data, __m512i bit) {
  const __m512i q = _mm512_i64gather_epi64(_mm512_srli_epi64(bit, 3), data, 1);
  return _mm512_cvtepi64_epi32(_mm512_srlv_epi64(q, _mm512_and_si512(bit, _mm512_set1_epi64(7))));
}

__attribute__((target("avx512f"))) inline __m512i gather_16(const std::byte* data, __m512i bit_lo, __m512i bit_hi, int64_t add) {
  const __m512i step = _mm512_set1_epi64(add);
  const __m256i lo = gather_fields(data, _mm512_add_epi64(bit_lo, step)), hi = gather_fields(data, _mm512_add_epi64(bit_hi, step));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

template <int M>
__attribute__((target("avx512f"))) void block(const plan& p, int64_t r0, int64_t windows, const float* x, int64_t batch, float* acc,
                                              int64_t acc_stride) {
  const tensor& w = *p.w;
  const int slots = p.window_slots;
  // Bit position of each row's first stored value in the code and index streams (lanes 0-7, 8-15).
  alignas(64) int64_t code_bit[lanes], index_bit[lanes];
  for (int l = 0; l < lanes; ++l) {
    code_bit[l] = (r0 + l) * p.per_row * p.bits;
    index_bit[l] = (r0 + l) * p.per_row * p.index_bits;
  }
  const __m512i code_lo = _mm512_load_si512(code_bit), code_hi = _mm512_load_si512(code_bit + 8);
  const __m512i index_lo = _mm512_load_si512(index_bit), index_hi = _mm512_load_si512(index_bit + 8);
  const __m128i code_shift = _mm_cvtsi32_si128(p.bits), index_shift = _mm_cvtsi32_si128(p.index_bits);
  const __m512i code_mask = _mm512_set1_epi32((1 << p.bits) - 1);
  thread_local std::vector<float> scale;
  thread_local std::vector<int32_t> zero;
  if (p.quantized) group_tables(p, r0, lanes, scale, zero);
  alignas(64) int32_t value_first[lanes];  // f32 values: element index of each row's first stored value
  for (int l = 0; l < lanes; ++l) value_first[l] = static_cast<int32_t>((r0 + l) * p.per_row);
  const bool one_code_read = slots * p.bits <= 32, one_index_read = slots * p.index_bits <= 32;
  window_tile tile;
  for (int64_t t = 0; t < windows; ++t) {
    const int64_t c0 = t * p.window_cols;
    const size_t g = static_cast<size_t>(p.groups == 1 ? 0 : c0 / p.group) * lanes;
    const __m512 sv = p.quantized ? _mm512_loadu_ps(scale.data() + g) : _mm512_setzero_ps();
    const __m512i zv = p.quantized ? _mm512_loadu_si512(zero.data() + g) : _mm512_setzero_si512();
    const __m512i vfirst = _mm512_load_si512(value_first);
    // A window's fields take one 8-byte read per row when they fit in 32 bits (after the <= 7-bit
    // shift), else one per half window; the shift registers run on across halves.
    __m512i codes = p.quantized ? gather_16(w.data.data, code_lo, code_hi, t * slots * p.bits) : _mm512_setzero_si512();
    __m512i columns = gather_16(w.indices.data, index_lo, index_hi, t * slots * p.index_bits);
    for (int h = 0; h * 8 < slots; ++h) {
      const int64_t slot = t * slots + h * 8;
      if (h > 0 && !one_code_read && p.quantized) codes = gather_16(w.data.data, code_lo, code_hi, slot * p.bits);
      if (h > 0 && !one_index_read) columns = gather_16(w.indices.data, index_lo, index_hi, slot * p.index_bits);
      for (int j = h * 8; j < slots && j < h * 8 + 8; ++j) {
        if (p.quantized) {
          const __m512i code = _mm512_sub_epi32(_mm512_and_si512(codes, code_mask), zv);
          _mm512_store_ps(tile.w[j], _mm512_mul_ps(sv, _mm512_cvtepi32_ps(code)));
        } else {
          const __m512i element = _mm512_add_epi32(vfirst, _mm512_set1_epi32(static_cast<int32_t>(t * slots + j)));
          _mm512_store_ps(tile.w[j], _mm512_i32gather_ps(element, w.data.data, 4));
        }
        _mm512_store_si512(tile.column[j], columns);
        codes = _mm512_srl_epi32(codes, code_shift);
        columns = _mm512_srl_epi32(columns, index_shift);
      }
    }
    int64_t b = 0;
    for (; b + 8 <= batch; b += 8) run_window<M, 8>(tile, p.window_groups, p.n, x + b * p.cols, p.cols, c0, acc + b * acc_stride, acc_stride);
    const float* xb = x + b * p.cols;
    float* ab = acc + b * acc_stride;
    switch (batch - b) {
      case 7: run_window<M, 7>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 6: run_window<M, 6>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 5: run_window<M, 5>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 4: run_window<M, 4>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 3: run_window<M, 3>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 2: run_window<M, 2>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      case 1: run_window<M, 1>(tile, p.window_groups, p.n, xb, p.cols, c0, ab, acc_stride); break;
      default: break;
    }
  }
}

}  // namespace
}  // namespace avx512_kernel

void block_avx512(const plan& p, int64_t r0, int64_t windows, const float* x, int64_t batch, float* acc, int64_t acc_stride) {
  switch (p.m) {
    case 2: avx512_kernel::block<2>(p, r0, windows, x, batch, acc, acc_stride); break;
    case 4: avx512_kernel::block<4>(p, r0, windows, x, batch, acc, acc_stride); break;
    default: avx512_kernel::block<8>(p, r0, windows, x, batch, acc, acc_stride); break;
  }
}

}  // namespace edgepack::sparse_linear_detail
#pragma GCC diagnostic pop
#endif

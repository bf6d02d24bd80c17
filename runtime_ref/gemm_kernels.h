// Packed, register-blocked f32 GEMM C[M, N] = A[M, K] · B[K, N] for the runtime's dense products
// (MatMul, Gemm, Conv im2col, ConvTranspose via blocked_product), with an AVX-512F variant, an
// AVX2+FMA variant and a portable one, chosen at run time by CPUID (core/cpu_features). The project
// builds for baseline x86-64, so the SIMD variants are compiled with target attributes, never assumed.
//
// Determinism across ISAs, blockings and thread counts: the kernels vectorise over output elements
// only. Every C[i, j] = sum_k A[i, k] B[k, j] is one chain of fused multiply-adds over k = 0, 1, ...
// in order, starting from +0 (std::fma in the portable variant, vfmadd in the others). Register
// blocking, packing, k-blocking (the chain's value is stored to C and reloaded exactly), row/column
// splitting and the thread that runs a block change nothing, so every variant, and any split of the
// columns of C, gives the same bits. The price: a CPU without hardware FMA (x86-64 before Haswell /
// Piledriver) runs the portable variant with the C library's exact software fma, which is slow.
#pragma once
#include <cstdint>
#include <vector>

namespace edgepack {

enum class gemm_isa { automatic, portable, avx2, avx512 };

const char* gemm_isa_name(gemm_isa isa);
// automatic and portable are always available; the others need CPU and OS support.
bool gemm_isa_available(gemm_isa isa);
// The fastest available variant for `automatic` (and for a requested variant this CPU lacks).
gemm_isa resolve_gemm_isa(gemm_isa requested);
// resolve_gemm_isa(automatic), computed once.
gemm_isa default_gemm_isa();

// A strided f32 matrix view: element (r, c) is data[r * row_stride + c * col_stride]. Covers
// row-major, column-major (transposed) and sliced operands.
struct gemm_view {
  const float* data = nullptr;
  int64_t row_stride = 0, col_stride = 1;
};

// Per-thread packed panels, reused from call to call.
struct gemm_workspace {
  std::vector<float> a, b;
};

// C[i, j] = sum_{k < K} A[i, k] B[k, j] for i < m, j < n (C overwritten; row stride ldc, column
// stride 1; K = 0 gives zeros). C must not alias A or B. `isa` must be resolved (not automatic).
void gemm_f32(gemm_isa isa, int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc, gemm_workspace& ws);

// Same with the default ISA and a thread-local workspace.
void gemm_f32(int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc);

}  // namespace edgepack

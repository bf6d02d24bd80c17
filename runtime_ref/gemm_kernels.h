// Packed, register-blocked f32 (and f64) GEMM C[M, N] = A[M, K] · B[K, N] for the runtime's dense
// products (MatMul, Gemm, Conv im2col, ConvTranspose via blocked_product) and for GPTQ / SparseGPT
// (lazy-batch updates, passes/lazy_batch.h; inverse factor, passes/gptq_inverse.h), with an
// AVX-512F variant, an AVX2+FMA variant and a portable one, chosen at run time by CPUID
// (core/cpu_features). The project builds for baseline x86-64, so the SIMD variants are compiled
// with target attributes, never assumed.
//
// Determinism across ISAs, blockings and thread counts: the kernels vectorise over output elements
// only. Every C[i, j] = sum_k A[i, k] B[k, j] is one chain of fused multiply-adds over k = 0, 1, ...
// in order, starting from +0 (std::fma in the portable variant, vfmadd in the others; C's old
// value for gemm_update::add / subtract). Register
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
// The concrete variants this CPU runs (portable first): what ISA-identity tests and benches loop over.
std::vector<gemm_isa> available_gemm_isas();
// The fastest available variant for `automatic` (and for a requested variant this CPU lacks).
gemm_isa resolve_gemm_isa(gemm_isa requested);
// The variant the default-ISA entry points use: resolve_gemm_isa(automatic), computed once, unless
// force_default_gemm_isa chose another.
gemm_isa default_gemm_isa();
// Process-wide override of default_gemm_isa (resolved; `automatic` restores the CPUID choice), so
// tests can run whole algorithms (GPTQ, SparseGPT) on every variant and compare their bits. Call it
// only while no product is running.
void force_default_gemm_isa(gemm_isa isa);

// A strided matrix view: element (r, c) is data[r * row_stride + c * col_stride]. Covers
// row-major, column-major (transposed) and sliced operands.
template <class T>
struct basic_gemm_view {
  const T* data = nullptr;
  int64_t row_stride = 0, col_stride = 1;
};
using gemm_view = basic_gemm_view<float>;
using gemm_view_f64 = basic_gemm_view<double>;

// How the product meets C's old contents. overwrite: C = A·B, every chain starts from +0. add /
// subtract: C = C ± A·B, every chain starts from C's old value and runs fma(±A[i, k], B[k, j], acc)
// for k up (A's entries are negated exactly when packed), so a product split along k into several
// calls in k order gives the same bits as one call, and as a loop of rank-1 std::fma updates.
enum class gemm_update { overwrite, add, subtract };

// Per-thread packed panels, reused from call to call.
template <class T>
struct basic_gemm_workspace {
  std::vector<T> a, b;
};
using gemm_workspace = basic_gemm_workspace<float>;
using gemm_workspace_f64 = basic_gemm_workspace<double>;

// C[i, j] (=, +=, -=) sum_{k < K} A[i, k] B[k, j] for i < m, j < n (row stride ldc, column stride 1;
// K = 0 gives zeros for overwrite and leaves C alone otherwise). C must not alias A or B. `isa`
// must be resolved (not automatic).
void gemm_f32(gemm_isa isa, int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc, gemm_workspace& ws,
              gemm_update update = gemm_update::overwrite);

// Same with the default ISA and a thread-local workspace.
void gemm_f32(int64_t m, int64_t n, int64_t k, gemm_view a, gemm_view b, float* c, int64_t ldc, gemm_update update = gemm_update::overwrite);

// The same kernels on doubles (half the lanes per vector; same chain rule, so the same bits on
// every ISA). For the inverse-Hessian factor of GPTQ and SparseGPT (passes/gptq_inverse.h).
void gemm_f64(gemm_isa isa, int64_t m, int64_t n, int64_t k, gemm_view_f64 a, gemm_view_f64 b, double* c, int64_t ldc, gemm_workspace_f64& ws,
              gemm_update update = gemm_update::overwrite);
void gemm_f64(int64_t m, int64_t n, int64_t k, gemm_view_f64 a, gemm_view_f64 b, double* c, int64_t ldc, gemm_update update = gemm_update::overwrite);

}  // namespace edgepack

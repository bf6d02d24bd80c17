// Packed, register-blocked f32 kernels for one tile of X^T X (the Hessian's building block), with
// an AVX-512F variant, an AVX2+FMA variant and a portable one, chosen at run time by CPUID.
//
// Determinism across ISAs: the kernels vectorise over output elements only. Every output element
// C[a, b] = sum_k X[k, i0 + a] * X[k, j0 + b] is one chain of fused multiply-adds over k = 0, 1, ...
// in row order, starting from +0 (std::fma in the portable variant, vfmadd in the others). Register
// blocking, packing, k-blocking (the chain's value is stored and reloaded exactly) and the thread
// that runs a tile change nothing, so every variant gives the same bits. The price: a CPU without
// hardware FMA (x86-64 before Haswell / Piledriver) runs the portable variant with the C library's
// exact software fma, which is slow.
#pragma once
#include <cstdint>
#include <vector>

namespace edgepack {

enum class syrk_isa { automatic, portable, avx2, avx512 };

const char* syrk_isa_name(syrk_isa isa);
// automatic and portable are always available; the others need CPU and OS support.
bool syrk_isa_available(syrk_isa isa);
// The fastest available variant for `automatic` (and for a requested variant this CPU lacks).
syrk_isa resolve_syrk_isa(syrk_isa requested);

// Per-thread packed panels, reused from tile to tile.
struct syrk_workspace {
  std::vector<float> a, b, c;
};

struct syrk_tile_spec {
  int64_t i0 = 0, ni = 0;  // output rows: columns i0 .. i0 + ni of X
  int64_t j0 = 0, nj = 0;  // output columns: columns j0 .. j0 + nj of X
  bool lower_only = false; // only entries with i0 + a >= j0 + b are needed (diagonal tiles)
};

// Computes the f32 tile T[a, b] = sum_{k < rows} X[k, i0 + a] X[k, j0 + b] for X row-major with
// leading dimension ld, and adds it into sum[(i0 + a) * ld_sum + j0 + b] in double (lower_only:
// entries with i0 + a >= j0 + b only). `isa` must be resolved (not automatic).
void syrk_tile_add(syrk_isa isa, const float* x, int64_t rows, int64_t ld, const syrk_tile_spec& tile, double* sum, int64_t ld_sum,
                   syrk_workspace& ws);

}  // namespace edgepack

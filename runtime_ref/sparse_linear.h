// Linear layers whose weight is stored sparse (core/sparsity.h), optionally quantized: computed on
// the packed form directly instead of decoding the weight to dense f32 first.
//   y[b, r] = x[b, :] · W[r, :]   (W [out, in] in its default matrix view: Gemm B with transB = 1)
//
// Exactness invariant (docs/runtime_ops.md, "Packed sparse linear"): every output is the same
// single FMA chain the dense GEMM (runtime_ref/gemm_kernels.h) computes on the decoded weight,
//   acc = +0; for c = 0, 1, ..., in - 1: acc = fma(x[b, c], W[r, c], acc)
// except that the pruned columns are skipped. A pruned weight decodes to ±0 and, for finite x,
// fma(x, ±0, acc) == acc, so skipping it changes nothing, with one exception: when acc is -0 and
// the skipped product is +0 the dense chain yields +0. Hence, for finite inputs, every output equals
// the dense-decoded result bit for bit, except that an output which is exactly zero may come out
// -0 here where the dense product gives +0 (equal as floats). Inputs with inf or NaN at a pruned
// column (inf * 0 = NaN in the dense chain) and non-finite scales are outside the invariant.
// Stored weights are decoded exactly as core/quant_codes does (scale * float(code - zero), an exact
// product for codes of at most 8 bits), so the chain sees the very same weight values.
//
// The fast kernels (AVX-512F, AVX2+FMA, picked at run time like the dense GEMM's) vectorise over 16
// (8) output rows per register and run each lane's chain in column order; the portable kernel and
// the tail columns run the same chains one row at a time. All variants and thread counts give the
// same bits.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "runtime_ref/gemm_kernels.h"

namespace edgepack {

// True when sparse_linear can run `w`: sparse, 2-D, default view (cols = in), float or quantized values.
bool sparse_linear_supported(const tensor& w);

struct sparse_linear_options {
  gemm_isa isa = gemm_isa::automatic;  // a variant this CPU lacks falls back like resolve_gemm_isa
  int threads = 0;                     // 0: kernel_threads()
};

// y [batch, out] = x [batch, in] · Wᵀ on the packed weight. Blocks of 16 output rows are split
// over threads; the split never changes a bit.
void sparse_linear(const tensor& w, const float* x, int64_t batch, float* y, const sparse_linear_options& options = {});

// The naive definition: decodes W to dense f32 (decode_sparse_rows) and runs the FMA chain above
// over every column, one output at a time. Slow; for tests and as the judge of the fast kernels.
void sparse_linear_reference(const tensor& w, const float* x, int64_t batch, float* y);

}  // namespace edgepack

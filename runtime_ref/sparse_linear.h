// Fast path for linear layers whose weight is stored sparse (core/sparsity.h): computes on the
// packed form directly instead of decoding the weight to dense f32 first.
//   y[b, r] = sum over the stored values (r, c) of row r:  value(r, c) * x[b, c]
// where value = scale[r, g] * (code - zero[r, g]) for quantized weights (g = c / group_size) and
// the stored float for dense ones. Weight W is [out, in] in its default matrix view (Gemm B with
// transB = 1, the LLM linears). Per row and quantization group the kernel sums (code - zero) * x in
// float and multiplies by the scale once per group, so results differ from the dense-decoded
// product only by float rounding (tests/runtime_ref/sparse_linear_test.cpp bounds it).
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace edgepack {

// True when sparse_linear can run `w`: sparse, 2-D, default view (cols = in), float or quantized values.
bool sparse_linear_supported(const tensor& w);

// y [batch, out] = x [batch, in] · Wᵀ. Rows of W are split over kernel_threads(); each output is
// summed by one thread in a fixed order, so results do not depend on the thread count.
void sparse_linear(const tensor& w, const float* x, int64_t batch, float* y);

}  // namespace edgepack

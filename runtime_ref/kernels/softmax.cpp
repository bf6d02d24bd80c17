// Softmax with opset-13 semantics: normalise along one axis (default -1).
//
// Opset < 13 Softmax flattened the input to 2-D at `axis` and normalised over all trailing dims
// together (default axis 1). A kernel sees only the node, not the model's opset, so it cannot
// pick between the two. The two agree whenever `axis` is the last dim or every dim after it is 1,
// which covers all the shared models (PP-OCR rec's axis 2 on rank 3 and axis 3 on rank 4; cls's
// axis 1 on rank 2). Loaders of opset < 13 graphs where they differ must rewrite the node as
// Flatten → Softmax(axis=1) → Reshape; see docs/runtime_ops.md.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime_ref/kernel.h"

namespace edgepack {

Status kernel_softmax(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) return io.fail("input must have rank >= 1");
  int64_t axis = io.op.int_attr("axis", -1);
  if (axis < -rank || axis >= rank) return io.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= x.shape[d];
  const int64_t extent = x.shape[axis];
  tensor out = tensor::allocate(dtype::f32, x.shape);
  const float* px = x.data_as<float>();
  float* y = out.mutable_data_as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * extent * inner + i;
      // Subtracting the max keeps exp() finite; the sum is in double so long axes stay accurate.
      float peak = -INFINITY;
      for (int64_t k = 0; k < extent; ++k) peak = std::fmax(peak, px[base + k * inner]);
      double sum = 0.0;
      for (int64_t k = 0; k < extent; ++k) {
        const float e = std::exp(px[base + k * inner] - peak);
        y[base + k * inner] = e;
        sum += e;
      }
      for (int64_t k = 0; k < extent; ++k) y[base + k * inner] = static_cast<float>(y[base + k * inner] / sum);
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// RMSNormalization (opset 23): Y = X / sqrt(mean(X^2 over axes [axis, rank)) + epsilon) * scale.
// Accumulates in double (stash_type float32 is the spec default; double only removes rounding noise).
#include <cmath>

#include "runtime_ref/kernel.h"

namespace edgepack {

Status kernel_rms_normalization(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& scale = *io.input(1);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = io.op.int_attr("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return io.fail("axis out of range");
  int64_t inner = 1;
  for (int64_t d = axis; d < rank; ++d) inner *= x.shape[d];
  if (scale.numel() != inner) return io.fail("scale has " + std::to_string(scale.numel()) + " elements, normalized size is " + std::to_string(inner));
  const double epsilon = io.op.float_attr("epsilon", 1e-5);
  tensor out = tensor::allocate(dtype::f32, x.shape);
  const float* px = x.data_as<float>();
  const float* ps = scale.data_as<float>();
  float* y = out.mutable_data_as<float>();
  const int64_t outer = inner == 0 ? 0 : x.numel() / inner;
  for (int64_t r = 0; r < outer; ++r) {
    double sum = 0.0;
    for (int64_t i = 0; i < inner; ++i) sum += static_cast<double>(px[r * inner + i]) * px[r * inner + i];
    const float inv = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(inner) + epsilon));
    for (int64_t i = 0; i < inner; ++i) y[r * inner + i] = px[r * inner + i] * inv * ps[i];
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

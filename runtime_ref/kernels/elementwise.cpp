// Add, Sub, Mul, Div, Pow (float, broadcasting).
#include <cmath>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernel.h"

namespace edgepack {

template <class Op>
static Status binary_float(kernel_io& io, Op op) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  const tensor& a = *io.input(0);
  const tensor& b = *io.input(1);
  auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) return io.fail("shapes " + shape_to_string(a.shape) + " and " + shape_to_string(b.shape) + " do not broadcast");
  tensor out = tensor::allocate(dtype::f32, *shape);
  float* y = out.mutable_data_as<float>();
  const float* pa = a.data_as<float>();
  const float* pb = b.data_as<float>();
  const int64_t count = out.numel();
  if (a.shape == b.shape) {
    for (int64_t i = 0; i < count; ++i) y[i] = op(pa[i], pb[i]);
  } else {
    const auto sa = broadcast_strides(a.shape, *shape);
    const auto sb = broadcast_strides(b.shape, *shape);
    const size_t rank = shape->size();
    std::vector<int64_t> index(rank, 0);
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < count; ++i) {
      y[i] = op(pa[ia], pb[ib]);
      // Odometer increment keeps input offsets in step without divisions.
      for (size_t d = rank; d-- > 0;) {
        ++index[d];
        ia += sa[d];
        ib += sb[d];
        if (index[d] < (*shape)[d]) break;
        ia -= sa[d] * index[d];
        ib -= sb[d] * index[d];
        index[d] = 0;
      }
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_add(kernel_io& io) { return binary_float(io, [](float x, float y) { return x + y; }); }
Status kernel_sub(kernel_io& io) { return binary_float(io, [](float x, float y) { return x - y; }); }
Status kernel_mul(kernel_io& io) { return binary_float(io, [](float x, float y) { return x * y; }); }
Status kernel_div(kernel_io& io) { return binary_float(io, [](float x, float y) { return x / y; }); }
// Float exponents only (the shared models' Pow nodes square or take roots of activations).
Status kernel_pow(kernel_io& io) { return binary_float(io, [](float x, float y) { return std::pow(x, y); }); }


}  // namespace edgepack

// Elementwise math: Sqrt, Exp, Log, Reciprocal, Sin, Cos (float; Sin/Cos build rotary tables) and Neg, Abs (float and int64, which shape
// arithmetic in exported graphs uses). Out-of-domain inputs give the IEEE result (NaN, ±inf) as
// ONNX Runtime does: they are data, not errors.
#include <cmath>

#include "runtime_ref/kernel.h"

namespace edgepack {

template <class T, class F>
static tensor map_values(const tensor& x, dtype type, F f) {
  tensor out = tensor::allocate(type, x.shape);
  const int64_t count = x.numel();
  const T* px = x.data_as<T>();
  T* y = out.mutable_data_as<T>();
  for (int64_t i = 0; i < count; ++i) y[i] = f(px[i]);
  return out;
}

template <class F>
static Status unary_float(kernel_io& io, F f) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  io.outputs[0] = map_values<float>(*io.input(0), dtype::f32, f);
  return Status::ok_status();
}

// F is generic (auto parameter) so one lambda serves both element types.
template <class F>
static Status unary_signed(kernel_io& io, F f) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  if (x.type == dtype::i64) {
    io.outputs[0] = map_values<int64_t>(x, dtype::i64, f);
    return Status::ok_status();
  }
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  io.outputs[0] = map_values<float>(x, dtype::f32, f);
  return Status::ok_status();
}

Status kernel_sqrt(kernel_io& io) { return unary_float(io, [](float v) { return std::sqrt(v); }); }
Status kernel_exp(kernel_io& io) { return unary_float(io, [](float v) { return std::exp(v); }); }
Status kernel_log(kernel_io& io) { return unary_float(io, [](float v) { return std::log(v); }); }
Status kernel_reciprocal(kernel_io& io) { return unary_float(io, [](float v) { return 1.0f / v; }); }
Status kernel_sin(kernel_io& io) { return unary_float(io, [](float v) { return std::sin(v); }); }
Status kernel_cos(kernel_io& io) { return unary_float(io, [](float v) { return std::cos(v); }); }
// Unsigned negation wraps where -INT64_MIN would be undefined behaviour.
Status kernel_neg(kernel_io& io) {
  return unary_signed(io, [](auto v) {
    if constexpr (std::is_integral_v<decltype(v)>) return static_cast<int64_t>(0 - static_cast<uint64_t>(v));
    else return -v;
  });
}
Status kernel_abs(kernel_io& io) {
  return unary_signed(io, [](auto v) {
    if constexpr (std::is_integral_v<decltype(v)>) return v < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(v)) : v;
    else return std::fabs(v);
  });
}

}  // namespace edgepack

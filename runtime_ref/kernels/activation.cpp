// Pointwise activations: Sigmoid, Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, Tanh (float).
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime_ref/kernel.h"

namespace edgepack {

// fmin(1, fmax(0, x)) (NaN gives 0), written with comparisons so it inlines: GCC calls libm's
// fmaxf/fminf for the std:: versions, which costs more than the rest of the activation.
static inline float unit_clamp(float x) { return x > 0.0f ? std::min(1.0f, x) : 0.0f; }

// Applies f to every element of input 0 into a fresh output of the same shape.
template <class F>
static Status map_float(kernel_io& io, F f) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  tensor out = tensor::allocate(dtype::f32, x.shape);
  const float* px = x.data_as<float>();
  float* y = out.mutable_data_as<float>();
  const int64_t count = x.numel();  // hoisted: the compiler cannot prove y does not alias x.shape
  for (int64_t i = 0; i < count; ++i) y[i] = f(px[i]);
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_sigmoid(kernel_io& io) {
  return map_float(io, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
}

Status kernel_relu(kernel_io& io) {
  return map_float(io, [](float v) { return v < 0.0f ? 0.0f : v; });
}

Status kernel_leaky_relu(kernel_io& io) {
  const float alpha = static_cast<float>(io.op.float_attr("alpha", 0.01));
  return map_float(io, [alpha](float v) { return v < 0.0f ? alpha * v : v; });
}

Status kernel_tanh(kernel_io& io) {
  return map_float(io, [](float v) { return std::tanh(v); });
}

Status kernel_hard_sigmoid(kernel_io& io) {
  const float alpha = static_cast<float>(io.op.float_attr("alpha", 0.2));
  const float beta = static_cast<float>(io.op.float_attr("beta", 0.5));
  return map_float(io, [alpha, beta](float v) { return unit_clamp(alpha * v + beta); });
}

// HardSwish(x) = x · HardSigmoid(x) with alpha 1/6, beta 0.5 fixed by the spec.
Status kernel_hard_swish(kernel_io& io) {
  return map_float(io, [](float v) { return v * unit_clamp(v / 6.0f + 0.5f); });
}

// A Clip bound given as an input (opset >= 11): a scalar or a one-element tensor.
static Status clip_bound(const kernel_io& io, size_t index, float& bound) {
  const tensor* t = io.input(index);
  if (t == nullptr) return Status::ok_status();
  EP_RETURN_IF_ERROR(io.require_type(index, dtype::f32));
  if (t->numel() != 1 || t->shape.size() > 1)
    return io.fail(std::string(index == 1 ? "min" : "max") + " must be a scalar, got shape " + shape_to_string(t->shape));
  bound = t->data_as<float>()[0];
  return Status::ok_status();
}

// Clip: bounds come from inputs 1/2 (opset >= 11) or, for older opsets, the min/max attributes.
// A node never carries both forms, so reading whichever is present serves every opset.
Status kernel_clip(kernel_io& io) {
  float lo = static_cast<float>(io.op.float_attr("min", -std::numeric_limits<float>::infinity()));
  float hi = static_cast<float>(io.op.float_attr("max", std::numeric_limits<float>::infinity()));
  EP_RETURN_IF_ERROR(clip_bound(io, 1, lo));
  EP_RETURN_IF_ERROR(clip_bound(io, 2, hi));
  // min > max is legal ONNX: every output is max (min is applied first, then max).
  return map_float(io, [lo, hi](float v) { return v != v ? v : std::min(hi, std::max(lo, v)); });
}

}  // namespace edgepack

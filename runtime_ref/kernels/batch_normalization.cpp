// BatchNormalization, inference form: y = scale · (x − mean) / sqrt(var + epsilon) + bias per
// channel (dim 1). Training mode (the extra running-stat outputs) is rejected.
#include <cmath>

#include "runtime_ref/kernel.h"

namespace edgepack {

Status kernel_batch_normalization(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(5));
  for (size_t i = 0; i < 5; ++i) EP_RETURN_IF_ERROR(io.require_type(i, dtype::f32));
  if (io.op.int_attr("training_mode", 0) != 0) return io.fail("training_mode is not supported");
  for (size_t o = 1; o < io.op.outputs.size(); ++o)
    if (!io.op.outputs[o].empty()) return io.fail("running mean/var outputs (training) are not supported");
  const tensor& x = *io.input(0);
  if (x.shape.size() < 2) return io.fail("X must be [N, C, ...], got " + shape_to_string(x.shape));
  const int64_t channels = x.shape[1];
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i < 5; ++i) {
    const tensor& p = *io.input(i);
    if (p.shape.size() != 1 || p.shape[0] != channels)
      return io.fail(std::string(names[i - 1]) + " " + shape_to_string(p.shape) + " must be [" + std::to_string(channels) + "]");
  }
  const double epsilon = io.op.float_attr("epsilon", 1e-5);
  const int64_t area = channels == 0 || x.shape[0] == 0 ? 0 : x.numel() / (x.shape[0] * channels);
  tensor out = tensor::allocate(dtype::f32, x.shape);
  const float* px = x.data_as<float>();
  float* y = out.mutable_data_as<float>();
  for (int64_t n = 0; n < x.shape[0]; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      // Folded per channel in double, as an inference engine folds it once, then applied in float.
      const double inv = 1.0 / std::sqrt(static_cast<double>(io.input(4)->data_as<float>()[c]) + epsilon);
      const float gain = static_cast<float>(io.input(1)->data_as<float>()[c] * inv);
      const float shift = static_cast<float>(io.input(2)->data_as<float>()[c] - io.input(3)->data_as<float>()[c] * io.input(1)->data_as<float>()[c] * inv);
      const int64_t base = (n * channels + c) * area;
      for (int64_t i = 0; i < area; ++i) y[base + i] = px[base + i] * gain + shift;
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// MaxPool, AveragePool (1-D/2-D: kernel_shape, strides, pads, auto_pad, ceil_mode, dilations,
// count_include_pad) and GlobalAveragePool / GlobalMaxPool.
#include <algorithm>
#include <limits>
#include <vector>

#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

enum class pool_kind { max, average };

// Validates X and the window; allocates Y [N, C, out...].
static Status prepare_pool(kernel_io& io, window_2d& w, tensor& out) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  if (x.shape.size() < 3 || x.shape.size() > 4) return io.fail("X must be [N, C, W] or [N, C, H, W], got " + shape_to_string(x.shape));
  const std::vector<int64_t> kernel_shape = io.op.ints_attr("kernel_shape");
  if (kernel_shape.size() != x.shape.size() - 2)
    return io.fail("kernel_shape must have " + std::to_string(x.shape.size() - 2) + " values, got " + std::to_string(kernel_shape.size()));
  const int64_t ceil_mode = io.op.int_attr("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) return io.fail("ceil_mode must be 0 or 1");
  window_options options;
  options.ceil_mode = ceil_mode == 1;
  EP_RETURN_IF_ERROR(resolve_window(io, std::span<const int64_t>(x.shape.data() + 2, x.shape.size() - 2), kernel_shape, options, w));
  std::vector<int64_t> out_shape{x.shape[0], x.shape[1]};
  if (x.shape.size() == 4) out_shape.push_back(w.out[0]);
  out_shape.push_back(w.out[1]);
  const auto count = checked_element_count(out_shape);
  if (!count || *count > max_kernel_elements) return io.fail("output " + shape_to_string(out_shape) + " is too large");
  out = tensor::allocate(dtype::f32, out_shape);
  return Status::ok_status();
}

static Status pool(kernel_io& io, pool_kind kind) {
  if (kind == pool_kind::max && io.op.outputs.size() > 1 && !io.op.outputs[1].empty())
    return io.fail("the Indices output is not supported");
  window_2d w;
  tensor out;
  EP_RETURN_IF_ERROR(prepare_pool(io, w, out));
  const int64_t include_pad = io.op.int_attr("count_include_pad", 0);
  if (include_pad != 0 && include_pad != 1) return io.fail("count_include_pad must be 0 or 1");
  const tensor& x = *io.input(0);
  const int64_t planes = x.shape[0] * x.shape[1];
  const int64_t in_area = w.in[0] * w.in[1];
  float* y = out.mutable_data_as<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = x.data_as<float>() + p * in_area;
    for (int64_t oy = 0; oy < w.out[0]; ++oy) {
      for (int64_t ox = 0; ox < w.out[1]; ++ox) {
        const int64_t y0 = oy * w.stride[0] - w.pad_begin[0];
        const int64_t x0 = ox * w.stride[1] - w.pad_begin[1];
        float best = -std::numeric_limits<float>::infinity();
        double sum = 0.0;
        int64_t inside = 0, padded = 0;
        for (int64_t ki = 0; ki < w.kernel[0]; ++ki) {
          const int64_t iy = y0 + ki * w.dilation[0];
          for (int64_t kj = 0; kj < w.kernel[1]; ++kj) {
            const int64_t ix = x0 + kj * w.dilation[1];
            // Taps in the declared padding count toward the divisor when count_include_pad=1; taps
            // past it (a ceil_mode overhang) never do, as in ONNX Runtime.
            if (iy >= -w.pad_begin[0] && iy < w.in[0] + w.pad_end[0] && ix >= -w.pad_begin[1] && ix < w.in[1] + w.pad_end[1]) ++padded;
            if (iy < 0 || iy >= w.in[0] || ix < 0 || ix >= w.in[1]) continue;
            const float v = plane[iy * w.in[1] + ix];
            // NaN propagates through max, as std::max would silently drop it.
            if (v > best || v != v) best = best != best ? best : v;
            sum += v;
            ++inside;
          }
        }
        float value;
        if (kind == pool_kind::max) {
          value = best;
        } else {
          const int64_t divisor = include_pad ? padded : inside;
          value = divisor == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(divisor));
        }
        *y++ = value;
      }
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_max_pool(kernel_io& io) { return pool(io, pool_kind::max); }
Status kernel_average_pool(kernel_io& io) { return pool(io, pool_kind::average); }

// Global pools reduce every spatial dim of [N, C, ...] to 1; any spatial rank works.
static Status global_pool(kernel_io& io, pool_kind kind) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  if (x.shape.size() < 3) return io.fail("X must be [N, C, spatial...], got " + shape_to_string(x.shape));
  std::vector<int64_t> out_shape(x.shape.size(), 1);
  out_shape[0] = x.shape[0];
  out_shape[1] = x.shape[1];
  const int64_t planes = x.shape[0] * x.shape[1];
  const int64_t area = planes == 0 ? 0 : x.numel() / planes;
  if (area == 0 && planes != 0) return io.fail("spatial dims of " + shape_to_string(x.shape) + " are empty");
  tensor out = tensor::allocate(dtype::f32, out_shape);
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = x.data_as<float>() + p * area;
    if (kind == pool_kind::max) {
      float best = plane[0];
      for (int64_t i = 1; i < area; ++i)
        if (plane[i] > best || plane[i] != plane[i]) best = best != best ? best : plane[i];
      out.mutable_data_as<float>()[p] = best;
    } else {
      double sum = 0.0;  // double: a 1000×1000 plane would lose low bits in float
      for (int64_t i = 0; i < area; ++i) sum += plane[i];
      out.mutable_data_as<float>()[p] = static_cast<float>(sum / static_cast<double>(area));
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_global_average_pool(kernel_io& io) { return global_pool(io, pool_kind::average); }
Status kernel_global_max_pool(kernel_io& io) { return global_pool(io, pool_kind::max); }

}  // namespace edgepack

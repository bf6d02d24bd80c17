// Conv (1-D and 2-D): group (incl. depthwise), strides, dilations, pads, auto_pad, bias.
// Each (image, group) pair is lowered to one GEMM: W_g [M/g, C/g·kh·kw] × im2col [C/g·kh·kw, oh·ow],
// run by gemm_f32 (runtime_ref/gemm_kernels.h) via blocked_product; depthwise convolutions (one input channel per group) run a direct loop instead.
// The naive definition is conv_naive (runtime_ref/naive_kernels.h); tests compare the two.
// Threads (kernel_threads()) split fixed blocks of output columns or planes, never a reduction,
// so the bytes do not depend on the thread count.
#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Unrolls the receptive fields of one group's channels into columns: row (c, ki, kj), column (oy, ox).
// Taps that fall into the padding read zero.
static void im2col(const float* x, int64_t channels, const window_2d& w, float* col) {
  const int64_t out_area = w.out[0] * w.out[1];
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = x + c * w.in[0] * w.in[1];
    for (int64_t ki = 0; ki < w.kernel[0]; ++ki) {
      for (int64_t kj = 0; kj < w.kernel[1]; ++kj) {
        float* row = col + ((c * w.kernel[0] + ki) * w.kernel[1] + kj) * out_area;
        for (int64_t oy = 0; oy < w.out[0]; ++oy) {
          const int64_t iy = oy * w.stride[0] - w.pad_begin[0] + ki * w.dilation[0];
          float* dst = row + oy * w.out[1];
          if (iy < 0 || iy >= w.in[0]) {
            std::fill(dst, dst + w.out[1], 0.0f);
            continue;
          }
          const float* src = plane + iy * w.in[1];
          for (int64_t ox = 0; ox < w.out[1]; ++ox) {
            const int64_t ix = ox * w.stride[1] - w.pad_begin[1] + kj * w.dilation[1];
            dst[ox] = ix < 0 || ix >= w.in[1] ? 0.0f : src[ix];
          }
        }
      }
    }
  }
}

// One output plane of a depthwise conv: out = bias + Σ taps, taps in (ki, kj) order, each tap a
// contiguous run over the output columns whose input column lies inside the image.
static void depthwise_plane(const float* plane, const float* kernel, float bias, const window_2d& w, float* out) {
  const int64_t s1 = w.stride[1];
  for (int64_t oy = 0; oy < w.out[0]; ++oy) {
    float* row = out + oy * w.out[1];
    std::fill(row, row + w.out[1], bias);
    for (int64_t ki = 0; ki < w.kernel[0]; ++ki) {
      const int64_t iy = oy * w.stride[0] - w.pad_begin[0] + ki * w.dilation[0];
      if (iy < 0 || iy >= w.in[0]) continue;
      const float* src = plane + iy * w.in[1];
      for (int64_t kj = 0; kj < w.kernel[1]; ++kj) {
        const float tap = kernel[ki * w.kernel[1] + kj];
        const int64_t offset = kj * w.dilation[1] - w.pad_begin[1];  // ix = ox * s1 + offset
        const int64_t lo = offset >= 0 ? 0 : (-offset + s1 - 1) / s1;
        const int64_t hi = offset > w.in[1] - 1 ? 0 : std::min(w.out[1], (w.in[1] - 1 - offset) / s1 + 1);
        if (s1 == 1) {
          for (int64_t ox = lo; ox < hi; ++ox) row[ox] += tap * src[ox + offset];
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) row[ox] += tap * src[ox * s1 + offset];
        }
      }
    }
  }
}

Status kernel_conv(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(2, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& weight = *io.input(1);
  const tensor* bias = io.input(2);
  if (x.shape.size() < 3 || x.shape.size() > 4) return io.fail("X must be [N, C, W] or [N, C, H, W], got " + shape_to_string(x.shape));
  if (weight.shape.size() != x.shape.size())
    return io.fail("W " + shape_to_string(weight.shape) + " must have the rank of X " + shape_to_string(x.shape));
  const int64_t batch = x.shape[0], channels = x.shape[1], maps = weight.shape[0], group_channels = weight.shape[1];
  const int64_t group = io.op.int_attr("group", 1);
  if (group < 1 || group > channels || channels % group != 0)
    return io.fail("group " + std::to_string(group) + " must divide the " + std::to_string(channels) + " input channels");
  if (group_channels * group != channels)
    return io.fail("W " + shape_to_string(weight.shape) + " expects " + std::to_string(group_channels * group) + " input channels, X has " +
                   std::to_string(channels));
  if (maps < 1 || maps % group != 0) return io.fail("group " + std::to_string(group) + " must divide the " + std::to_string(maps) + " output channels");
  if (bias != nullptr && (bias->shape.size() != 1 || bias->shape[0] != maps))
    return io.fail("B " + shape_to_string(bias->shape) + " must be [" + std::to_string(maps) + "]");
  const std::span<const int64_t> kernel_dims(weight.shape.data() + 2, weight.shape.size() - 2);
  if (auto declared = io.op.ints_attr("kernel_shape"); !declared.empty() && !std::equal(declared.begin(), declared.end(), kernel_dims.begin(), kernel_dims.end()))
    return io.fail("kernel_shape does not match W " + shape_to_string(weight.shape));
  window_2d w;
  EP_RETURN_IF_ERROR(resolve_window(io, std::span<const int64_t>(x.shape.data() + 2, x.shape.size() - 2), kernel_dims, {}, w));

  std::vector<int64_t> out_shape{batch, maps};
  if (x.shape.size() == 4) out_shape.push_back(w.out[0]);
  out_shape.push_back(w.out[1]);
  // Sizes are checked as shapes before any product is formed, so hostile dims cannot overflow.
  const auto out_count = checked_element_count(out_shape);
  const std::vector<int64_t> col_shape{group_channels, w.kernel[0], w.kernel[1], w.out[0], w.out[1]};
  const auto col_count = checked_element_count(col_shape);
  if (!out_count || !col_count || *out_count > max_kernel_elements || *col_count > max_kernel_elements)
    return io.fail("output " + shape_to_string(out_shape) + " or its im2col buffer is too large");
  const int64_t out_area = w.out[0] * w.out[1];
  const int64_t taps = group_channels * w.kernel[0] * w.kernel[1];

  tensor out = tensor::allocate(dtype::f32, out_shape);
  const int64_t maps_per_group = maps / group;
  const int64_t in_area = w.in[0] * w.in[1];
  const int threads = kernel_threads();
  const float* xdata = x.data_as<float>();
  const float* wdata = weight.data_as<float>();
  const float* bdata = bias != nullptr ? bias->data_as<float>() : nullptr;
  float* ydata = out.mutable_data_as<float>();
  if (group_channels == 1) {
    // Depthwise: output map m of image n reads input channel m / maps_per_group only.
    parallel_for(batch * maps, out_area * taps < 4096 ? 1 : threads, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int64_t n = p / maps, m = p % maps;
        depthwise_plane(xdata + (n * channels + m / maps_per_group) * in_area, wdata + m * taps, bdata ? bdata[m] : 0.0f, w,
                        ydata + p * out_area);
      }
    });
    io.outputs[0] = std::move(out);
    return Status::ok_status();
  }
  // A 1×1, stride-1, unpadded window's im2col is the input itself: skip the copy.
  const bool pointwise = taps == group_channels && w.stride[0] == 1 && w.stride[1] == 1 && w.pad_begin[0] == 0 && w.pad_begin[1] == 0 &&
                         w.out[0] == w.in[0] && w.out[1] == w.in[1];
  std::vector<float> col(pointwise ? 0 : static_cast<size_t>(*col_count));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < group; ++g) {
      const float* xg = xdata + (n * channels + g * group_channels) * in_area;
      const float* columns = xg;
      if (!pointwise) {
        im2col(xg, group_channels, w, col.data());
        columns = col.data();
      }
      Eigen::Map<const row_major> wg(wdata + g * maps_per_group * taps, maps_per_group, taps);
      Eigen::Map<const row_major> cg(columns, taps, out_area);
      Eigen::Map<row_major> yg(ydata + (n * maps + g * maps_per_group) * out_area, maps_per_group, out_area);
      blocked_product(yg, wg, cg);
      if (bdata != nullptr)
        for (int64_t m = 0; m < maps_per_group; ++m) yg.row(m).array() += bdata[g * maps_per_group + m];
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// ConvTranspose (1-D and 2-D): group, strides, dilations, pads, output_padding, bias.
// Each (image, group) runs one GEMM, cols = W_gᵀ [M/g·kh·kw, C/g] × X_g [C/g, h·w], whose columns
// are then scattered (col2im) onto the output: the adjoint of Conv's im2col lowering.
// output_shape and auto_pad SAME_* are rejected (no shared model uses them).
// conv_transpose_naive (runtime_ref/naive_kernels.h) is the definition the tests compare against.
#include <Eigen/Core>
#include <vector>

#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Status kernel_conv_transpose(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  for (size_t i = 0; i < 3; ++i) EP_RETURN_IF_ERROR(io.require_type(i, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& weight = *io.input(1);
  const tensor* bias = io.input(2);
  if (x.shape.size() < 3 || x.shape.size() > 4) return io.fail("X must be [N, C, W] or [N, C, H, W], got " + shape_to_string(x.shape));
  if (weight.shape.size() != x.shape.size()) return io.fail("W " + shape_to_string(weight.shape) + " must have the rank of X " + shape_to_string(x.shape));
  const size_t rank = x.shape.size() - 2;
  const int64_t batch = x.shape[0], channels = x.shape[1];
  const int64_t group = io.op.int_attr("group", 1);
  if (group < 1 || group > channels || channels % group != 0)
    return io.fail("group " + std::to_string(group) + " must divide the " + std::to_string(channels) + " input channels");
  if (weight.shape[0] != channels) return io.fail("W " + shape_to_string(weight.shape) + " must have " + std::to_string(channels) + " input channels");
  const int64_t maps_per_group = weight.shape[1];
  const int64_t maps = maps_per_group * group;
  if (bias != nullptr && (bias->shape.size() != 1 || bias->shape[0] != maps))
    return io.fail("B " + shape_to_string(bias->shape) + " must be [" + std::to_string(maps) + "]");
  if (io.op.attributes.count("output_shape")) return io.fail("output_shape is not supported; give pads instead");
  const std::string auto_pad = string_attr(io.op, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return io.fail("auto_pad '" + auto_pad + "' is not supported");
  const std::span<const int64_t> kernel_dims(weight.shape.data() + 2, rank);
  if (auto declared = io.op.ints_attr("kernel_shape"); !declared.empty() && !std::equal(declared.begin(), declared.end(), kernel_dims.begin(), kernel_dims.end()))
    return io.fail("kernel_shape does not match W " + shape_to_string(weight.shape));
  std::vector<int64_t> strides, dilations, pads, output_padding;
  EP_RETURN_IF_ERROR(read_window_ints(io, "strides", rank, 1, 1, strides));
  EP_RETURN_IF_ERROR(read_window_ints(io, "dilations", rank, 1, 1, dilations));
  EP_RETURN_IF_ERROR(read_window_ints(io, "pads", 2 * rank, 0, 0, pads));
  EP_RETURN_IF_ERROR(read_window_ints(io, "output_padding", rank, 0, 0, output_padding));
  if (auto_pad == "VALID") pads.assign(2 * rank, 0);
  window_2d w;  // here `in` is X's spatial size and `out` the (larger) result
  const size_t first = 2 - rank;
  for (size_t d = 0; d < rank; ++d) {
    const size_t s = first + d;
    w.in[s] = x.shape[2 + d];
    w.kernel[s] = kernel_dims[d];
    if (w.in[s] < 0 || w.in[s] >= (int64_t{1} << 40) || w.kernel[s] < 1 || w.kernel[s] >= max_window_attribute)
      return io.fail("spatial or kernel dim is out of range");
    w.stride[s] = strides[d];
    w.dilation[s] = dilations[d];
    w.pad_begin[s] = pads[d];
    w.pad_end[s] = pads[d + rank];
    if (output_padding[d] >= std::max(strides[d], dilations[d])) return io.fail("output_padding must be smaller than stride or dilation");
    w.out[s] = w.stride[s] * (w.in[s] - 1) + output_padding[d] + (w.kernel[s] - 1) * w.dilation[s] + 1 - w.pad_begin[s] - w.pad_end[s];
    if (w.in[s] == 0 || w.out[s] < 1) return io.fail("pads leave no output");
  }
  std::vector<int64_t> out_shape{batch, maps};
  if (rank == 2) out_shape.push_back(w.out[0]);
  out_shape.push_back(w.out[1]);
  const auto out_count = checked_element_count(out_shape);
  const std::vector<int64_t> col_shape{maps_per_group, w.kernel[0], w.kernel[1], w.in[0], w.in[1]};
  const auto col_count = checked_element_count(col_shape);
  if (!out_count || !col_count || *out_count > max_kernel_elements || *col_count > max_kernel_elements)
    return io.fail("output " + shape_to_string(out_shape) + " or its column buffer is too large");

  tensor out = tensor::allocate(dtype::f32, out_shape);
  const int64_t channels_per_group = channels / group;
  const int64_t taps = maps_per_group * w.kernel[0] * w.kernel[1];
  const int64_t in_area = w.in[0] * w.in[1], out_area = w.out[0] * w.out[1];
  row_major cols(taps, in_area);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < group; ++g) {
      Eigen::Map<const row_major> wg(weight.data_as<float>() + g * channels_per_group * taps, channels_per_group, taps);
      Eigen::Map<const row_major> xg(x.data_as<float>() + (n * channels + g * channels_per_group) * in_area, channels_per_group, in_area);
      blocked_product(cols, wg.transpose(), xg);
      float* yg = out.mutable_data_as<float>() + (n * maps + g * maps_per_group) * out_area;
      for (int64_t m = 0; m < maps_per_group; ++m) {
        float* plane = yg + m * out_area;
        for (int64_t ki = 0; ki < w.kernel[0]; ++ki) {
          for (int64_t kj = 0; kj < w.kernel[1]; ++kj) {
            const float* row = cols.data() + ((m * w.kernel[0] + ki) * w.kernel[1] + kj) * in_area;
            for (int64_t iy = 0; iy < w.in[0]; ++iy) {
              const int64_t oy = iy * w.stride[0] - w.pad_begin[0] + ki * w.dilation[0];
              if (oy < 0 || oy >= w.out[0]) continue;
              for (int64_t ix = 0; ix < w.in[1]; ++ix) {
                const int64_t ox = ix * w.stride[1] - w.pad_begin[1] + kj * w.dilation[1];
                if (ox >= 0 && ox < w.out[1]) plane[oy * w.out[1] + ox] += row[iy * w.in[1] + ix];
              }
            }
          }
        }
        if (bias != nullptr)
          for (int64_t i = 0; i < out_area; ++i) plane[i] += bias->data_as<float>()[g * maps_per_group + m];
      }
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

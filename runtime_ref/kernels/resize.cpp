// Resize (opset 11+ input form: X, roi, scales, sizes): mode nearest (all nearest_modes) on any
// rank, mode linear as bilinear over the last two dims; coordinate_transformation_mode
// half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn.
// tf_crop_and_resize (the only user of roi), cubic and antialias are rejected.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

namespace {

struct resize_axis {
  int64_t in = 1, out = 1;
  double scale = 1.0;
};

// Maps an output coordinate to the input coordinate it samples.
double source_coordinate(const std::string& mode, const resize_axis& a, int64_t x) {
  const double xr = static_cast<double>(x);
  if (mode == "asymmetric") return xr / a.scale;
  if (mode == "align_corners") return a.out == 1 ? 0.0 : xr * static_cast<double>(a.in - 1) / static_cast<double>(a.out - 1);
  if (mode == "pytorch_half_pixel") return a.out > 1 ? (xr + 0.5) / a.scale - 0.5 : 0.0;
  if (mode == "tf_half_pixel_for_nn") return (xr + 0.5) / a.scale;
  return (xr + 0.5) / a.scale - 0.5;  // half_pixel
}

int64_t nearest_index(const std::string& mode, double v, int64_t in) {
  double r;
  if (mode == "floor") r = std::floor(v);
  else if (mode == "ceil") r = std::ceil(v);
  else if (mode == "round_prefer_ceil") r = std::floor(v + 0.5);
  else r = std::ceil(v - 0.5);  // round_prefer_floor: halves go down
  return std::clamp<int64_t>(static_cast<int64_t>(std::clamp(r, -1.0, static_cast<double>(in))), 0, in - 1);
}

}  // namespace

Status kernel_resize(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const std::string mode = string_attr(io.op, "mode", "nearest");
  const std::string transform = string_attr(io.op, "coordinate_transformation_mode", "half_pixel");
  const std::string nearest_mode = string_attr(io.op, "nearest_mode", "round_prefer_floor");
  if (mode != "nearest" && mode != "linear") return io.fail("mode '" + mode + "' is not supported (nearest, linear)");
  if (transform != "half_pixel" && transform != "pytorch_half_pixel" && transform != "align_corners" && transform != "asymmetric" &&
      transform != "tf_half_pixel_for_nn")
    return io.fail("coordinate_transformation_mode '" + transform + "' is not supported");
  if (nearest_mode != "round_prefer_floor" && nearest_mode != "round_prefer_ceil" && nearest_mode != "floor" && nearest_mode != "ceil")
    return io.fail("nearest_mode '" + nearest_mode + "' is not supported");
  if (io.op.int_attr("antialias", 0) != 0) return io.fail("antialias is not supported");
  if (io.op.attributes.count("axes")) return io.fail("the axes attribute is not supported");

  const tensor* scales = io.input(2);
  const tensor* sizes = io.input(3);
  if (scales != nullptr && scales->numel() == 0) scales = nullptr;  // opset 11: empty scales means "use sizes"
  if ((scales == nullptr) == (sizes == nullptr)) return io.fail("exactly one of scales and sizes must be given");
  std::vector<resize_axis> axes(rank);
  for (int64_t d = 0; d < rank; ++d) axes[d].in = x.shape[d];
  if (scales != nullptr) {
    EP_RETURN_IF_ERROR(io.require_type(2, dtype::f32));
    if (scales->numel() != rank) return io.fail("scales has " + std::to_string(scales->numel()) + " values for rank " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d) {
      const double s = scales->data_as<float>()[d];
      if (!(s > 0.0) || s > 1e6) return io.fail("scale " + std::to_string(s) + " is out of range");
      axes[d].scale = s;
      // Checked in double first: a huge dim of an empty tensor must not overflow the cast.
      const double size = std::floor(static_cast<double>(x.shape[d]) * s);
      if (size >= 9e15) return io.fail("scaled size of dim " + std::to_string(d) + " is too large");
      axes[d].out = static_cast<int64_t>(size);
      // align_corners divides by (length_resized - 1): ONNX's reference takes length_resized =
      // in * scale, ONNX Runtime the integer output size. They differ when in * scale is not
      // whole, so that case is refused rather than answered one way.
      if (transform == "align_corners" && size != static_cast<double>(x.shape[d]) * s)
        return io.fail("align_corners with scales that do not give a whole output size on dim " + std::to_string(d) +
                       " is ambiguous (ONNX's reference and ONNX Runtime disagree); give sizes instead");
    }
  } else {
    EP_RETURN_IF_ERROR(io.require_type(3, dtype::i64));
    if (sizes->numel() != rank) return io.fail("sizes has " + std::to_string(sizes->numel()) + " values for rank " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d) {
      axes[d].out = sizes->data_as<int64_t>()[d];
      if (axes[d].out < 0) return io.fail("sizes must be >= 0");
      axes[d].scale = x.shape[d] == 0 ? 1.0 : static_cast<double>(axes[d].out) / static_cast<double>(x.shape[d]);
    }
  }
  std::vector<int64_t> out_shape(rank);
  for (int64_t d = 0; d < rank; ++d) {
    out_shape[d] = axes[d].out;
    if (axes[d].out > 0 && axes[d].in == 0) return io.fail("cannot resize an empty dim to " + std::to_string(axes[d].out));
  }
  const auto count = checked_element_count(out_shape);
  if (!count || *count > max_kernel_elements) return io.fail("output " + shape_to_string(out_shape) + " is too large");
  tensor out = tensor::allocate(dtype::f32, out_shape);
  if (*count == 0) {
    io.outputs[0] = std::move(out);
    return Status::ok_status();
  }
  const float* px = x.data_as<float>();
  float* y = out.mutable_data_as<float>();
  std::vector<int64_t> in_strides(rank, 1);
  for (int64_t d = rank - 1; d > 0; --d) in_strides[d - 1] = in_strides[d] * x.shape[d];

  if (mode == "nearest") {
    // Per-dim source index tables, then an odometer over the output.
    std::vector<std::vector<int64_t>> source(rank);
    for (int64_t d = 0; d < rank; ++d)
      for (int64_t i = 0; i < axes[d].out; ++i) source[d].push_back(nearest_index(nearest_mode, source_coordinate(transform, axes[d], i), axes[d].in));
    std::vector<int64_t> index(rank, 0);
    for (uint64_t i = 0; i < *count; ++i) {
      int64_t offset = 0;
      for (int64_t d = 0; d < rank; ++d) offset += source[d][index[d]] * in_strides[d];
      y[i] = px[offset];
      for (int64_t d = rank; d-- > 0;) {
        if (++index[d] < out_shape[d]) break;
        index[d] = 0;
      }
    }
    io.outputs[0] = std::move(out);
    return Status::ok_status();
  }

  // Linear: bilinear over the last two dims; leading dims must keep their size.
  if (rank < 2) return io.fail("linear mode needs rank >= 2");
  for (int64_t d = 0; d + 2 < rank; ++d)
    if (axes[d].out != axes[d].in) return io.fail("linear mode resizes only the last two dims");
  const resize_axis& ah = axes[rank - 2];
  const resize_axis& aw = axes[rank - 1];
  struct tap {
    int64_t lo, hi;
    float frac;
  };
  // Source coordinates clamp to the input range, so edge outputs repeat the border value.
  auto taps = [&](const resize_axis& a) {
    std::vector<tap> t;
    for (int64_t i = 0; i < a.out; ++i) {
      const double v = std::clamp(source_coordinate(transform, a, i), 0.0, static_cast<double>(a.in - 1));
      const int64_t lo = static_cast<int64_t>(std::floor(v));
      t.push_back({lo, std::min(lo + 1, a.in - 1), static_cast<float>(v - static_cast<double>(lo))});
    }
    return t;
  };
  const auto th = taps(ah), tw = taps(aw);
  const int64_t planes = static_cast<int64_t>(*count) / (ah.out * aw.out);
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = px + p * ah.in * aw.in;
    for (const tap& ty : th) {
      for (const tap& tx : tw) {
        const float top = plane[ty.lo * aw.in + tx.lo] * (1 - tx.frac) + plane[ty.lo * aw.in + tx.hi] * tx.frac;
        const float bottom = plane[ty.hi * aw.in + tx.lo] * (1 - tx.frac) + plane[ty.hi * aw.in + tx.hi] * tx.frac;
        *y++ = top * (1 - ty.frac) + bottom * ty.frac;
      }
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// ReduceMean, ReduceSum, ReduceMax, ReduceMin over float: axes as an attribute (before opset 18)
// or as input 1 (opset 18+; ReduceSum from 13), keepdims, noop_with_empty_axes. Sums accumulate
// in double so long reductions (audio frames, LayerNorm rows) stay accurate.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime_ref/kernel.h"

namespace edgepack {

enum class reduce_kind { mean, sum, max, min };

static Status reduce(kernel_io& io, reduce_kind kind) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> axes;
  if (const tensor* t = io.input(1)) {
    EP_RETURN_IF_ERROR(io.require_type(1, dtype::i64));
    if (t->shape.size() > 1) return io.fail("axes must be 1-D, got " + shape_to_string(t->shape));
    axes.assign(t->data_as<int64_t>(), t->data_as<int64_t>() + t->numel());
  } else {
    axes = io.op.ints_attr("axes");
  }
  const bool keep = io.op.int_attr("keepdims", 1) != 0;
  if (axes.empty() && io.op.int_attr("noop_with_empty_axes", 0) != 0) {
    io.outputs[0] = x;
    return Status::ok_status();
  }
  std::vector<bool> reduced(rank, axes.empty());  // no axes: reduce everything
  for (int64_t axis : axes) {
    if (axis < -rank || axis >= rank) return io.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    if (axis < 0) axis += rank;
    if (reduced[axis]) return io.fail("axis " + std::to_string(axis) + " is repeated");
    reduced[axis] = true;
  }
  std::vector<int64_t> out_shape, kept_shape(rank);
  for (int64_t d = 0; d < rank; ++d) {
    kept_shape[d] = reduced[d] ? 1 : x.shape[d];
    if (!reduced[d]) out_shape.push_back(x.shape[d]);
    else if (keep) out_shape.push_back(1);
  }
  const int64_t out_count = [&] {
    int64_t c = 1;
    for (int64_t v : kept_shape) c *= v;
    return c;
  }();
  const int64_t group = out_count == 0 ? 0 : x.numel() / out_count;
  if (group == 0 && out_count != 0 && (kind == reduce_kind::max || kind == reduce_kind::min))
    return io.fail("cannot take the max/min of an empty set");
  // Strides of the kept (output) layout with 0 on reduced dims: input element i adds into
  // output[offset], found by an odometer over the input.
  std::vector<int64_t> out_strides(rank, 0);
  int64_t stride = 1;
  for (int64_t d = rank; d-- > 0;) {
    if (!reduced[d]) out_strides[d] = stride;
    stride *= kept_shape[d];
  }
  const double init = kind == reduce_kind::max ? -INFINITY : kind == reduce_kind::min ? INFINITY : 0.0;
  std::vector<double> acc(out_count, init);
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  const float* px = x.data_as<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = px[i];
    double& a = acc[offset];
    if (kind == reduce_kind::max) a = (v > a || v != v) ? v : a;
    else if (kind == reduce_kind::min) a = (v < a || v != v) ? v : a;
    else a += v;
    for (int64_t d = rank; d-- > 0;) {
      offset += out_strides[d];
      if (++index[d] < x.shape[d]) break;
      offset -= out_strides[d] * index[d];
      index[d] = 0;
    }
  }
  tensor out = tensor::allocate(dtype::f32, out_shape);
  for (int64_t i = 0; i < out_count; ++i) {
    const double v = kind == reduce_kind::mean ? acc[i] / static_cast<double>(group) : acc[i];
    out.mutable_data_as<float>()[i] = static_cast<float>(v);
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_reduce_mean(kernel_io& io) { return reduce(io, reduce_kind::mean); }
Status kernel_reduce_sum(kernel_io& io) { return reduce(io, reduce_kind::sum); }
Status kernel_reduce_max(kernel_io& io) { return reduce(io, reduce_kind::max); }
Status kernel_reduce_min(kernel_io& io) { return reduce(io, reduce_kind::min); }

}  // namespace edgepack

// Slice: starts/ends/axes/steps as inputs (opset >= 10) or attributes (opset < 10); negative
// indices count from the end and out-of-range ones clamp, as the spec requires. Any dtype.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime_ref/kernel.h"

namespace edgepack {

// Reads input `index` (i64 or i32, 1-D) into `values`; `given` is false when it is omitted.
static Status read_index_list(const kernel_io& io, size_t index, std::vector<int64_t>& values, bool& given) {
  given = false;
  const tensor* t = io.input(index);
  if (t == nullptr) return Status::ok_status();
  if (t->shape.size() != 1) return io.fail("input " + std::to_string(index) + " must be 1-D, got " + shape_to_string(t->shape));
  if (t->type == dtype::i64) values.assign(t->data_as<int64_t>(), t->data_as<int64_t>() + t->numel());
  else if (t->type == dtype::i32) values.assign(t->data_as<int32_t>(), t->data_as<int32_t>() + t->numel());
  else return io.fail("input " + std::to_string(index) + " must be int64 or int32");
  given = true;
  return Status::ok_status();
}

Status kernel_slice(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_starts = false, has_ends = false, has_axes = false, has_steps = false;
  if (io.inputs.size() > 1) {
    EP_RETURN_IF_ERROR(read_index_list(io, 1, starts, has_starts));
    EP_RETURN_IF_ERROR(read_index_list(io, 2, ends, has_ends));
    EP_RETURN_IF_ERROR(read_index_list(io, 3, axes, has_axes));
    EP_RETURN_IF_ERROR(read_index_list(io, 4, steps, has_steps));
    if (!has_starts || !has_ends) return io.fail("starts and ends are required");
  } else {
    starts = io.op.ints_attr("starts");
    ends = io.op.ints_attr("ends");
    axes = io.op.ints_attr("axes");
    has_axes = io.op.attributes.count("axes") != 0;
  }
  if (starts.size() != ends.size()) return io.fail("starts and ends differ in length");
  if (!has_axes)
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (!has_steps) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) return io.fail("axes and steps must match starts in length");

  // Per output dim: first source index, step and count.
  std::vector<int64_t> first(rank, 0), step(rank, 1), shape = x.shape;
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes[i];
    if (axis < -rank || axis >= rank) return io.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    if (axis < 0) axis += rank;
    if (seen[axis]) return io.fail("axis " + std::to_string(axis) + " is repeated");
    seen[axis] = true;
    if (steps[i] == 0) return io.fail("steps must not be 0");
    if (steps[i] == std::numeric_limits<int64_t>::min()) return io.fail("step is out of range");
    const int64_t dim = x.shape[axis];
    int64_t s = starts[i], e = ends[i];
    // Negative indices count from the end; then clamp to the valid range for the step's direction.
    // (INT64_MIN/MAX sentinels pass through the additions safely once clamped first.)
    s = std::clamp<int64_t>(s, -dim - 1, dim + 1);
    e = std::clamp<int64_t>(e, -dim - 1, dim + 1);
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (steps[i] > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      shape[axis] = e > s ? (e - s + steps[i] - 1) / steps[i] : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      shape[axis] = s > e ? (s - e + (-steps[i]) - 1) / (-steps[i]) : 0;
    }
    first[axis] = s;
    step[axis] = steps[i];
  }
  tensor out = tensor::allocate(x.type, shape);
  const size_t bytes = dtype_bits(x.type) / 8;
  std::vector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 1; d > 0; --d) strides[d - 1] = strides[d] * x.shape[d];
  int64_t offset = 0;
  for (int64_t d = 0; d < rank; ++d) offset += first[d] * strides[d];
  const auto* src = reinterpret_cast<const char*>(x.data.data);
  auto* dst = out.mutable_data_as<char>();
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < out.numel(); ++i) {
    std::memcpy(dst + i * bytes, src + offset * bytes, bytes);
    for (int64_t d = rank; d-- > 0;) {
      offset += step[d] * strides[d];
      if (++index[d] < shape[d]) break;
      offset -= step[d] * strides[d] * index[d];
      index[d] = 0;
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// Data-movement ops on any dense dtype: Identity, Shape, Flatten, Squeeze, Unsqueeze, Transpose,
// Concat. Elements are moved as bytes, so f32, i64, i32 and bool all work.
#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime_ref/kernel.h"

namespace edgepack {

static size_t element_bytes(const tensor& t) { return dtype_bits(t.type) / 8; }

// Axes come from input `index` (opset >= 13) or, for older opsets, the `axes` attribute.
static Status read_axes(const kernel_io& io, size_t index, std::vector<int64_t>& axes, bool& given) {
  given = false;
  if (const tensor* t = io.input(index)) {
    EP_RETURN_IF_ERROR(io.require_type(index, dtype::i64));
    if (t->shape.size() > 1) return io.fail("axes must be 1-D, got " + shape_to_string(t->shape));
    axes.assign(t->data_as<int64_t>(), t->data_as<int64_t>() + t->numel());
    given = true;
  } else if (io.op.attributes.count("axes")) {
    axes = io.op.ints_attr("axes");
    given = true;
  }
  return Status::ok_status();
}

// Normalises a possibly negative axis against `rank`; fails when out of range.
static Status normalize_axis(const kernel_io& io, int64_t& axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return io.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  return Status::ok_status();
}

// Shares the input's bytes under a new shape: these ops never change element order.
static Status reshape_view(kernel_io& io, std::vector<int64_t> shape) {
  tensor out = *io.input(0);
  out.shape = std::move(shape);
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_identity(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  return reshape_view(io, io.input(0)->shape);
}

// Shape with the opset-15 start/end slice (defaults give the whole shape).
Status kernel_shape(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const auto& dims = io.input(0)->shape;
  const int64_t rank = static_cast<int64_t>(dims.size());
  int64_t start = io.op.int_attr("start", 0), end = io.op.int_attr("end", rank);
  // Out-of-range start/end clamp rather than fail, per the spec.
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> values(dims.begin() + start, dims.begin() + end);
  io.outputs[0] = tensor::from_values<int64_t>(dtype::i64, {end - start}, std::span<const int64_t>(values));
  return Status::ok_status();
}

Status kernel_flatten(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const auto& dims = io.input(0)->shape;
  const int64_t rank = static_cast<int64_t>(dims.size());
  int64_t axis = io.op.int_attr("axis", 1);
  // Valid range is [-rank, rank]: axis == rank puts everything in the outer dim.
  if (axis < -rank || axis > rank) return io.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= dims[d];
  return reshape_view(io, {outer, inner});
}

Status kernel_squeeze(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const auto& dims = io.input(0)->shape;
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<int64_t> axes;
  bool given = false;
  EP_RETURN_IF_ERROR(read_axes(io, 1, axes, given));
  std::vector<bool> drop(rank, false);
  if (!given) {
    for (int64_t d = 0; d < rank; ++d) drop[d] = dims[d] == 1;
  }
  for (int64_t axis : axes) {
    EP_RETURN_IF_ERROR(normalize_axis(io, axis, rank));
    if (dims[axis] != 1) return io.fail("cannot squeeze axis " + std::to_string(axis) + " of size " + std::to_string(dims[axis]));
    drop[axis] = true;
  }
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d]) shape.push_back(dims[d]);
  return reshape_view(io, std::move(shape));
}

Status kernel_unsqueeze(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const auto& dims = io.input(0)->shape;
  std::vector<int64_t> axes;
  bool given = false;
  EP_RETURN_IF_ERROR(read_axes(io, 1, axes, given));
  if (!given) return io.fail("axes are required");
  const int64_t rank = static_cast<int64_t>(dims.size() + axes.size());
  std::vector<bool> inserted(rank, false);
  for (int64_t axis : axes) {
    EP_RETURN_IF_ERROR(normalize_axis(io, axis, rank));
    if (inserted[axis]) return io.fail("axis " + std::to_string(axis) + " is repeated");
    inserted[axis] = true;
  }
  std::vector<int64_t> shape;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d) shape.push_back(inserted[d] ? 1 : dims[next++]);
  return reshape_view(io, std::move(shape));
}

Status kernel_transpose(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> perm = io.op.ints_attr("perm");
  if (perm.empty() && !io.op.attributes.count("perm")) {
    for (int64_t d = rank; d-- > 0;) perm.push_back(d);  // default: reverse the dims
  }
  if (static_cast<int64_t>(perm.size()) != rank) return io.fail("perm has " + std::to_string(perm.size()) + " values for rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  std::vector<int64_t> shape(rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]]) return io.fail("perm is not a permutation of 0.." + std::to_string(rank - 1));
    seen[perm[d]] = true;
    shape[d] = x.shape[perm[d]];
  }
  std::vector<int64_t> in_strides(rank, 1);
  for (int64_t d = rank - 1; d > 0; --d) in_strides[d - 1] = in_strides[d] * x.shape[d];
  // Output dim d walks input dim perm[d]; the odometer keeps the source offset without divisions.
  std::vector<int64_t> step(rank);
  for (int64_t d = 0; d < rank; ++d) step[d] = in_strides[perm[d]];
  tensor out = tensor::allocate(x.type, shape);
  const size_t bytes = element_bytes(x);
  const auto* src = reinterpret_cast<const char*>(x.data.data);
  auto* dst = out.mutable_data_as<char>();
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < out.numel(); ++i) {
    std::memcpy(dst + i * bytes, src + offset * bytes, bytes);
    for (int64_t d = rank; d-- > 0;) {
      offset += step[d];
      if (++index[d] < shape[d]) break;
      offset -= step[d] * index[d];
      index[d] = 0;
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_concat(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& first = *io.input(0);
  const int64_t rank = static_cast<int64_t>(first.shape.size());
  if (rank == 0) return io.fail("inputs must have rank >= 1");
  if (!io.op.attributes.count("axis")) return io.fail("axis is required");
  int64_t axis = io.op.int_attr("axis", 0);
  EP_RETURN_IF_ERROR(normalize_axis(io, axis, rank));
  std::vector<int64_t> shape = first.shape;
  shape[axis] = 0;
  for (size_t i = 0; i < io.inputs.size(); ++i) {
    const tensor* t = io.input(i);
    if (t == nullptr) return io.fail("input " + std::to_string(i) + " is missing");
    if (t->type != first.type) return io.fail("input " + std::to_string(i) + " has type " + std::string(dtype_name(t->type)) + ", input 0 has " + std::string(dtype_name(first.type)));
    if (static_cast<int64_t>(t->shape.size()) != rank) return io.fail("input " + std::to_string(i) + " has rank " + std::to_string(t->shape.size()) + ", expected " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d) {
      if (d != axis && t->shape[d] != first.shape[d])
        return io.fail("input " + std::to_string(i) + " " + shape_to_string(t->shape) + " does not match " + shape_to_string(first.shape) + " off the axis");
    }
    shape[axis] += t->shape[axis];
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
  tensor out = tensor::allocate(first.type, shape);
  const size_t bytes = element_bytes(first);
  auto* dst = out.mutable_data_as<char>();
  // Each input contributes one contiguous block of axis-extent × inner elements per outer index.
  for (int64_t o = 0; o < outer; ++o) {
    for (const tensor* t : io.inputs) {
      const size_t block = static_cast<size_t>(t->shape[axis] * inner) * bytes;
      if (block != 0) std::memcpy(dst, reinterpret_cast<const char*>(t->data.data) + o * block, block);
      dst += block;
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

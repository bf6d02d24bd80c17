// Ops that torch's ONNX export of decoder-only LLMs emits around the core math: Expand (broadcast
// of masks/positions), Range (position ids), Split (fused qkv / rotary halves), Trilu (causal mask).
// Elements are moved as bytes, so every dense dtype works where the op allows it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernel.h"
#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

static size_t element_bytes(const tensor& t) { return dtype_bits(t.type) / 8; }

// Reads a 1-D (or scalar) int64 input into `values`.
static Status read_i64_list(const kernel_io& io, size_t index, const char* what, std::vector<int64_t>& values) {
  EP_RETURN_IF_ERROR(io.require_type(index, dtype::i64));
  const tensor& t = *io.input(index);
  if (t.shape.size() > 1) return io.fail(std::string(what) + " must be 1-D, got " + shape_to_string(t.shape));
  values.assign(t.data_as<int64_t>(), t.data_as<int64_t>() + t.numel());
  return Status::ok_status();
}

// Fails when a computed output shape is negative, overflows or is too large to allocate.
static Status check_output_size(const kernel_io& io, const std::vector<int64_t>& shape) {
  const auto count = checked_element_count(shape);
  if (!count || *count > max_kernel_elements) return io.fail("output " + shape_to_string(shape) + " is invalid or too large");
  return Status::ok_status();
}

Status kernel_expand(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  const tensor& x = *io.input(0);
  std::vector<int64_t> target;
  EP_RETURN_IF_ERROR(read_i64_list(io, 1, "shape", target));
  // Expand broadcasts both ways: a target dim of 1 keeps the input's dim.
  const auto shape = broadcast_shape(x.shape, target);
  if (!shape) return io.fail("cannot broadcast " + shape_to_string(x.shape) + " to " + shape_to_string(target));
  EP_RETURN_IF_ERROR(check_output_size(io, *shape));
  const std::vector<int64_t> strides = broadcast_strides(x.shape, *shape);
  tensor out = tensor::allocate(x.type, *shape);
  const size_t bytes = element_bytes(x);
  const auto* src = reinterpret_cast<const char*>(x.data.data);
  auto* dst = out.mutable_data_as<char>();
  const size_t rank = shape->size();
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;  // source element; the odometer avoids a division per element
  for (int64_t i = 0; i < out.numel(); ++i) {
    std::memcpy(dst + i * bytes, src + offset * bytes, bytes);
    for (size_t d = rank; d-- > 0;) {
      offset += strides[d];
      if (++index[d] < (*shape)[d]) break;
      offset -= strides[d] * index[d];
      index[d] = 0;
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

// Element count of arange(start, limit, delta); fails on delta 0, NaN or an absurd length.
static Status range_count(const kernel_io& io, double start, double limit, double delta, int64_t& count) {
  if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta)) return io.fail("start, limit and delta must be finite and delta non-zero");
  const double n = std::ceil((limit - start) / delta);
  if (n > static_cast<double>(max_kernel_elements)) return io.fail("range of " + std::to_string(n) + " elements is too large");
  count = n > 0 ? static_cast<int64_t>(n) : 0;
  return Status::ok_status();
}

Status kernel_range(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(3));
  const dtype type = io.input(0)->type;
  if (type != dtype::f32 && type != dtype::i64) return io.fail("only float and int64 ranges are supported");
  for (size_t i = 0; i < 3; ++i) {
    EP_RETURN_IF_ERROR(io.require_type(i, type));
    if (io.input(i)->numel() != 1) return io.fail("start, limit and delta must be scalars");
  }
  int64_t count = 0;
  if (type == dtype::i64) {
    const int64_t start = *io.input(0)->data_as<int64_t>(), limit = *io.input(1)->data_as<int64_t>(), delta = *io.input(2)->data_as<int64_t>();
    // The count is computed in double (exact for any sane length); values stay exact integers.
    EP_RETURN_IF_ERROR(range_count(io, static_cast<double>(start), static_cast<double>(limit), static_cast<double>(delta), count));
    tensor out = tensor::allocate(type, {count});
    for (int64_t i = 0; i < count; ++i) out.mutable_data_as<int64_t>()[i] = start + i * delta;
    io.outputs[0] = std::move(out);
  } else {
    const float start = *io.input(0)->data_as<float>(), limit = *io.input(1)->data_as<float>(), delta = *io.input(2)->data_as<float>();
    EP_RETURN_IF_ERROR(range_count(io, start, limit, delta, count));
    tensor out = tensor::allocate(type, {count});
    // start + i * delta (not a running sum) so rounding does not accumulate along the range.
    for (int64_t i = 0; i < count; ++i) out.mutable_data_as<float>()[i] = start + static_cast<float>(i) * delta;
    io.outputs[0] = std::move(out);
  }
  return Status::ok_status();
}

// Sizes of each Split output along `dim`: the split input (opset 13+), the `split` attribute
// (older opsets), or equal parts -- with a smaller last part only under opset 18's num_outputs.
static Status split_sizes(const kernel_io& io, int64_t dim, std::vector<int64_t>& sizes) {
  const int64_t outputs = static_cast<int64_t>(io.outputs.size());
  if (io.input(1)) {
    EP_RETURN_IF_ERROR(read_i64_list(io, 1, "split", sizes));
  } else if (io.op.attributes.count("split")) {
    sizes = io.op.ints_attr("split");
  } else {
    const bool num_outputs_given = io.op.attributes.count("num_outputs") > 0;
    if (num_outputs_given && io.op.int_attr("num_outputs", 0) != outputs)
      return io.fail("num_outputs " + std::to_string(io.op.int_attr("num_outputs", 0)) + " does not match " + std::to_string(outputs) + " outputs");
    if (outputs < 1) return io.fail("no outputs");
    const int64_t part = (dim + outputs - 1) / outputs;
    if (!num_outputs_given && dim % outputs != 0) return io.fail("dim " + std::to_string(dim) + " does not split into " + std::to_string(outputs) + " equal parts");
    int64_t left = dim;
    for (int64_t i = 0; i < outputs; ++i) {
      sizes.push_back(std::min(part, left));
      left -= sizes.back();
    }
    return Status::ok_status();
  }
  if (static_cast<int64_t>(sizes.size()) != outputs) return io.fail(std::to_string(sizes.size()) + " split sizes for " + std::to_string(outputs) + " outputs");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0 || s > dim) return io.fail("split size " + std::to_string(s) + " is out of range");
    total += s;  // each term <= dim, so no overflow for any sane output count
  }
  if (total != dim) return io.fail("split sizes sum to " + std::to_string(total) + ", dim is " + std::to_string(dim));
  return Status::ok_status();
}

Status kernel_split(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = io.op.int_attr("axis", 0);
  if (axis < -rank || axis >= rank) return io.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  std::vector<int64_t> sizes;
  EP_RETURN_IF_ERROR(split_sizes(io, x.shape[axis], sizes));
  // View the input as [outer, dim, inner]: each output takes a contiguous run per outer row.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) outer *= x.shape[d];
    if (d > axis) inner *= x.shape[d];
  }
  const size_t bytes = element_bytes(x);
  const auto* src = reinterpret_cast<const char*>(x.data.data);
  int64_t begin = 0;
  for (size_t o = 0; o < sizes.size(); ++o) {
    std::vector<int64_t> shape = x.shape;
    shape[axis] = sizes[o];
    tensor out = tensor::allocate(x.type, shape);
    const size_t run = static_cast<size_t>(sizes[o] * inner) * bytes;
    // Empty parts own no buffer (data may be null), and memcpy must never see a null pointer.
    for (int64_t r = 0; r < outer && run > 0; ++r)
      std::memcpy(out.mutable_data_as<char>() + r * run, src + static_cast<size_t>((r * x.shape[axis] + begin) * inner) * bytes, run);
    begin += sizes[o];
    io.outputs[o] = std::move(out);
  }
  return Status::ok_status();
}

Status kernel_trilu(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  if (x.shape.size() < 2) return io.fail("input must have rank >= 2, got " + shape_to_string(x.shape));
  int64_t k = 0;
  if (io.input(1)) {
    EP_RETURN_IF_ERROR(io.require_type(1, dtype::i64));
    if (io.input(1)->numel() != 1) return io.fail("k must be a scalar");
    k = *io.input(1)->data_as<int64_t>();
  }
  const bool upper = io.op.int_attr("upper", 1) != 0;
  const int64_t rows = x.shape[x.shape.size() - 2], cols = x.shape.back();
  // Clamping k to +-(rows + cols) keeps j - i >= k exact and changes no comparison.
  const int64_t bound = rows + cols;
  k = std::max(-bound, std::min(bound, k));
  tensor out = tensor::allocate(x.type, x.shape);  // zero-filled: only kept elements are copied
  const size_t bytes = element_bytes(x);
  const auto* src = reinterpret_cast<const char*>(x.data.data);
  auto* dst = out.mutable_data_as<char>();
  const int64_t matrices = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const bool keep = upper ? j - i >= k : j - i <= k;
        const size_t at = static_cast<size_t>((m * rows + i) * cols + j) * bytes;
        if (keep) std::memcpy(dst + at, src + at, bytes);
      }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// Pad: modes constant, reflect, edge on any rank; pads and constant_value as inputs (opset >= 11)
// or the pads/value attributes (older opsets); negative pads crop. The optional axes input
// (opset 18) is rejected. Float and int64 data.
#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

// Source index along one dim for output index o, or -1 for "use the constant".
static int64_t pad_source(const std::string& mode, int64_t o, int64_t begin, int64_t dim) {
  int64_t i = o - begin;
  if (i >= 0 && i < dim) return i;
  if (mode == "constant") return -1;
  if (mode == "edge") return i < 0 ? 0 : dim - 1;
  // reflect: mirror without repeating the border; the period is 2·(dim − 1).
  if (dim == 1) return 0;
  const int64_t period = 2 * (dim - 1);
  i %= period;
  if (i < 0) i += period;
  return i < dim ? i : period - i;
}

Status kernel_pad(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  if (x.type != dtype::f32 && x.type != dtype::i64) return io.fail("data must be float or int64");
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const std::string mode = string_attr(io.op, "mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") return io.fail("mode '" + mode + "' is not supported");
  if (io.input(3) != nullptr) return io.fail("the axes input is not supported");
  std::vector<int64_t> pads;
  double value = io.op.float_attr("value", 0.0);
  int64_t int_value = 0;  // int64 data takes its constant only from the input, exactly
  if (const tensor* p = io.input(1)) {
    EP_RETURN_IF_ERROR(io.require_type(1, dtype::i64));
    pads.assign(p->data_as<int64_t>(), p->data_as<int64_t>() + p->numel());
  } else {
    pads = io.op.ints_attr("pads");
  }
  if (const tensor* c = io.input(2)) {
    EP_RETURN_IF_ERROR(io.require_type(2, x.type));
    if (c->numel() != 1) return io.fail("constant_value must be a scalar");
    if (x.type == dtype::f32) value = c->data_as<float>()[0];
    else int_value = c->data_as<int64_t>()[0];
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank) return io.fail("pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * rank));
  std::vector<int64_t> shape(rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (pads[d] <= -max_window_attribute || pads[d] >= max_window_attribute || pads[d + rank] <= -max_window_attribute || pads[d + rank] >= max_window_attribute)
      return io.fail("pads value is out of range");
    shape[d] = x.shape[d] + pads[d] + pads[d + rank];
    if (shape[d] < 0) return io.fail("pads crop dim " + std::to_string(d) + " below zero");
    if (shape[d] > 0 && x.shape[d] == 0 && mode != "constant") return io.fail(mode + " padding of an empty dim");
    // Reflection reads at most dim − 1 elements past each border, as ONNX Runtime requires.
    if (mode == "reflect" && (pads[d] >= x.shape[d] || pads[d + rank] >= x.shape[d]) && x.shape[d] > 0)
      return io.fail("reflect pads must be smaller than the dim they pad");
  }
  const auto count = checked_element_count(shape);
  if (!count || *count > max_kernel_elements) return io.fail("output " + shape_to_string(shape) + " is too large");
  tensor out = tensor::allocate(x.type, shape);
  std::vector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 1; d > 0; --d) strides[d - 1] = strides[d] * x.shape[d];
  std::vector<int64_t> index(rank, 0);
  const size_t bytes = dtype_bits(x.type) / 8;
  for (uint64_t i = 0; i < *count; ++i) {
    int64_t offset = 0;
    bool constant = false;
    for (int64_t d = 0; d < rank && !constant; ++d) {
      const int64_t s = pad_source(mode, index[d], pads[d], x.shape[d]);
      if (s < 0) constant = true;
      else offset += s * strides[d];
    }
    char* dst = out.mutable_data_as<char>() + i * bytes;
    if (!constant) {
      std::memcpy(dst, reinterpret_cast<const char*>(x.data.data) + offset * bytes, bytes);
    } else if (x.type == dtype::f32) {
      const float v = static_cast<float>(value);
      std::memcpy(dst, &v, bytes);
    } else {
      std::memcpy(dst, &int_value, bytes);
    }
    for (int64_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

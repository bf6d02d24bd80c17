#include "runtime_ref/kernels/spatial.h"

#include <vector>

namespace edgepack {

std::string string_attr(const node& op, const std::string& key, const std::string& fallback) {
  auto it = op.attributes.find(key);
  if (it == op.attributes.end()) return fallback;
  if (auto* v = std::get_if<std::string>(&it->second)) return *v;
  return fallback;
}

Status read_window_ints(const kernel_io& io, const char* key, size_t count, int64_t fallback, int64_t lo, std::vector<int64_t>& out) {
  out = io.op.ints_attr(key);
  if (out.empty() && io.op.attributes.count(key) == 0) out.assign(count, fallback);
  if (out.size() != count)
    return io.fail(std::string(key) + " has " + std::to_string(out.size()) + " values, expected " + std::to_string(count));
  for (int64_t v : out) {
    if (v < lo || v >= max_window_attribute) return io.fail(std::string(key) + " value " + std::to_string(v) + " is out of range");
  }
  return Status::ok_status();
}

Status resolve_window(const kernel_io& io, std::span<const int64_t> in_spatial, std::span<const int64_t> kernel_spatial,
                      const window_options& options, window_2d& w) {
  const size_t rank = in_spatial.size();
  if (rank < 1 || rank > 2) return io.fail("only 1-D and 2-D windows are supported, got " + std::to_string(rank) + " spatial dims");
  if (kernel_spatial.size() != rank) return io.fail("kernel rank does not match the input's spatial rank");
  std::vector<int64_t> strides, dilations, pads;
  EP_RETURN_IF_ERROR(read_window_ints(io, "strides", rank, 1, 1, strides));
  if (options.read_dilations) {
    EP_RETURN_IF_ERROR(read_window_ints(io, "dilations", rank, 1, 1, dilations));
  } else {
    dilations.assign(rank, 1);
  }
  EP_RETURN_IF_ERROR(read_window_ints(io, "pads", 2 * rank, 0, 0, pads));
  const std::string auto_pad = string_attr(io.op, "auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
    return io.fail("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  w = window_2d{};
  const size_t first = 2 - rank;  // 1-D lives in the second slot; the first stays a unit axis
  for (size_t d = 0; d < rank; ++d) {
    const size_t s = first + d;
    if (in_spatial[d] < 0 || in_spatial[d] >= (int64_t{1} << 40)) return io.fail("spatial dim " + std::to_string(in_spatial[d]) + " is out of range");
    if (kernel_spatial[d] < 1 || kernel_spatial[d] >= max_window_attribute)
      return io.fail("kernel dim " + std::to_string(kernel_spatial[d]) + " is out of range");
    w.in[s] = in_spatial[d];
    w.kernel[s] = kernel_spatial[d];
    w.stride[s] = strides[d];
    w.dilation[s] = dilations[d];
    const int64_t extent = (w.kernel[s] - 1) * w.dilation[s] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // Output covers ceil(in / stride) positions; the padding needed to get there is split
      // evenly, the odd element going to the end (UPPER) or the beginning (LOWER).
      w.out[s] = (w.in[s] + w.stride[s] - 1) / w.stride[s];
      const int64_t total = std::max<int64_t>(0, (w.out[s] - 1) * w.stride[s] + extent - w.in[s]);
      const int64_t small = total / 2;
      w.pad_begin[s] = auto_pad == "SAME_UPPER" ? small : total - small;
      w.pad_end[s] = total - w.pad_begin[s];
      continue;
    }
    if (auto_pad == "NOTSET") {
      w.pad_begin[s] = pads[d];
      w.pad_end[s] = pads[d + rank];
    }
    const int64_t span = w.in[s] + w.pad_begin[s] + w.pad_end[s] - extent;
    if (span < 0)
      return io.fail("window of extent " + std::to_string(extent) + " does not fit the padded input of size " +
                     std::to_string(w.in[s] + w.pad_begin[s] + w.pad_end[s]));
    if (options.ceil_mode) {
      w.out[s] = (span + w.stride[s] - 1) / w.stride[s] + 1;
      // A last window that would start in the end padding reads no input: drop it (ONNX rule).
      if ((w.out[s] - 1) * w.stride[s] >= w.in[s] + w.pad_begin[s]) --w.out[s];
    } else {
      w.out[s] = span / w.stride[s] + 1;
    }
  }
  return Status::ok_status();
}

}  // namespace edgepack

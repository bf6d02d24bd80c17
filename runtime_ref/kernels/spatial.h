// Sliding-window geometry shared by Conv, ConvTranspose and the pooling kernels: reads
// kernel_shape/strides/dilations/pads/auto_pad and validates them against the input once,
// so every kernel applies the same ONNX output-size rules and rejects the same bad attributes.
// 1-D windows are promoted to 2-D with a unit leading axis: one code path serves both.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime_ref/kernel.h"

namespace edgepack {

struct window_2d {
  int64_t in[2] = {1, 1};
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t dilation[2] = {1, 1};
  int64_t pad_begin[2] = {0, 0};
  int64_t pad_end[2] = {0, 0};
  int64_t out[2] = {1, 1};
};

struct window_options {
  bool ceil_mode = false;        // pools: round the output size up
  bool read_dilations = true;    // false for ops without a dilations attribute
};

// The string attribute `key`, or `fallback` when absent.
std::string string_attr(const node& op, const std::string& key, const std::string& fallback);

// Fills `w` for an input with spatial dims `in_spatial` (1 or 2 of them) and a window of
// `kernel_spatial`. Fails (naming the node) on bad ranks, out-of-range attributes, or a window
// that does not fit the padded input.
Status resolve_window(const kernel_io& io, std::span<const int64_t> in_spatial, std::span<const int64_t> kernel_spatial,
                      const window_options& options, window_2d& w);

// Reads ints attribute `key`: `count` values (each `fallback` when absent), each in
// [lo, max_window_attribute).
Status read_window_ints(const kernel_io& io, const char* key, size_t count, int64_t fallback, int64_t lo, std::vector<int64_t>& out);

// Attribute values beyond this are treated as hostile: they keep every size product in int64.
inline constexpr int64_t max_window_attribute = int64_t{1} << 31;
// Largest temporary or output a spatial kernel allocates (elements): a bad shape fails instead of
// exhausting memory.
inline constexpr uint64_t max_kernel_elements = uint64_t{1} << 32;

}  // namespace edgepack

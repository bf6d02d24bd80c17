// What both .epk fuzz targets assert about any input: the reader returns a model or bad_input,
// and a model it returns is safe to use: every part has exactly the size its encoding requires,
// lies inside the input buffer, and decodes to floats without reading out of bounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "formats/epk.h"
#include "formats/epk_tensor_table.h"

namespace edgepack::fuzz {

// Reads of tensor bytes go here so the optimiser cannot drop them.
inline volatile unsigned sink;

inline void check_view(const byte_view& v, const storage& buffer, uint64_t expected) {
  if (v.size != expected) std::abort();
  if (v.size == 0) return;
  if (v.data < buffer.data() || v.data + v.size > buffer.data() + buffer.size()) std::abort();
  unsigned sum = 0;
  for (size_t i = 0; i < v.size; ++i) sum += static_cast<unsigned>(v.data[i]);
  sink = sum;
}

inline void check_epk_bytes(std::vector<std::byte> bytes, const epk_read_options& options) {
  auto buffer = std::make_shared<owned_storage>(std::move(bytes));
  const auto result = read_epk_from_memory(buffer, "fuzz-input", options);
  if (!result.ok()) {
    if (result.status().code() != error_code::bad_input) std::abort();
    return;
  }
  for (const auto& [name, t] : result->g.weights) {
    const auto sizes = epk_required_part_sizes(t);
    if (!sizes.ok()) std::abort();
    check_view(t.data, *buffer, (*sizes)[0].value_or(0));
    check_view(t.scales, *buffer, (*sizes)[1].value_or(0));
    check_view(t.zeros, *buffer, (*sizes)[2].value_or(0));
    // Decoding exercises the code/scale/zero indexing against the validated sizes.
    if (dtype_is_float(t.type) && t.numel() <= (int64_t{1} << 16)) {
      auto values = to_float_vector(t);
      if (values.ok() && !values->empty()) sink = static_cast<unsigned>((*values)[0] != 0.0f);
    }
  }
}

}  // namespace edgepack::fuzz

// libFuzzer entry for the .npy reader: any bytes must give a tensor or a bad_input Status.
// On success the element count must match the bytes, and every byte is read so ASan sees it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/npy.h"

// Reads of the tensor bytes go here so the optimiser cannot drop them.
namespace {
volatile unsigned sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto result = edgepack::read_npy_from_memory(std::as_bytes(std::span<const uint8_t>(data, size)), "fuzz-input");
  if (!result.ok()) {
    if (result.status().code() != edgepack::error_code::bad_input) std::abort();
    return 0;
  }
  const auto count = edgepack::checked_element_count(result->shape);
  if (!count || edgepack::dtype_bytes_for(result->type, *count) != result->data.size) std::abort();
  unsigned checksum = 0;
  for (size_t i = 0; i < result->data.size; ++i) checksum += static_cast<unsigned>(result->data.data[i]);
  sink = checksum;
  return 0;
}

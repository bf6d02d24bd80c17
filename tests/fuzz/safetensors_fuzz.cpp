// libFuzzer entry for the safetensors reader: any bytes must give a tensor map or a bad_input
// Status, never a crash, sanitizer report or exception. On success every tensor's bytes are
// touched so ASan checks that each view really lies inside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "formats/safetensors.h"

// Reads of the tensor bytes go here so the optimiser cannot drop them.
namespace {
volatile unsigned sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  auto bytes = std::make_shared<edgepack::owned_storage>(std::vector<std::byte>(begin, begin + size));
  const auto result = edgepack::read_safetensors_from_memory(bytes, "fuzz-input");
  if (!result.ok()) {
    if (result.status().code() != edgepack::error_code::bad_input) std::abort();
    return 0;
  }
  unsigned checksum = 0;
  for (const auto& [name, t] : result->tensors) {
    const auto count = edgepack::checked_element_count(t.shape);
    if (!count || edgepack::dtype_bytes_for(t.type, *count) != t.data.size) std::abort();
    for (size_t i = 0; i < t.data.size; ++i) checksum += static_cast<unsigned>(t.data.data[i]);
  }
  sink = checksum;
  return 0;
}

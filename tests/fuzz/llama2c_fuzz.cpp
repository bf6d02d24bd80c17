// libFuzzer entry for the llama2.c .bin reader: any bytes must give a checkpoint or a bad_input
// Status, never a crash, sanitizer report or exception. On success every tensor's bytes are read so
// ASan checks that each view lies inside the buffer, and the checkpoint must be self-consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "formats/llama2c.h"

namespace {
volatile unsigned sink;  // keeps the reads of tensor bytes from being optimised away
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  auto bytes = std::make_shared<edgepack::owned_storage>(std::vector<std::byte>(begin, begin + size));
  const auto result = edgepack::read_llama2c_from_memory(bytes, "fuzz-input");
  if (!result.ok()) {
    if (result.status().code() != edgepack::error_code::bad_input) std::abort();
    return 0;
  }
  const auto& c = result->config;
  const size_t expected_tensors = 2 + 9 * static_cast<size_t>(c.layers) + (c.tied_embeddings ? 0 : 1);
  if (result->weights.size() != expected_tensors || c.head_dim * c.heads != c.dim) std::abort();
  unsigned checksum = 0;
  size_t total = 0;
  for (const auto& [name, t] : result->weights) {
    const auto count = edgepack::checked_element_count(t.shape);
    if (!count || *count * 4 != t.data.size) std::abort();
    if (t.data.data < bytes->data() || t.data.data + t.data.size > bytes->data() + bytes->size()) std::abort();
    for (size_t i = 0; i < t.data.size; ++i) checksum += static_cast<unsigned>(t.data.data[i]);
    total += t.data.size;
  }
  if (total > size) std::abort();
  sink = checksum;
  return 0;
}

// libFuzzer entry for the ONNX reader: any bytes must give a model or a bad_input Status, never a
// crash, sanitizer report or escaping exception. External data is refused (empty base_dir) so the
// fuzzer never reaches the file system. On success the graph must validate and every weight's
// bytes are touched, so ASan checks each view lies inside memory the reader owns.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/onnx_reader.h"

// Reads of the tensor bytes go here so the optimiser cannot drop them.
namespace {
volatile unsigned sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span<const uint8_t>(data, size));
  const auto result = edgepack::read_onnx_from_memory(bytes, "fuzz-input", "");
  if (!result.ok()) {
    if (result.status().code() != edgepack::error_code::bad_input) std::abort();
    return 0;
  }
  if (!result->g.validate().ok()) std::abort();
  unsigned checksum = 0;
  for (const auto& [name, t] : result->g.weights) {
    const auto count = edgepack::checked_element_count(t.shape);
    if (!count || edgepack::dtype_bytes_for(t.type, *count) != t.data.size) std::abort();
    for (size_t i = 0; i < t.data.size; ++i) checksum += static_cast<unsigned>(t.data.data[i]);
  }
  sink = checksum;
  return 0;
}

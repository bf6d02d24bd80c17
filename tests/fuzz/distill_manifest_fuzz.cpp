// libFuzzer entry for the distill-targets manifest reader (passes/distill_manifest.h): any bytes
// must give a manifest or a bad_input Status, never a crash, sanitizer report or exception. An
// accepted manifest must describe a layout whose shard ranges tile its samples.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "passes/distill_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto result = edgepack::parse_distill_manifest(text, "fuzz-input", "fuzz-dir");
  if (!result.ok()) {
    if (result.status().code() != edgepack::error_code::bad_input) std::abort();
    return 0;
  }
  int64_t next = 0;
  for (const auto& shard : result->shards) {
    if (shard.first_sample != next || shard.samples < 1) std::abort();
    next += shard.samples;
  }
  if (next != result->samples) std::abort();
  (void)edgepack::distill_layout(result->spec).sample_bytes();
  return 0;
}

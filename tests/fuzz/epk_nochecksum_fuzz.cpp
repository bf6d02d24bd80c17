// libFuzzer entry for the .epk reader past its checksums: before reading, the harness rewrites
// the header and metadata CRC-32C fields to match the (mutated) bytes and reads with blob
// verification off, so the fuzzer explores header bounds, JSON parsing, the tensor table,
// blob layout checks and graph validation instead of stopping at the first CRC.
#include "tests/fuzz/epk_fuzz_common.h"

#include "core/crc32c.h"
#include "formats/epk_layout.h"

namespace {

void put_le32(std::byte* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}

// Repairs what it can; inputs too short or out of bounds are left for the reader to reject.
void repair_checksums(std::vector<std::byte>& bytes) {
  using namespace edgepack;
  if (bytes.size() < epk_header_size) return;
  const epk_header h = decode_epk_header(std::span<const std::byte, epk_header_size>(bytes.data(), epk_header_size));
  if (h.metadata_offset <= bytes.size() && h.metadata_length <= bytes.size() - h.metadata_offset)
    put_le32(bytes.data() + 48, crc32c(std::span(bytes.data() + h.metadata_offset, h.metadata_length)));
  put_le32(bytes.data() + epk_header_crc_offset, crc32c(std::span(bytes.data(), epk_header_crc_offset)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  std::vector<std::byte> bytes(begin, begin + size);
  repair_checksums(bytes);
  edgepack::epk_read_options options;
  options.verify_checksums = false;
  edgepack::fuzz::check_epk_bytes(std::move(bytes), options);
  return 0;
}

#include "formats/epk_layout.h"

#include <cstring>

#include "core/crc32c.h"

namespace edgepack {

static void put_le(std::byte* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}

static uint64_t get_le(const std::byte* in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;) value = (value << 8) | static_cast<uint64_t>(in[i]);
  return value;
}

std::array<std::byte, epk_header_size> encode_epk_header(const epk_header& h) {
  std::array<std::byte, epk_header_size> out{};  // reserved bytes 52..59 stay zero
  std::memcpy(out.data(), epk_magic.data(), epk_magic.size());
  put_le(out.data() + 8, h.major, 2);
  put_le(out.data() + 10, h.minor, 2);
  put_le(out.data() + 12, h.flags, 4);
  put_le(out.data() + 16, h.metadata_offset, 8);
  put_le(out.data() + 24, h.metadata_length, 8);
  put_le(out.data() + 32, h.data_offset, 8);
  put_le(out.data() + 40, h.data_length, 8);
  put_le(out.data() + 48, h.metadata_crc32c, 4);
  put_le(out.data() + epk_header_crc_offset, crc32c(std::span(out.data(), epk_header_crc_offset)), 4);
  return out;
}

epk_header decode_epk_header(std::span<const std::byte, epk_header_size> bytes) {
  const std::byte* in = bytes.data();
  epk_header h;
  h.major = static_cast<uint16_t>(get_le(in + 8, 2));
  h.minor = static_cast<uint16_t>(get_le(in + 10, 2));
  h.flags = static_cast<uint32_t>(get_le(in + 12, 4));
  h.metadata_offset = get_le(in + 16, 8);
  h.metadata_length = get_le(in + 24, 8);
  h.data_offset = get_le(in + 32, 8);
  h.data_length = get_le(in + 40, 8);
  h.metadata_crc32c = static_cast<uint32_t>(get_le(in + 48, 4));
  h.header_crc32c = static_cast<uint32_t>(get_le(in + epk_header_crc_offset, 4));
  return h;
}

std::optional<uint64_t> epk_align_up(uint64_t value) {
  if (value > UINT64_MAX - (epk_alignment - 1)) return std::nullopt;
  return (value + epk_alignment - 1) / epk_alignment * epk_alignment;
}

}  // namespace edgepack

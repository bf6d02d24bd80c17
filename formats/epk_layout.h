// Byte layout of .epk v1 shared by the reader, the writer and tests (docs/format.md, "Header").
// The header is encoded field by field in little-endian, never by memcpy of a struct, so the
// file does not depend on the host's endianness or padding.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/status.h"

namespace edgepack {

// "EPK" (what format sniffers look for), NUL (marks the file binary; C-string tools stop),
// CR LF (catches newline translation in transfers), 0x1A (stops DOS `type`), LF: PNG's trick.
// The magic never changes; versions live in the fields after it.
inline constexpr std::array<uint8_t, 8> epk_magic = {'E', 'P', 'K', 0x00, '\r', '\n', 0x1A, '\n'};
inline constexpr uint16_t epk_major_version = 1;
inline constexpr uint16_t epk_minor_version = 0;
inline constexpr uint64_t epk_header_size = 64;
inline constexpr uint64_t epk_alignment = 64;  // every blob's absolute file offset; one cache line
inline constexpr uint64_t epk_max_metadata_bytes = uint64_t{256} << 20;
inline constexpr size_t epk_max_json_depth = 64;
inline constexpr size_t epk_header_crc_offset = 60;  // header CRC covers bytes [0, 60)

// Header fields after the magic. Offsets are absolute file offsets.
struct epk_header {
  uint16_t major = epk_major_version;
  uint16_t minor = epk_minor_version;
  uint32_t flags = 0;  // none defined in 1.x; writers write 0, readers ignore
  uint64_t metadata_offset = epk_header_size;
  uint64_t metadata_length = 0;
  uint64_t data_offset = 0;
  uint64_t data_length = 0;
  uint32_t metadata_crc32c = 0;
  uint32_t header_crc32c = 0;  // filled by encode, checked by the reader
};

// Magic, fields, zero reserved bytes, CRC of bytes [0, 60) at offset 60.
std::array<std::byte, epk_header_size> encode_epk_header(const epk_header& header);
// Raw fields of the first 64 bytes (caller checked the size); no validation.
epk_header decode_epk_header(std::span<const std::byte, epk_header_size> bytes);

// Round up to a multiple of epk_alignment; nullopt on overflow (hostile offsets).
std::optional<uint64_t> epk_align_up(uint64_t value);

}  // namespace edgepack

#include "formats/epk_container.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/crc32c.h"

namespace edgepack {

static std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

static std::string version_text(const epk_header& h) { return std::to_string(h.major) + "." + std::to_string(h.minor); }

static Status check_header(std::span<const std::byte> file, const epk_header& h) {
  const uint64_t size = file.size();
  if (h.major != epk_major_version) {
    if (h.major > epk_major_version)
      return bad_input("file is .epk version " + version_text(h) + "; this edgepack reads version " +
                       std::to_string(epk_major_version) + ".x — upgrade edgepack");
    return bad_input("file is .epk version " + version_text(h) + ", which this edgepack does not read (it reads " +
                     std::to_string(epk_major_version) + ".x)");
  }
  const uint32_t computed = crc32c(file.first(epk_header_crc_offset));
  if (computed != h.header_crc32c)
    return bad_input("header checksum mismatch (stored " + hex32(h.header_crc32c) + ", computed " + hex32(computed) +
                     "): the file is corrupt");
  if (h.metadata_offset != epk_header_size)
    return bad_input("metadata offset " + std::to_string(h.metadata_offset) + " is not " + std::to_string(epk_header_size) +
                     " (metadata must follow the header)");
  if (h.metadata_length > epk_max_metadata_bytes)
    return bad_input("metadata is " + std::to_string(h.metadata_length) + " bytes, over the " +
                     std::to_string(epk_max_metadata_bytes >> 20) + " MiB limit");
  const uint64_t metadata_end = h.metadata_offset + h.metadata_length;  // both bounded: no overflow
  if (h.data_offset % epk_alignment != 0)
    return bad_input("data section offset " + std::to_string(h.data_offset) + " is not " +
                     std::to_string(epk_alignment) + "-byte aligned");
  if (h.data_offset < metadata_end)
    return bad_input("data section offset " + std::to_string(h.data_offset) + " overlaps the metadata, which ends at " +
                     std::to_string(metadata_end));
  if (h.data_length > UINT64_MAX - h.data_offset || h.data_offset + h.data_length > size)
    return bad_input("file is truncated: the header describes " +
                     (h.data_length > UINT64_MAX - h.data_offset ? std::string("more than 2^64")
                                                                 : std::to_string(h.data_offset + h.data_length)) +
                     " bytes, the file has " + std::to_string(size));
  if (h.data_offset + h.data_length < size)
    return bad_input(std::to_string(size - h.data_offset - h.data_length) +
                     " unexpected bytes after the data section (the file ends at " +
                     std::to_string(h.data_offset + h.data_length) + " per its header)");
  const auto metadata = file.subspan(h.metadata_offset, h.metadata_length);
  const uint32_t metadata_crc = crc32c(metadata);
  if (metadata_crc != h.metadata_crc32c)
    return bad_input("metadata checksum mismatch (stored " + hex32(h.metadata_crc32c) + ", computed " +
                     hex32(metadata_crc) + "): the file is corrupt");
  const auto padding = file.subspan(metadata_end, h.data_offset - metadata_end);
  if (std::any_of(padding.begin(), padding.end(), [](std::byte b) { return b != std::byte{0}; }))
    return bad_input("non-zero bytes in the padding between metadata and data section");
  return Status::ok_status();
}

static Expected<ojson> parse_metadata(std::span<const std::byte> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (json_nesting_depth(text) > epk_max_json_depth)
    return bad_input("metadata JSON nests deeper than " + std::to_string(epk_max_json_depth) + " levels");
  ojson metadata;
  try {
    metadata = ojson::parse(text.begin(), text.end());
  } catch (const ojson::exception& e) {
    return bad_input(std::string("metadata is not valid JSON: ") + e.what());
  } catch (const std::exception& e) {  // bad_alloc and the like: still never escapes the reader
    return bad_input(std::string("metadata cannot be parsed: ") + e.what());
  }
  if (!metadata.is_object()) return bad_input("metadata is not a JSON object");
  return metadata;
}

Expected<epk_container> open_epk_container(std::span<const std::byte> file, const std::string& display_name) {
  // Compare what is there of the magic first: a short non-.epk file is "bad magic", not "truncated".
  const size_t magic_bytes = std::min(file.size(), epk_magic.size());
  if (magic_bytes == 0 || std::memcmp(file.data(), epk_magic.data(), magic_bytes) != 0)
    return bad_input(display_name + ": not an .epk file (bad magic)");
  if (file.size() < epk_header_size)
    return bad_input(display_name + ": file is " + std::to_string(file.size()) + " bytes, shorter than the " +
                     std::to_string(epk_header_size) + "-byte .epk header (truncated?)");
  epk_container container;
  container.header = decode_epk_header(file.first<epk_header_size>());
  EP_RETURN_IF_ERROR(check_header(file, container.header).with_context(display_name));
  auto metadata = parse_metadata(file.subspan(container.header.metadata_offset, container.header.metadata_length));
  if (!metadata.ok()) return metadata.status().with_context(display_name);
  container.metadata = std::move(metadata).value();
  return container;
}

ojson epk_header_to_json(const epk_header& h) {
  ojson out = ojson::object();
  out["version"] = version_text(h);
  out["flags"] = h.flags;
  out["metadata_offset"] = h.metadata_offset;
  out["metadata_length"] = h.metadata_length;
  out["metadata_crc32c"] = h.metadata_crc32c;
  out["data_offset"] = h.data_offset;
  out["data_length"] = h.data_length;
  out["header_crc32c"] = h.header_crc32c;
  return out;
}

}  // namespace edgepack

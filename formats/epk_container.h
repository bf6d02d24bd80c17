// First stage of reading .epk: the header and the metadata block, checked in the order a
// hostile file is cheapest to reject (magic, version, header CRC, bounds, size, metadata CRC,
// JSON). Shared by read_epk (which goes on to the tensor table) and read_epk_metadata.
#pragma once
#include <cstddef>
#include <span>
#include <string>

#include "formats/epk_layout.h"
#include "formats/json_fields.h"

namespace edgepack {

struct epk_container {
  epk_header header;
  ojson metadata;  // the parsed metadata object
};

// Errors are bad_input("<display_name>: ..."). The JSON is parsed only after every header check
// and the metadata checksum passed.
Expected<epk_container> open_epk_container(std::span<const std::byte> file, const std::string& display_name);

// Header fields as JSON for `inspect` ({"version": "1.0", "flags": 0, "metadata_offset": ...}).
ojson epk_header_to_json(const epk_header& header);

}  // namespace edgepack

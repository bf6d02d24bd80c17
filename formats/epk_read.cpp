// .epk reader: container checks (epk_container.cpp), then the tensor table: every blob in bounds,
// aligned, not overlapping any other, sized exactly as its dtype/shape/encoding requires, padding
// zero, checksums matching; then the model is assembled with views into the file's bytes.
#include <algorithm>
#include <cstdio>
#include <set>

#include "core/crc32c.h"
#include "formats/epk.h"
#include "formats/epk_container.h"
#include "formats/epk_tensor_table.h"
#include "formats/model_json.h"

namespace edgepack {
namespace {

struct located_blob {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t crc32c = 0;
  std::string what;  // "tensor 'x' data blob", for messages
};

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

bool all_zero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

// Bounds and alignment of each blob, then no overlap and zero padding over the sorted list.
Status check_blob_layout(std::vector<located_blob>& blobs, std::span<const std::byte> data) {
  const uint64_t data_length = data.size();
  for (const auto& b : blobs) {
    if (b.offset % epk_alignment != 0)
      return bad_input(b.what + " offset " + std::to_string(b.offset) + " is not " + std::to_string(epk_alignment) + "-byte aligned");
    if (b.offset > data_length || b.length > data_length - b.offset)
      return bad_input(b.what + " [" + std::to_string(b.offset) + ", +" + std::to_string(b.length) +
                       ") extends past the end of the data section (" + std::to_string(data_length) + " bytes)");
  }
  std::sort(blobs.begin(), blobs.end(), [](const located_blob& a, const located_blob& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.length < b.length;
  });
  uint64_t end = 0;
  const located_blob* previous = nullptr;
  for (const auto& b : blobs) {
    if (b.offset < end) return bad_input(b.what + " overlaps " + previous->what);
    if (!all_zero(data.subspan(end, b.offset - end))) return bad_input("non-zero padding before " + b.what);
    end = b.offset + b.length;
    previous = &b;
  }
  if (!all_zero(data.subspan(end))) return bad_input("non-zero bytes after the last blob of the data section");
  return Status::ok_status();
}

Status verify_checksums(const std::vector<located_blob>& blobs, std::span<const std::byte> data) {
  for (const auto& b : blobs) {
    const uint32_t computed = crc32c(data.subspan(b.offset, b.length));
    if (computed != b.crc32c)
      return bad_input(b.what + " checksum mismatch (stored " + hex32(b.crc32c) + ", computed " + hex32(computed) +
                       "): the file is corrupt");
  }
  return Status::ok_status();
}

Status check_format_version(const ojson& metadata, const epk_header& header) {
  EP_ASSIGN_OR_RETURN(std::string version, json_string_field(metadata, "format_version", ""));
  const std::string expected = std::to_string(header.major) + "." + std::to_string(header.minor);
  if (version != expected)
    return bad_input("format_version: metadata says '" + version + "' but the header says " + expected);
  return Status::ok_status();
}

Status read_optional_parts(const ojson& metadata, model& m) {
  if (const ojson* llm = json_optional_field(metadata, "llm_config")) {
    EP_ASSIGN_OR_RETURN(m.llm, llm_config_from_json(*llm, "llm_config"));
  }
  if (const ojson* vocab = json_optional_field(metadata, "vocabulary")) {
    EP_ASSIGN_OR_RETURN(m.vocab, vocabulary_from_json(*vocab, "vocabulary"));
  }
  if (const ojson* sources = json_optional_field(metadata, "sources")) {
    EP_ASSIGN_OR_RETURN(m.sources, sources_from_json(*sources, "sources"));
  }
  return Status::ok_status();
}

byte_view view_of(const std::shared_ptr<const storage>& owner, std::span<const std::byte> data, const epk_blob_ref& ref) {
  return {owner, data.data() + ref.offset, static_cast<size_t>(ref.length)};
}

Expected<model> read_model(std::shared_ptr<const storage> bytes, const epk_read_options& options, const ojson& metadata,
                           const epk_header& header) {
  const std::span<const std::byte> file(bytes->data(), bytes->size());
  const auto data = file.subspan(header.data_offset, header.data_length);
  EP_RETURN_IF_ERROR(check_format_version(metadata, header));
  model m;
  m.format = "epk";
  EP_ASSIGN_OR_RETURN(const ojson* graph_json, json_field(metadata, "graph", ""));
  EP_ASSIGN_OR_RETURN(m.g, graph_from_json(*graph_json, "graph"));

  EP_ASSIGN_OR_RETURN(const ojson* table, json_field(metadata, "tensors", ""));
  EP_RETURN_IF_ERROR(json_expect_array(*table, "tensors"));
  std::vector<epk_tensor_entry> entries;
  std::vector<located_blob> blobs;
  std::set<std::string> names;
  entries.reserve(table->size());
  for (size_t i = 0; i < table->size(); ++i) {
    EP_ASSIGN_OR_RETURN(epk_tensor_entry entry, epk_tensor_entry_from_json((*table)[i], json_path_index("tensors", i)));
    if (!names.insert(entry.name).second) return bad_input("tensor '" + entry.name + "' appears twice in the tensor table");
    for (size_t p = 0; p < epk_part_count; ++p) {
      if (!entry.parts[p]) continue;
      const auto& ref = *entry.parts[p];
      blobs.push_back({ref.offset, ref.length, ref.crc32c,
                       "tensor '" + entry.name + "' " + epk_part_name(static_cast<epk_part>(p)) + " blob"});
    }
    entries.push_back(std::move(entry));
  }
  EP_RETURN_IF_ERROR(check_blob_layout(blobs, data));
  if (options.verify_checksums) EP_RETURN_IF_ERROR(verify_checksums(blobs, data));

  for (auto& entry : entries) {
    tensor t = std::move(entry.layout);
    t.data = view_of(bytes, data, *entry.parts[0]);
    if (entry.parts[1]) t.scales = view_of(bytes, data, *entry.parts[1]);
    if (entry.parts[2]) t.zeros = view_of(bytes, data, *entry.parts[2]);
    if (entry.parts[3]) t.indices = view_of(bytes, data, *entry.parts[3]);
    if (entry.parts[4]) t.mask = view_of(bytes, data, *entry.parts[4]);
    if (entry.parts[5]) t.row_offsets = view_of(bytes, data, *entry.parts[5]);
    // Sparse metadata is structure, not payload: always checked (out-of-range or repeated
    // indices, a mask that disagrees with its counts), whether or not CRCs are verified.
    if (t.is_sparse()) {
      if (Status st = check_sparse_blobs(t); !st.ok()) return bad_input("tensor '" + entry.name + "': " + st.message());
    }
    m.g.weights.emplace(entry.name, std::move(t));
  }
  EP_RETURN_IF_ERROR(read_optional_parts(metadata, m));
  EP_RETURN_IF_ERROR(m.g.validate());
  return m;
}

}  // namespace

Expected<model> read_epk_from_memory(std::shared_ptr<const storage> bytes, const std::string& display_name,
                                     const epk_read_options& options) {
  if (bytes == nullptr) return internal_error(display_name + ": no bytes");
  const std::span<const std::byte> file(bytes->data(), bytes->size());
  auto container = open_epk_container(file, display_name);
  if (!container.ok()) return container.status();
  try {  // the JSON accessors used below do not throw; this only guards against allocation failure
    auto m = read_model(bytes, options, container->metadata, container->header);
    if (!m.ok()) return m.status().with_context(display_name);
    return m;
  } catch (const std::exception& e) {
    return bad_input(display_name + ": cannot read model: " + e.what());
  }
}

Expected<model> read_epk(const std::string& path, const epk_read_options& options) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> mapped, mapped_file::open(path));
  return read_epk_from_memory(std::move(mapped), path, options);
}

Expected<nlohmann::json> read_epk_metadata(const std::string& path) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> mapped, mapped_file::open(path));
  auto container = open_epk_container(std::span<const std::byte>(mapped->data(), mapped->size()), path);
  if (!container.ok()) return container.status();
  try {
    nlohmann::json out = nlohmann::json::object();
    out["header"] = nlohmann::json(epk_header_to_json(container->header));
    out["metadata"] = nlohmann::json(container->metadata);
    return out;
  } catch (const std::exception& e) {
    return bad_input(path + ": cannot convert metadata: " + e.what());
  }
}

}  // namespace edgepack

// safetensors reader: validation of the hostile header and zero-copy tensor views.
// The writer lives in safetensors_writer.cpp, the sharded index in safetensors_index.cpp.
#include "formats/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "formats/strict_json.h"

namespace edgepack {
namespace {

using nlohmann::json;

// A validated header entry, before its bytes are attached.
struct entry_info {
  std::string name;
  dtype type = dtype::f32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Non-negative JSON integer that fits int64 (shape dims and offsets); nullopt for anything else,
// including floats such as 2.0, which the format does not allow.
std::optional<uint64_t> as_index(const json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  const uint64_t v = value.get<uint64_t>();
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return v;
}

// Short description of a JSON value for messages: numbers verbatim, anything else by type, so a
// message never embeds a huge or binary-looking chunk of the header.
std::string describe(const json& value) {
  if (value.is_number()) return value.dump();
  return std::string("a JSON ") + value.type_name();
}

Expected<entry_info> parse_entry(const std::string& name, const json& entry, uint64_t data_size) {
  const std::string where = "tensor '" + name + "': ";
  if (name.empty()) return bad_input("empty tensor name");
  if (!entry.is_object()) return bad_input(where + "entry must be a JSON object, got " + describe(entry));
  entry_info info;
  info.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end()) return bad_input(where + "missing 'dtype'");
  if (!dtype_it->is_string()) return bad_input(where + "'dtype' must be a string, got " + describe(*dtype_it));
  const auto& dtype_text = dtype_it->get_ref<const std::string&>();
  const auto type = dtype_from_name(dtype_text);
  if (!type) return bad_input(where + "unknown dtype '" + dtype_text + "'");
  if (dtype_bits(*type) % 8 != 0)
    return bad_input(where + "sub-byte dtype '" + dtype_text + "' is not supported in safetensors files");
  info.type = *type;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end()) return bad_input(where + "missing 'shape'");
  if (!shape_it->is_array()) return bad_input(where + "'shape' must be an array, got " + describe(*shape_it));
  for (const json& dim : *shape_it) {
    const auto d = as_index(dim);
    if (!d) return bad_input(where + "shape dimension must be a non-negative integer, got " + describe(dim));
    info.shape.push_back(static_cast<int64_t>(*d));
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end()) return bad_input(where + "missing 'data_offsets'");
  if (!offsets_it->is_array() || offsets_it->size() != 2)
    return bad_input(where + "'data_offsets' must be an array [begin, end]");
  const auto begin = as_index((*offsets_it)[0]);
  const auto end = as_index((*offsets_it)[1]);
  if (!begin || !end) return bad_input(where + "'data_offsets' must hold non-negative integers");
  if (*begin > *end)
    return bad_input(where + "data_offsets begin " + std::to_string(*begin) + " is after end " + std::to_string(*end));
  if (*end > data_size)
    return bad_input(where + "data_offsets end " + std::to_string(*end) + " is beyond the data section (" +
                     std::to_string(data_size) + " bytes)");
  info.begin = *begin;
  info.end = *end;

  // dtype sizes are at most 8 bytes and checked_element_count caps at 2^62, so the product below
  // could still wrap: compare by division instead.
  const auto count = checked_element_count(info.shape);
  const uint64_t element_bytes = static_cast<uint64_t>(dtype_bits(info.type) / 8);
  if (!count || *count > std::numeric_limits<uint64_t>::max() / element_bytes)
    return bad_input(where + "element count of shape " + shape_to_string(info.shape) + " overflows");
  const uint64_t expected = *count * element_bytes;
  if (expected != info.end - info.begin)
    return bad_input(where + "byte size " + std::to_string(info.end - info.begin) + " from data_offsets does not match " +
                     std::to_string(expected) + " bytes for " + std::string(dtype_name(info.type)) + " " +
                     shape_to_string(info.shape));
  return info;
}

// The non-empty ranges must tile [0, data_size) exactly: any gap is a hole (bytes nobody owns,
// a place to smuggle data), any overlap means two tensors alias. Header order is irrelevant.
Status check_tiling(std::vector<const entry_info*> entries, uint64_t data_size) {
  std::erase_if(entries, [](const entry_info* e) { return e->begin == e->end; });
  std::sort(entries.begin(), entries.end(), [](const entry_info* a, const entry_info* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
  });
  uint64_t covered = 0;
  const entry_info* previous = nullptr;
  for (const entry_info* e : entries) {
    if (e->begin < covered)
      return bad_input("tensor '" + e->name + "': bytes [" + std::to_string(e->begin) + ", " + std::to_string(e->end) +
                       ") overlap tensor '" + previous->name + "'");
    if (e->begin > covered)
      return bad_input("tensor '" + e->name + "': hole in the data section: bytes [" + std::to_string(covered) + ", " +
                       std::to_string(e->begin) + ") belong to no tensor");
    covered = e->end;
    previous = e;
  }
  if (covered != data_size)
    return bad_input("hole in the data section: bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
                     ") after the last tensor belong to no tensor");
  return Status::ok_status();
}

Status read_metadata(const json& value, std::map<std::string, std::string>& out) {
  if (!value.is_object()) return bad_input("'__metadata__' must be an object, got " + describe(value));
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) return bad_input("'__metadata__' value for '" + key + "' must be a string, got " + describe(item));
    out[key] = item.get<std::string>();
  }
  return Status::ok_status();
}

// View of the tensor's bytes, or an aligned copy when the view would be misaligned for its
// element type (header lengths are arbitrary, so this can happen; HF files pad to 8 and don't).
byte_view tensor_bytes(const std::shared_ptr<const storage>& bytes, const std::byte* data, uint64_t size, dtype type) {
  const auto alignment = static_cast<uintptr_t>(dtype_bits(type) / 8);
  if (size == 0 || reinterpret_cast<uintptr_t>(data) % alignment == 0) return {bytes, data, static_cast<size_t>(size)};
  std::vector<std::byte> copy(data, data + size);
  return make_owned_view(std::move(copy));
}

Expected<safetensors_file> parse(const std::shared_ptr<const storage>& bytes) {
  const uint64_t file_size = bytes ? bytes->size() : 0;
  if (file_size < 8)
    return bad_input("file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  const std::byte* base = bytes->data();
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint64_t>(base[i]);
  if (header_size > safetensors_max_header_bytes)
    return bad_input("header length " + std::to_string(header_size) + " exceeds the cap of " +
                     std::to_string(safetensors_max_header_bytes) + " bytes");
  if (header_size > file_size - 8)
    return bad_input("header length " + std::to_string(header_size) + " runs beyond the end of the file (" +
                     std::to_string(file_size) + " bytes)");
  const uint64_t data_size = file_size - 8 - header_size;
  const std::byte* data_section = base + 8 + header_size;

  const std::string_view text(reinterpret_cast<const char*>(base + 8), static_cast<size_t>(header_size));
  strict_json_options json_options;
  json_options.top_level_key_noun = "tensor name";
  auto parsed = parse_strict_json(text, json_options);
  if (!parsed.ok()) return parsed.status().with_context("header");
  const json& header = *parsed;
  if (!header.is_object()) return bad_input("header is not a JSON object, got " + describe(header));

  safetensors_file out;
  std::vector<entry_info> entries;
  entries.reserve(header.size());
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      EP_RETURN_IF_ERROR(read_metadata(entry, out.metadata));
      continue;
    }
    EP_ASSIGN_OR_RETURN(entry_info info, parse_entry(name, entry, data_size));
    entries.push_back(std::move(info));
  }
  std::vector<const entry_info*> pointers;
  for (const auto& e : entries) pointers.push_back(&e);
  EP_RETURN_IF_ERROR(check_tiling(std::move(pointers), data_size));

  for (auto& e : entries) {
    tensor t;
    t.type = e.type;
    t.shape = std::move(e.shape);
    t.data = tensor_bytes(bytes, data_section + e.begin, e.end - e.begin, e.type);
    out.tensors.emplace(std::move(e.name), std::move(t));
  }
  return out;
}

}  // namespace

Expected<safetensors_file> read_safetensors_from_memory(std::shared_ptr<const storage> bytes, const std::string& display_name) {
  try {
    auto result = parse(bytes);
    if (!result.ok()) return result.status().with_context(display_name);
    return result;
  } catch (const std::exception& e) {  // nothing below should throw; this is the format boundary
    return bad_input(display_name + ": cannot read safetensors: " + e.what());
  }
}

Expected<safetensors_file> read_safetensors(const std::string& path) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> file, mapped_file::open(path));
  EP_ASSIGN_OR_RETURN(safetensors_file result, read_safetensors_from_memory(file, path));
  result.file = std::move(file);
  return result;
}

}  // namespace edgepack

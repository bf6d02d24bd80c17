// Hugging Face safetensors: reader (single file and sharded index) and writer.
//
// Layout: u64 little-endian header length N, N bytes of JSON header, then the data section.
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the data section) plus an optional "__metadata__" object of string -> string.
//
// Bytes are treated as hostile (DESIGN.md §4.4): header size capped, every offset and shape
// checked with overflow guards, ranges must tile the data section exactly (no holes, no overlaps),
// duplicate JSON keys rejected. Every error is bad_input and its message starts with the file path.
//
// Tensors are zero-copy views into the mapped file (or the given storage). A tensor whose data
// pointer is not aligned to its element size (possible when the header length is not a multiple
// of 8, or after a 1-byte tensor) is copied into owned, aligned storage instead, so consumers may
// always read elements through data_as<T>().
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/storage.h"
#include "core/tensor.h"

namespace edgepack {

// Largest JSON header a reader accepts (the reference implementation uses the same cap).
inline constexpr uint64_t safetensors_max_header_bytes = uint64_t{100} << 20;

struct safetensors_file {
  std::shared_ptr<mapped_file> file;  // null when read from memory
  std::map<std::string, tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Maps one file read-only; tensors view the mapping.
Expected<safetensors_file> read_safetensors(const std::string& path);
// Same validation on bytes already in memory; display_name prefixes messages. Used by the fuzzer.
Expected<safetensors_file> read_safetensors_from_memory(std::shared_ptr<const storage> bytes, const std::string& display_name);

struct safetensors_set {
  std::map<std::string, tensor> tensors;
  std::vector<std::string> files;  // shard paths, each opened once, sorted by name
  // The index's "metadata" object; non-string values (e.g. "total_size": 123) are kept as JSON text.
  std::map<std::string, std::string> metadata;
};

// Reads a sharded checkpoint from model.safetensors.index.json
// ({"metadata": {...}, "weight_map": {tensor name: shard file name}}). Shard names must be plain
// file names in the index's directory. Every listed tensor must be in its shard, every tensor of a
// shard must be listed for that shard, and no tensor may appear in two shards.
Expected<safetensors_set> read_safetensors_index(const std::string& index_json_path);

// Writes dense tensors atomically. Output is deterministic: header keys sorted, data laid out in
// name order without gaps, header padded with spaces so the data section starts 8-byte aligned.
// Metadata is written as "__metadata__" only when non-empty.
Status write_safetensors(const std::string& path, const std::map<std::string, tensor>& tensors,
                         const std::map<std::string, std::string>& metadata);

}  // namespace edgepack

// .epk v1: edgepack's mmap-able edge format (normative spec: docs/format.md).
//
//   [64-byte header][JSON metadata][zero padding][blob][pad][blob]...   every blob 64-byte aligned
//
// The header locates and checksums the metadata; the metadata holds the graph, the tensor table
// (dtype, shape, encoding and per-part offset/length/CRC-32C), LLM config, vocabulary, provenance
// and free-form "extra" (recipe, options, metrics). A device maps the file and points at blobs.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "core/status.h"
#include "core/storage.h"

namespace edgepack {

struct epk_write_options {
  // Stored verbatim under "extra" (recipe, pass options, metrics). Must be an object.
  nlohmann::json extra_metadata = nlohmann::json::object();
  // Streaming writes only: called after every tensor is written, returns the final "extra" object
  // (e.g. with per-tensor statistics gathered while producing). Its JSON may exceed the first
  // extra_metadata by up to metadata_reserve_bytes plus 1 KiB.
  std::function<nlohmann::json()> final_extra_metadata;
  uint64_t metadata_reserve_bytes = 0;
  // Streaming writes only: the final provenance, e.g. source hashes computed on another thread
  // while the tensors were written. Each source may add up to 64 bytes (a SHA-256 in hex).
  std::function<Expected<std::vector<source_file>>()> final_sources;
};

// Validates the model first (tensor byte sizes against dtype x shape / encoding, graph, names),
// then streams header, metadata and blobs into a temp file beside `path`, fsyncs and renames it.
// On any failure nothing at `path` changes. Identical model + options give identical bytes.
// Errors: internal (a tensor's bytes disagree with its shape: a bug upstream), bad_input (graph
// invalid, name not UTF-8), bad_usage (extra_metadata not an object), io_failure (cannot
// create/write/rename, e.g. the directory does not exist).
[[nodiscard]] Status write_epk(const std::string& path, const model& m, const epk_write_options& options);

// Streaming form for models too large to hold encoded in memory: `m` gives every weight's layout
// (type, shape, encoding; its byte views may be empty), and `produce` is called once per weight,
// in name order, while the file is written; the tensor it returns must match the layout exactly.
// Its bytes are released right after being written (pages of mmapped inputs are dropped too).
// The metadata is written first with placeholder checksums and patched in place at the end
// (docs/format.md: the metadata block may end in spaces).
using epk_tensor_producer = std::function<Expected<tensor>(const std::string& name, const tensor& layout)>;
[[nodiscard]] Status write_epk_streaming(const std::string& path, const model& m, const epk_write_options& options,
                                         const epk_tensor_producer& produce);

struct epk_read_options {
  // Check the CRC-32C of every blob at open (reads every byte once, >= 1 GB/s). Header and
  // metadata checksums are always checked. Turn off only for trusted files when open time matters.
  bool verify_checksums = true;
};

// Maps the file; every tensor view points into the mapping (zero copy, 64-byte aligned) and
// keeps it alive. model.format == "epk". Any inconsistency is bad_input("<path>: ...").
Expected<model> read_epk(const std::string& path, const epk_read_options& options = {});
// Same checks over bytes already in memory (fuzz entry, tests). Views point into `bytes`.
Expected<model> read_epk_from_memory(std::shared_ptr<const storage> bytes, const std::string& display_name,
                                     const epk_read_options& options = {});

// Header fields and the metadata JSON only (checksums of header and metadata verified, blobs not
// read): {"header": {...}, "metadata": {...}} for `inspect` and provenance queries.
Expected<nlohmann::json> read_epk_metadata(const std::string& path);

}  // namespace edgepack

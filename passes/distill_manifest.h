// manifest.json of a distillation-targets directory (docs/distill.md): what the targets are (K,
// temperature, window layout, hidden layers), where they came from (teacher and data hashes,
// tokenizer), and the shard list with sample ranges, sizes and sha256. Readers trust nothing: every
// field is checked, shard names must be plain file names, sample ranges must tile [0, samples),
// and a shard is accepted only if its size and sha256 match and its tensors have the layout's
// dtypes and shapes.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "passes/distill_targets.h"

namespace edgepack {

inline constexpr const char* distill_manifest_file = "manifest.json";
inline constexpr const char* distill_format_name = "edgepack.distill_targets";
inline constexpr int distill_format_version = 1;

struct distill_shard {
  std::string file;
  int64_t first_sample = 0;
  int64_t samples = 0;
  uint64_t bytes = 0;
  std::string sha256;
};

struct distill_manifest {
  distill_spec spec;
  int64_t samples = 0;
  std::string tokenizer_sha256;
  std::vector<distill_shard> shards;
  nlohmann::json json;  // the whole file, for inspect
};

// `provenance` holds "teacher", "tokenizer" (without sha256/vocab_size, added here), "data" and
// "windows" objects from the command line.
nlohmann::json distill_manifest_json(const distill_targets_written& written, const std::string& tokenizer_sha256, const nlohmann::json& provenance);

// True when `path` is a directory holding manifest.json (used by inspect to pick its view).
bool is_distill_targets_dir(const std::string& path);

Expected<distill_manifest> read_distill_manifest(const std::string& dir);
// The same checks on manifest text already in memory; `file` prefixes messages, `dir` names the
// directory in them. Used by the fuzzer.
Expected<distill_manifest> parse_distill_manifest(const std::string& text, const std::string& file, const std::string& dir);

// One shard's tensors, checked against the manifest (size, sha256, names, dtypes, shapes; top-K
// indices inside the vocabulary, token ids too). Errors name the shard file (bad_input).
Expected<std::map<std::string, tensor>> read_distill_shard(const std::string& dir, const distill_manifest& manifest, size_t shard);

}  // namespace edgepack

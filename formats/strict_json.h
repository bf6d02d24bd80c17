// JSON parsing for file headers we do not trust (safetensors headers, index files).
//
// nlohmann::json silently keeps one value when an object repeats a key, which would let a hostile
// safetensors header name the same tensor twice with different offsets. parse_strict_json rejects
// duplicate keys at any depth, caps nesting depth before parsing (so a header of a million '['
// cannot blow up memory), and turns every nlohmann exception into a Status.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace edgepack {

struct strict_json_options {
  // Deepest allowed nesting of arrays/objects; real headers need 3.
  int max_depth = 64;
  // Word used for a repeated key of the top-level object, e.g. "tensor name" gives
  // "duplicate tensor name 'x'"; deeper repeats say "duplicate key 'x'".
  std::string top_level_key_noun = "key";
};

// Messages carry no file name: callers prefix it (Status::with_context).
Expected<nlohmann::json> parse_strict_json(std::string_view text, const strict_json_options& options);

}  // namespace edgepack

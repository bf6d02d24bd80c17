// Typed access to parsed JSON with error messages that name the JSON path of the bad field
// ("graph.nodes[3].attributes.epsilon: expected number"), plus the two encodings JSON lacks:
// non-finite doubles and byte strings that are not UTF-8. Used by every reader of .epk metadata.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace edgepack {

// Insertion-ordered JSON: writers add keys in a fixed order, so output bytes are deterministic.
using ojson = nlohmann::ordered_json;

// Path building: join("graph", "nodes") == "graph.nodes", index("graph.nodes", 3) == "graph.nodes[3]".
std::string json_path_join(const std::string& path, std::string_view key);
std::string json_path_index(const std::string& path, size_t index);

// All failures are bad_input("<path>: expected ...").
Status json_expect_object(const ojson& j, const std::string& path);
Status json_expect_array(const ojson& j, const std::string& path);
Expected<int64_t> json_to_int(const ojson& j, const std::string& path);
Expected<uint64_t> json_to_uint(const ojson& j, const std::string& path);
Expected<double> json_to_double(const ojson& j, const std::string& path);
Expected<bool> json_to_bool(const ojson& j, const std::string& path);
Expected<std::string> json_to_string(const ojson& j, const std::string& path);

// Field of an object (the caller has checked `object` is one); missing -> "<path>.<key>: missing".
Expected<const ojson*> json_field(const ojson& object, std::string_view key, const std::string& path);
// Field or nullptr when absent: fields added by later minor versions are optional.
const ojson* json_optional_field(const ojson& object, std::string_view key);

Expected<int64_t> json_int_field(const ojson& object, std::string_view key, const std::string& path);
Expected<uint64_t> json_uint_field(const ojson& object, std::string_view key, const std::string& path);
Expected<double> json_double_field(const ojson& object, std::string_view key, const std::string& path);
Expected<bool> json_bool_field(const ojson& object, std::string_view key, const std::string& path);
Expected<std::string> json_string_field(const ojson& object, std::string_view key, const std::string& path);

// Doubles: finite values are JSON numbers (nlohmann prints the shortest text that parses back to
// the same bits, so they round-trip exactly, -0.0 included); NaN and infinities, which JSON cannot
// hold, become the strings "NaN", "Infinity", "-Infinity" (NaN payload bits are not kept).
ojson double_to_json(double value);

ojson bytes_to_json(const std::string& bytes);
Expected<std::string> bytes_from_json(const ojson& j, const std::string& path);

// Deepest nesting of arrays/objects in JSON text, scanning strings correctly. Checked before
// parsing because printing or converting a parsed document recurses once per level.
size_t json_nesting_depth(std::string_view text);

}  // namespace edgepack

#include "formats/strict_json.h"

#include <set>
#include <vector>

namespace edgepack {

// Nesting depth of brackets outside strings. Linear, no allocation; run before the real parse so
// the parser never builds a deep structure. Malformed strings are left for the parser to report.
static int max_nesting(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character, which may be a quote
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return deepest;
}

Expected<nlohmann::json> parse_strict_json(std::string_view text, const strict_json_options& options) {
  if (const int depth = max_nesting(text); depth > options.max_depth)
    return bad_input("JSON nested " + std::to_string(depth) + " levels deep, limit is " + std::to_string(options.max_depth));

  // One key set per open object; the parser callback sees keys in document order. The callback
  // must not throw through the parser, so the first duplicate is only recorded here.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  size_t duplicate_depth = 0;
  const auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using event_t = nlohmann::json::parse_event_t;
    if (event == event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == event_t::key && duplicate_depth == 0 && !open_objects.empty() && parsed.is_string()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) {
        duplicate = key;
        duplicate_depth = open_objects.size();
      }
    }
    return true;
  };

  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
  } catch (const nlohmann::json::exception& e) {
    return bad_input(std::string("not valid JSON: ") + e.what());
  } catch (const std::exception& e) {  // e.g. bad_alloc on a huge header: still the input's fault
    return bad_input(std::string("cannot parse JSON: ") + e.what());
  }
  if (duplicate_depth == 1) return bad_input("duplicate " + options.top_level_key_noun + " '" + duplicate + "'");
  if (duplicate_depth > 1) return bad_input("duplicate key '" + duplicate + "' in a nested object");
  return value;
}

}  // namespace edgepack

#include "formats/json_fields.h"

#include "core/utf8.h"

#include <cmath>
#include <limits>

namespace edgepack {

std::string json_path_join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string json_path_index(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

static Status expected_error(const std::string& path, const char* what) {
  return bad_input((path.empty() ? std::string("metadata") : path) + ": expected " + what);
}

Status json_expect_object(const ojson& j, const std::string& path) {
  return j.is_object() ? Status::ok_status() : expected_error(path, "object");
}

Status json_expect_array(const ojson& j, const std::string& path) {
  return j.is_array() ? Status::ok_status() : expected_error(path, "array");
}

Expected<int64_t> json_to_int(const ojson& j, const std::string& path) {
  if (!j.is_number_integer()) return expected_error(path, "integer");
  if (j.is_number_unsigned()) {
    const uint64_t value = j.get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return bad_input(path + ": integer " + std::to_string(value) + " is out of range");
    return static_cast<int64_t>(value);
  }
  return j.get<int64_t>();
}

Expected<uint64_t> json_to_uint(const ojson& j, const std::string& path) {
  if (!j.is_number_integer()) return expected_error(path, "non-negative integer");
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  const int64_t value = j.get<int64_t>();
  if (value < 0) return expected_error(path, "non-negative integer");
  return static_cast<uint64_t>(value);
}

Expected<double> json_to_double(const ojson& j, const std::string& path) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& text = j.get_ref<const std::string&>();
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return expected_error(path, "number");
}

Expected<bool> json_to_bool(const ojson& j, const std::string& path) {
  if (!j.is_boolean()) return expected_error(path, "true or false");
  return j.get<bool>();
}

Expected<std::string> json_to_string(const ojson& j, const std::string& path) {
  if (!j.is_string()) return expected_error(path, "string");
  return j.get<std::string>();
}

Expected<const ojson*> json_field(const ojson& object, std::string_view key, const std::string& path) {
  const ojson* found = json_optional_field(object, key);
  if (found == nullptr) return bad_input(json_path_join(path, key) + ": missing");
  return found;
}

const ojson* json_optional_field(const ojson& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// One template for the typed field getters: find the field, then convert it with its path.
template <class T>
static Expected<T> typed_field(const ojson& object, std::string_view key, const std::string& path,
                               Expected<T> (*convert)(const ojson&, const std::string&)) {
  EP_ASSIGN_OR_RETURN(const ojson* field, json_field(object, key, path));
  return convert(*field, json_path_join(path, key));
}

Expected<int64_t> json_int_field(const ojson& object, std::string_view key, const std::string& path) {
  return typed_field<int64_t>(object, key, path, json_to_int);
}
Expected<uint64_t> json_uint_field(const ojson& object, std::string_view key, const std::string& path) {
  return typed_field<uint64_t>(object, key, path, json_to_uint);
}
Expected<double> json_double_field(const ojson& object, std::string_view key, const std::string& path) {
  return typed_field<double>(object, key, path, json_to_double);
}
Expected<bool> json_bool_field(const ojson& object, std::string_view key, const std::string& path) {
  return typed_field<bool>(object, key, path, json_to_bool);
}
Expected<std::string> json_string_field(const ojson& object, std::string_view key, const std::string& path) {
  return typed_field<std::string>(object, key, path, json_to_string);
}

ojson double_to_json(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}


ojson bytes_to_json(const std::string& bytes) {
  if (is_valid_utf8(bytes)) return bytes;
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  ojson out = ojson::object();
  out["hex"] = hex;
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Expected<std::string> bytes_from_json(const ojson& j, const std::string& path) {
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object()) return expected_error(path, "string or {\"hex\": ...}");
  EP_ASSIGN_OR_RETURN(std::string hex, json_string_field(j, "hex", path));
  if (hex.size() % 2 != 0) return bad_input(path + ".hex: odd number of hex digits");
  std::string bytes(hex.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad_input(path + ".hex: not a hex digit");
    bytes[i] = static_cast<char>(hi * 16 + lo);
  }
  return bytes;
}

size_t json_nesting_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace edgepack

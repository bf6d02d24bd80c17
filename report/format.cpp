#include "report/format.h"

#include <cmath>
#include <cstdio>

namespace edgepack::report {

namespace {

std::string group_thousands(const std::string& digits) {
  // digits: optional '-', then [0-9]+, optional fraction.
  const size_t sign = !digits.empty() && digits[0] == '-' ? 1 : 0;
  const size_t dot = digits.find('.');
  const size_t int_end = dot == std::string::npos ? digits.size() : dot;
  std::string out = digits.substr(0, sign);
  for (size_t i = sign; i < int_end; ++i) {
    if (i > sign && (int_end - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out + digits.substr(int_end);
}

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  if (std::fabs(v) >= 1000.0) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return group_thousands(buf);
  }
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return std::string(buf) == "-0" ? "0" : buf;
}

}  // namespace

std::string format_value(const nlohmann::json& value) {
  if (value.is_null()) return "n/a";
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_unsigned()) return group_thousands(std::to_string(value.get<uint64_t>()));
  if (value.is_number_integer()) return group_thousands(std::to_string(value.get<int64_t>()));
  if (value.is_number_float()) return format_double(value.get<double>());
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string format_shape(const nlohmann::json& shape) {
  std::string s = "[";
  if (shape.is_array())
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + shape[i].dump();
  return s + "]";
}

const nlohmann::json& value_at(const nlohmann::json& report, const std::string& dotted_key) {
  static const nlohmann::json null_value;
  const nlohmann::json* cur = &report;
  size_t start = 0;
  while (start <= dotted_key.size()) {
    const size_t dot = dotted_key.find('.', start);
    const std::string key = dotted_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur->is_array()) {
      // Array steps are decimal indices: "tensors.3.rel_error".
      if (key.empty() || key.size() > 18 || key.find_first_not_of("0123456789") != std::string::npos) return null_value;
      const size_t index = std::stoull(key);
      if (index >= cur->size()) return null_value;
      cur = &(*cur)[index];
    } else {
      if (!cur->is_object() || !cur->contains(key)) return null_value;
      cur = &(*cur)[key];
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *cur;
}

}  // namespace edgepack::report

#include "report/recorded_errors.h"

namespace edgepack::report {

std::map<std::string, double> recorded_relative_errors(const nlohmann::json& extra) {
  std::map<std::string, double> errors;
  if (!extra.is_object() || !extra.contains("pass") || !extra["pass"].is_object() || !extra["pass"].contains("tensors")) return errors;
  const nlohmann::json& stats = extra["pass"]["tensors"];
  if (!stats.is_array()) return errors;
  for (const auto& s : stats)
    if (s.is_object() && s.contains("name") && s["name"].is_string() && s.contains("relative_error") && s["relative_error"].is_number())
      errors[s["name"].get<std::string>()] = s["relative_error"].get<double>();
  return errors;
}

}  // namespace edgepack::report

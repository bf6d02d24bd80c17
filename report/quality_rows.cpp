#include <set>

#include "report/render.h"

namespace edgepack::report {

std::vector<quality_row> quality_rows(const nlohmann::json& report) {
  std::vector<quality_row> rows;
  if (!report.is_object() || !report.contains("quality") || !report["quality"].is_object()) return rows;
  const nlohmann::json& q = report["quality"];
  const nlohmann::json metrics = q.contains("metrics") && q["metrics"].is_object() ? q["metrics"] : nlohmann::json::object();
  const nlohmann::json thresholds = q.contains("thresholds") && q["thresholds"].is_object() ? q["thresholds"] : nlohmann::json::object();
  std::set<std::string> used;
  auto check = [](const nlohmann::json& value, const std::string& bound, const nlohmann::json& limit) -> nlohmann::json {
    if (!value.is_number() || !limit.is_number()) return nullptr;
    return bound == "max" ? value.get<double>() <= limit.get<double>() : value.get<double>() >= limit.get<double>();
  };
  for (const auto& [metric, value] : metrics.items()) {
    quality_row row{metric, value, "", nullptr, nullptr};
    for (const char* bound : {"max", "min"}) {
      const std::string key = std::string(bound) + "_" + metric;
      if (!thresholds.contains(key)) continue;
      row.bound = bound;
      row.threshold = thresholds[key];
      row.passed = check(value, bound, row.threshold);
      used.insert(key);
      break;
    }
    rows.push_back(row);
  }
  // Thresholds on values the metrics do not carry: shown, result unknown.
  for (const auto& [key, limit] : thresholds.items()) {
    if (used.count(key)) continue;
    const bool has_bound = key.rfind("max_", 0) == 0 || key.rfind("min_", 0) == 0;
    rows.push_back({has_bound ? key.substr(4) : key, nullptr, has_bound ? key.substr(0, 3) : "", limit, nullptr});
  }
  return rows;
}

}  // namespace edgepack::report

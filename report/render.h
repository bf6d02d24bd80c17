// The Markdown and HTML renderers behind report::render (report.h). Both tolerate any optional
// section being absent and any string (tensor names come from hostile files) being hostile.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace edgepack::report {

std::string render_markdown(const nlohmann::json& report);
std::string render_html(const nlohmann::json& report);

// The quality metrics and their thresholds as rows: metric, value, threshold (null when none), and
// whether that threshold holds (null when none). A threshold "max_<m>" bounds metric <m> from above,
// "min_<m>" from below.
struct quality_row {
  std::string metric;
  nlohmann::json value;
  std::string bound;  // "max", "min" or ""
  nlohmann::json threshold;
  nlohmann::json passed;
};
std::vector<quality_row> quality_rows(const nlohmann::json& report);

}  // namespace edgepack::report

// The inline SVG charts of the HTML report (no scripts, no external resources).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace edgepack::report {

// Horizontal bars, one per tensor with a numeric rel_error, coloured by kind, scaled to the largest
// error, with a labelled axis. Empty string when no tensor has an error.
std::string error_chart_svg(const nlohmann::json& tensors);

// Two stacked bars (bytes before, bytes after), one segment per tensor kind, on one scale so the
// shrinkage shows as length; a legend names the kinds. Empty string when by_kind is empty.
std::string size_chart_svg(const nlohmann::json& by_kind);

}  // namespace edgepack::report

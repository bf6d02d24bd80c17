// The one number formatter of the Markdown and HTML reports, so a number shown anywhere equals
// format_value(json value) and the tests can match rendered text against the JSON.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace edgepack::report {

// Integers: decimal with ',' every three digits ("1,234,567"). Floats: 4 significant digits
// ("5.817", "0.000823", "1.2e-05"), or one decimal with ',' grouping from 1000 up ("12,345.7");
// non-finite "inf"/"-inf"/"nan". null: "n/a". Booleans: "yes"/"no". Strings as they are.
std::string format_value(const nlohmann::json& value);

// A shape as "[512,64]" (plain digits, no grouping); "[]" for anything but an array.
std::string format_shape(const nlohmann::json& shape);

// The value at a dotted path like "totals.bytes_after", "quality.metrics.kld" or "tensors.3.rel_error"
// (array steps are decimal indices); null when absent.
const nlohmann::json& value_at(const nlohmann::json& report, const std::string& dotted_key);

}  // namespace edgepack::report

#include "report/html_charts.h"

#include <algorithm>
#include <cstdio>

#include "report/format.h"
#include "report/html_text.h"

namespace edgepack::report {

namespace {

using json = nlohmann::json;

// SVG coordinates with one decimal: exact enough, and the same bytes on every run.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double number_at(const json& obj, const char* key) {
  const json& v = value_at(obj, key);
  return v.is_number() ? std::max(0.0, v.get<double>()) : 0.0;
}

// Long names keep their end (the layer and role) and lose the middle.
std::string shorten(const std::string& name, size_t max_chars) {
  if (name.size() <= max_chars) return name;
  size_t tail_start = name.size() - (max_chars - 14);
  while (tail_start < name.size() && (static_cast<unsigned char>(name[tail_start]) & 0xC0) == 0x80) ++tail_start;  // not mid-character
  size_t head_end = 12;
  while (head_end > 0 && (static_cast<unsigned char>(name[head_end]) & 0xC0) == 0x80) --head_end;
  return name.substr(0, head_end) + "\xE2\x80\xA6" + name.substr(tail_start);
}

std::string legend(const std::vector<std::string>& kinds, double x, double y) {
  std::string out;
  for (const auto& k : kinds) {
    out += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"12\" height=\"12\" fill=\"" + kind_colour(k) + "\"/>";
    out += "<text x=\"" + px(x + 16) + "\" y=\"" + px(y + 10.5) + "\" class=\"lg\">" + html_escape(k) + "</text>";
    x += 24 + 7.5 * static_cast<double>(k.size());
  }
  return out;
}

}  // namespace

std::string error_chart_svg(const json& tensors) {
  std::vector<std::pair<std::string, std::string>> rows_kind;  // name, kind
  std::vector<double> errors;
  std::vector<std::string> kinds_seen;
  double top = 0.0;
  if (tensors.is_array())
    for (const auto& t : tensors) {
      if (!t.is_object() || !t.contains("rel_error") || !t["rel_error"].is_number()) continue;
      const std::string name = t.contains("name") && t["name"].is_string() ? t["name"].get<std::string>() : "?";
      const std::string kind = t.contains("kind") && t["kind"].is_string() ? t["kind"].get<std::string>() : "other";
      rows_kind.emplace_back(name, kind);
      errors.push_back(t["rel_error"].get<double>());
      top = std::max(top, errors.back());
      if (std::find(kinds_seen.begin(), kinds_seen.end(), kind) == kinds_seen.end()) kinds_seen.push_back(kind);
    }
  if (errors.empty()) return "";
  if (!(top > 0.0)) top = 1.0;
  const double label_w = 330, bar_w = 620, row_h = 16, top_pad = 34, width = 1080;
  const double height = top_pad + row_h * static_cast<double>(errors.size()) + 30;
  std::string svg = "<svg class=\"chart\" role=\"img\" aria-label=\"relative error per tensor\" viewBox=\"0 0 " + px(width) + " " + px(height) +
                    "\" width=\"" + px(width) + "\" height=\"" + px(height) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
  svg += legend(kinds_seen, label_w, 6);
  // Axis: gridlines at quarters of the largest error.
  for (int q = 0; q <= 4; ++q) {
    const double x = label_w + bar_w * q / 4.0;
    svg += "<line x1=\"" + px(x) + "\" y1=\"" + px(top_pad - 4) + "\" x2=\"" + px(x) + "\" y2=\"" + px(height - 26) + "\" class=\"grid\"/>";
    svg += "<text x=\"" + px(x) + "\" y=\"" + px(height - 10) + "\" class=\"tick\" text-anchor=\"middle\">" + html_escape(format_value(top * q / 4.0)) +
           "</text>";
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    const double y = top_pad + row_h * static_cast<double>(i);
    const double w = std::max(0.0, bar_w * std::min(1.0, errors[i] / top));
    svg += "<g><title>" + html_escape(rows_kind[i].first + ": " + format_value(errors[i])) + "</title>";
    svg += "<text x=\"" + px(label_w - 6) + "\" y=\"" + px(y + 11.5) + "\" class=\"name\" text-anchor=\"end\">" + html_escape(shorten(rows_kind[i].first, 44)) +
           "</text>";
    svg += "<rect x=\"" + px(label_w) + "\" y=\"" + px(y + 2) + "\" width=\"" + px(w) + "\" height=\"" + px(row_h - 4) + "\" fill=\"" +
           kind_colour(rows_kind[i].second) + "\"/>";
    svg += "<text x=\"" + px(label_w + w + 5) + "\" y=\"" + px(y + 11.5) + "\" class=\"val\">" + html_escape(format_value(errors[i])) + "</text></g>";
  }
  return svg + "</svg>";
}

std::string size_chart_svg(const json& by_kind) {
  if (!by_kind.is_array() || by_kind.empty()) return "";
  double total_before = 0, total_after = 0;
  std::vector<std::string> kinds;
  for (const auto& k : by_kind) {
    total_before += number_at(k, "bytes_before");
    total_after += number_at(k, "bytes_after");
    kinds.push_back(k.is_object() && k.contains("kind") && k["kind"].is_string() ? k["kind"].get<std::string>() : "other");
  }
  const double scale_total = std::max({total_before, total_after, 1.0});
  const double label_w = 70, bar_w = 840, bar_h = 34, width = 1080, height = 150;
  std::string svg = "<svg class=\"chart\" role=\"img\" aria-label=\"size by tensor kind, before and after\" viewBox=\"0 0 " + px(width) + " " + px(height) +
                    "\" width=\"" + px(width) + "\" height=\"" + px(height) + "\" xmlns=\"http://www.w3.org/2000/svg\">";
  const char* side_key[2] = {"bytes_before", "bytes_after"};
  const double totals[2] = {total_before, total_after};
  for (int side = 0; side < 2; ++side) {
    const double y = 12 + side * (bar_h + 14);
    svg += "<text x=\"" + px(label_w - 8) + "\" y=\"" + px(y + bar_h / 2 + 5) + "\" class=\"name\" text-anchor=\"end\">" + (side ? "after" : "before") + "</text>";
    double x = label_w;
    for (size_t i = 0; i < by_kind.size(); ++i) {
      const double bytes = number_at(by_kind[i], side_key[side]);
      const double w = bar_w * bytes / scale_total;
      svg += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(bar_h) + "\" fill=\"" + kind_colour(kinds[i]) +
             "\"><title>" + html_escape(kinds[i] + " " + side_key[side] + ": " + format_value(value_at(by_kind[i], side_key[side]))) + "</title></rect>";
      x += w;
    }
    svg += "<text x=\"" + px(x + 6) + "\" y=\"" + px(y + bar_h / 2 + 5) + "\" class=\"val\">" + html_escape(format_value(static_cast<uint64_t>(totals[side]))) +
           " bytes</text>";
  }
  svg += legend(kinds, label_w, 112);
  return svg + "</svg>";
}

}  // namespace edgepack::report

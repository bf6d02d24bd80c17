// Markdown report: headings, tables, the recipe as a fenced JSON block. Every string is escaped so a
// hostile tensor name cannot break a table, inject HTML or close the fence.
#include <algorithm>

#include "core/utf8.h"
#include "report/format.h"
#include "report/render.h"

namespace edgepack::report {

namespace {

using json = nlohmann::json;

// Table-cell text: Markdown's inline punctuation backslash-escaped (numbers need none, so a number
// reads as format_value gives it), '<' '>' '&' as entities (renderers pass
// inline HTML through), line breaks and other control characters as spaces, invalid UTF-8 bytes as
// U+FFFD.
std::string md(const std::string& s) {
  const bool valid = is_valid_utf8(s);
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 && !valid) out += "\xEF\xBF\xBD";
    else if (c < 0x20 || c == 0x7F) out += ' ';
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (std::string_view("\\`*_{}[]()|~").find(ch) != std::string_view::npos) out += std::string("\\") + ch;
    else out += ch;
  }
  return out;
}

std::string cell(const json& v) { return md(format_value(v)); }

const json& field(const json& obj, const char* key) {
  static const json null_value;
  return obj.is_object() && obj.contains(key) ? obj[key] : null_value;
}

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows, const std::string& align) {
  std::string out = "|";
  for (const auto& h : header) out += " " + h + " |";
  out += "\n|";
  for (size_t i = 0; i < header.size(); ++i) out += i < align.size() && align[i] == 'r' ? " ---: |" : " --- |";
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (const auto& c : r) out += " " + c + " |";
    out += "\n";
  }
  return out + "\n";
}

std::string fenced_json(const json& value) {
  const std::string text = value.dump(2, ' ', false, json::error_handler_t::replace);
  // A fence longer than any backtick run inside, so no string in the recipe can close it.
  size_t longest = 0, run = 0;
  for (char c : text) longest = std::max(longest, run = c == '`' ? run + 1 : 0);
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + "json\n" + text + "\n" + fence + "\n\n";
}

}  // namespace

std::string render_markdown(const json& r) {
  std::string out = "# edgepack compression report\n\n";
  if (r.contains("tool")) out += "Made by " + cell(r["tool"]) + ".\n\n";
  for (const char* side : {"input", "output"}) {
    const json& f = field(r, side);
    if (!f.is_object()) continue;
    out += std::string("- ") + side + ": " + (f.contains("path") ? "`" + md(format_value(f["path"])) + "`" : std::string("?"));
    if (f.contains("format")) out += " (" + cell(f["format"]) + ")";
    if (f.contains("bytes")) out += ", " + cell(f["bytes"]) + " bytes";
    if (f.contains("sha256")) out += ", sha256 " + cell(f["sha256"]);
    out += "\n";
  }
  out += "\n";
  const json& totals = field(r, "totals");
  if (totals.is_object()) {
    out += "## Totals\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& [key, label] : std::vector<std::pair<const char*, const char*>>{{"weights", "weights"},
                                                                                     {"bytes_before", "bytes before"},
                                                                                     {"bytes_after", "bytes after"},
                                                                                     {"bits_per_weight_before", "bits/weight before"},
                                                                                     {"bits_per_weight_after", "bits/weight after"},
                                                                                     {"compression_ratio", "compression ratio"}})
      if (totals.contains(key)) rows.push_back({label, cell(totals[key])});
    out += table({"total", "value"}, rows, "lr");
  }
  const auto quality = quality_rows(r);
  if (r.contains("quality")) {
    out += "## Quality\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& q : quality)
      rows.push_back({md(q.metric), cell(q.value), q.bound.empty() ? "" : (q.bound == "max" ? "<= " : ">= ") + cell(q.threshold),
                      q.passed.is_null() ? "" : (q.passed.get<bool>() ? "pass" : "**FAIL**")});
    out += table({"metric", "value", "threshold", "result"}, rows, "lrrl");
    const json& passed = field(r["quality"], "passed");
    if (passed.is_boolean()) out += std::string("Result: **") + (passed.get<bool>() ? "PASS" : "FAIL") + "**\n\n";
  }
  const json& by_kind = field(r, "by_kind");
  if (by_kind.is_array() && !by_kind.empty()) {
    out += "## Size by tensor kind\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : by_kind)
      rows.push_back({cell(field(k, "kind")), cell(field(k, "weights")), cell(field(k, "bytes_before")), cell(field(k, "bytes_after"))});
    out += table({"kind", "weights", "bytes before", "bytes after"}, rows, "lrrr");
  }
  const json& passes = field(r, "passes");
  if (passes.is_array() && !passes.empty()) {
    out += "## Passes\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : passes)
      rows.push_back({cell(field(p, "name")), cell(field(p, "summary")), cell(field(p, "seconds")), cell(field(p, "peak_rss_bytes"))});
    out += table({"pass", "summary", "seconds", "peak RSS bytes"}, rows, "llrr");
  }
  const json& tensors = field(r, "tensors");
  if (tensors.is_array() && !tensors.empty()) {
    out += "## Tensors\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : tensors)
      rows.push_back({cell(field(t, "name")), cell(field(t, "kind")), md(format_shape(field(t, "shape"))), cell(field(t, "encoding")),
                      cell(field(t, "layout")), cell(field(t, "sparsity")), cell(field(t, "bytes_before")), cell(field(t, "bytes_after")),
                      cell(field(t, "bits_per_weight")), cell(field(t, "rel_error"))});
    out += table({"tensor", "kind", "shape", "encoding", "layout", "sparsity", "bytes before", "bytes after", "bits/weight", "rel. error"}, rows,
                 "llllllrrrr");
  }
  if (r.contains("recipe")) {
    out += "## Recipe\n\n";
    if (r.contains("recipe_sha256")) out += "sha256 " + cell(r["recipe_sha256"]) + "\n\n";
    out += fenced_json(r["recipe"]);
  }
  return out;
}

}  // namespace edgepack::report

// HTML report: one self-contained page (inline CSS and SVG, no scripts, fonts or URLs). Every key
// number sits in an element with data-key="<dotted JSON path>" whose text is exactly
// format_value(value_at(report, key)), so tests (and scrapers) can tie the page to the JSON.
#include "report/format.h"
#include "report/html_charts.h"
#include "report/html_text.h"
#include "report/render.h"

namespace edgepack::report {

namespace {

using json = nlohmann::json;

const char* const style = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f6f7f9;color:#1f2933}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
.meta{color:#52606d;font-size:13px;margin:2px 0;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:12px 16px;min-width:150px;flex:1 1 150px}
.card .label{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#52606d}
.card .big{font-size:22px;font-weight:600;margin-top:4px}.card .small{font-size:12px;color:#52606d;margin-top:2px}
.pass{background:#e3f5e1;border-color:#59a14f}.fail{background:#fde4e4;border-color:#e15759}
.pass .big{color:#2f7a2b}.fail .big{color:#b3261e}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left}th{background:#eef1f5}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}.chart{max-width:100%;height:auto;background:#fff;border:1px solid #d5d9e0;border-radius:6px}
.chart text{font-size:12px;fill:#1f2933}.chart .tick{fill:#52606d;font-size:11px}.chart .grid{stroke:#e4e7eb}
pre{background:#fff;border:1px solid #d5d9e0;padding:12px;overflow-x:auto;font-size:12px}
.note{color:#52606d;font-size:13px}
)";

std::string num(const json& report, const std::string& key) {
  return "<span data-key=\"" + html_escape(key) + "\">" + html_escape(format_value(value_at(report, key))) + "</span>";
}

std::string text_of(const json& obj, const char* key) {
  const json& v = value_at(obj, key);
  return v.is_null() ? std::string() : html_escape(format_value(v));
}

std::string card(const std::string& label, const std::string& big, const std::string& small, const std::string& extra_class = "") {
  return "<div class=\"card" + (extra_class.empty() ? "" : " " + extra_class) + "\"><div class=\"label\">" + label + "</div><div class=\"big\">" + big +
         "</div>" + (small.empty() ? "" : "<div class=\"small\">" + small + "</div>") + "</div>";
}

// Metric names are JSON keys from the file: usable in data-key only when the dotted path stays unambiguous.
bool plain_key(const std::string& key) { return !key.empty() && key.find('.') == std::string::npos; }

std::string cards(const json& r, const std::vector<quality_row>& quality) {
  std::string out = "<section class=\"cards\">";
  if (value_at(r, "totals").is_object()) {
    out += card("size", num(r, "totals.bytes_before") + " &rarr; " + num(r, "totals.bytes_after"), "bytes, " + num(r, "totals.weights") + " weights");
    out += card("compression", num(r, "totals.compression_ratio") + "&times;", "before / after");
    out += card("bits per weight", num(r, "totals.bits_per_weight_before") + " &rarr; " + num(r, "totals.bits_per_weight_after"),
                "incl. scales, zero points, sparsity metadata");
  }
  for (const auto& q : quality) {
    if (!plain_key(q.metric) || q.value.is_null()) continue;
    const std::string limit = q.bound.empty() ? "" : (q.bound == "max" ? "limit &le; " : "limit &ge; ") + html_escape(format_value(q.threshold));
    out += card(html_escape(q.metric), num(r, "quality.metrics." + q.metric), limit, q.passed.is_boolean() ? (q.passed.get<bool>() ? "pass" : "fail") : "");
  }
  const json& passed = value_at(r, "quality.passed");
  if (passed.is_boolean())
    out += card("verdict", passed.get<bool>() ? "PASS" : "FAIL", "thresholds met: " + num(r, "quality.passed"), passed.get<bool>() ? "pass" : "fail");
  return out + "</section>";
}

std::string table_html(const std::vector<std::string>& header, const std::string& right_aligned, const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<div class=\"scroll\"><table><thead><tr>";
  for (const auto& h : header) out += "<th>" + h + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& row : rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) out += (i < right_aligned.size() && right_aligned[i] == 'r' ? "<td class=\"n\">" : "<td>") + row[i] + "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

std::string heading(const json& r) {
  std::string out = "<h1>edgepack compression report</h1>";
  for (const char* side : {"input", "output"}) {
    const json& f = value_at(r, side);
    if (!f.is_object()) continue;
    out += std::string("<p class=\"meta\">") + side + ": <b>" + text_of(f, "path") + "</b>";
    if (f.contains("format")) out += " (" + text_of(f, "format") + ")";
    if (f.contains("bytes")) out += ", " + num(r, std::string(side) + ".bytes") + " bytes";
    if (f.contains("sha256")) out += ", sha256 " + text_of(f, "sha256");
    out += "</p>";
  }
  if (r.contains("tool")) out += "<p class=\"meta\">made by " + text_of(r, "tool") + "</p>";
  return out;
}

}  // namespace

std::string render_html(const json& r) {
  const auto quality = quality_rows(r);
  std::string title = "edgepack report";
  if (const json& in = value_at(r, "input.path"); in.is_string()) title += " \xE2\x80\x94 " + in.get<std::string>();
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<title>" + html_escape(title) + "</title><style>" + style + "</style></head><body><main>";
  out += heading(r) + cards(r, quality);
  const json& tensors = value_at(r, "tensors");
  out += "<h2>Relative error per tensor</h2>";
  if (std::string svg = error_chart_svg(tensors); !svg.empty())
    out += "<p class=\"note\">||W<sub>after</sub> &minus; W<sub>before</sub>||<sub>F</sub> / ||W<sub>before</sub>||<sub>F</sub>, bars coloured by tensor kind.</p>" + svg;
  else
    out += "<p class=\"note\">No per-tensor error: the report was made without the model before compression (edgepack report --base).</p>";
  const json& by_kind = value_at(r, "by_kind");
  if (by_kind.is_array() && !by_kind.empty()) {
    out += "<h2>Size by tensor kind</h2>" + size_chart_svg(by_kind);
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < by_kind.size(); ++i) {
      const std::string k = "by_kind." + std::to_string(i) + ".";
      rows.push_back({text_of(by_kind[i], "kind"), num(r, k + "weights"), num(r, k + "bytes_before"), num(r, k + "bytes_after")});
    }
    out += table_html({"kind", "weights", "bytes before", "bytes after"}, "lrrr", rows);
  }
  if (r.contains("quality")) {
    out += "<h2>Quality</h2>";
    std::vector<std::vector<std::string>> rows;
    for (const auto& q : quality)
      rows.push_back({html_escape(q.metric), plain_key(q.metric) && !q.value.is_null() ? num(r, "quality.metrics." + q.metric) : html_escape(format_value(q.value)),
                      q.bound.empty() ? "" : (q.bound == "max" ? "&le; " : "&ge; ") + html_escape(format_value(q.threshold)),
                      q.passed.is_null() ? "" : (q.passed.get<bool>() ? "pass" : "<b>FAIL</b>")});
    out += table_html({"metric", "value", "threshold", "result"}, "lrrl", rows);
  }
  const json& passes = value_at(r, "passes");
  if (passes.is_array() && !passes.empty()) {
    out += "<h2>Passes</h2>";
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < passes.size(); ++i) {
      const std::string k = "passes." + std::to_string(i) + ".";
      rows.push_back({text_of(passes[i], "name"), text_of(passes[i], "summary"), num(r, k + "seconds"), num(r, k + "peak_rss_bytes")});
    }
    out += table_html({"pass", "summary", "seconds", "peak RSS bytes"}, "llrr", rows);
  }
  if (tensors.is_array() && !tensors.empty()) {
    out += "<h2>Tensors</h2>";
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const json& t = tensors[i];
      const std::string k = "tensors." + std::to_string(i) + ".";
      rows.push_back({text_of(t, "name"), text_of(t, "kind"), html_escape(format_shape(value_at(t, "shape"))), text_of(t, "encoding"), text_of(t, "layout"),
                      num(r, k + "sparsity"), num(r, k + "bytes_before"), num(r, k + "bytes_after"), num(r, k + "bits_per_weight"), num(r, k + "rel_error")});
    }
    out += table_html({"tensor", "kind", "shape", "encoding", "layout", "sparsity", "bytes before", "bytes after", "bits/weight", "rel. error"}, "lllllrrrrr",
                      rows);
  }
  if (r.contains("recipe")) {
    out += "<h2>Recipe</h2>";
    if (r.contains("recipe_sha256")) out += "<p class=\"meta\">sha256 " + text_of(r, "recipe_sha256") + "</p>";
    out += "<pre>" + html_escape(r["recipe"].dump(2, ' ', false, json::error_handler_t::replace)) + "</pre>";
  }
  return out + "</main></body></html>\n";
}

}  // namespace edgepack::report

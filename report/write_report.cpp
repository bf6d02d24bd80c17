// Report output: format by extension, dispatch to the renderers, atomic write.
#include <algorithm>
#include <cctype>
#include <span>

#include "core/atomic_file.h"
#include "report/render.h"
#include "report/report.h"

namespace edgepack::report {

Expected<report_format> report_format_for_path(const std::filesystem::path& out) {
  std::string ext = out.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".json") return report_format::json;
  if (ext == ".md") return report_format::markdown;
  if (ext == ".html" || ext == ".htm") return report_format::html;
  return bad_usage(out.string() + ": unknown report format '" + ext + "' (expected .json, .md or .html)");
}

std::string render(const nlohmann::json& report, report_format format) {
  switch (format) {
    case report_format::json: return report.dump(2) + "\n";
    case report_format::markdown: return render_markdown(report);
    case report_format::html: return render_html(report);
  }
  return {};
}

Status write_report(const nlohmann::json& report, const std::filesystem::path& out) {
  auto format = report_format_for_path(out);
  if (!format.ok()) return format.status();
  const std::string text = render(report, *format);
  return write_file_atomically(out.string(), std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace edgepack::report

#include "report/html_text.h"

#include "core/utf8.h"

namespace edgepack::report {

std::string html_escape(const std::string& text) {
  const bool valid = is_valid_utf8(text);
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 && !valid) out += "\xEF\xBF\xBD";
    else if (c < 0x20 || c == 0x7F) out += ' ';
    else if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else if (c == '\'') out += "&#39;";
    else out += ch;
  }
  return out;
}

const char* kind_colour(const std::string& kind) {
  // Tableau-10 hues: distinct for colour-blind readers and in greyscale print.
  if (kind == "embedding") return "#4e79a7";
  if (kind == "attention") return "#f28e2b";
  if (kind == "mlp") return "#59a14f";
  if (kind == "output") return "#e15759";
  if (kind == "norm") return "#76b7b2";
  if (kind == "conv") return "#edc948";
  return "#b07aa1";
}

}  // namespace edgepack::report

// Text helpers of the HTML report: escaping and the colours of tensor kinds (charts and legends).
#pragma once
#include <string>

namespace edgepack::report {

// Escapes & < > " ' (safe in element text and quoted attributes, HTML and inline SVG alike);
// control characters become spaces and, when the text is not valid UTF-8, every non-ASCII byte
// becomes U+FFFD, so hostile names cannot inject markup or break the page's encoding.
std::string html_escape(const std::string& text);

// Fill colour of a tensor kind ("#4e79a7" ...); unknown kinds get the "other" colour.
const char* kind_colour(const std::string& kind);

}  // namespace edgepack::report

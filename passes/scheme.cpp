#include "passes/scheme.h"

#include <charconv>

namespace edgepack {

static Expected<int64_t> parse_number(const std::string& text, size_t& pos, const std::string& scheme) {
  int64_t value = 0;
  const char* begin = text.data() + pos;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return bad_usage("scheme '" + scheme + "': expected a number at position " + std::to_string(pos));
  pos = static_cast<size_t>(ptr - text.data());
  return value;
}

Expected<quant_encoding> parse_weight_scheme(const std::string& text) {
  const std::string grammar = " (grammar: w<bits>[g<group>][_asym], bits 2..8, e.g. w8, w4g32, w3g128_asym)";
  if (text.find('+') != std::string::npos || (!text.empty() && text[0] == 's'))
    return bad_usage("scheme '" + text + "': sparsity terms (s50, s2:4) belong to `edgepack prune`; quantize takes one weight term" + grammar);
  if (text.size() < 2 || text[0] != 'w') return bad_usage("scheme '" + text + "' is not a weight scheme" + grammar);
  quant_encoding enc;
  size_t pos = 1;
  EP_ASSIGN_OR_RETURN(int64_t bits, parse_number(text, pos, text));
  if (bits < 2 || bits > 8) return bad_usage("scheme '" + text + "': bits must be 2..8" + grammar);
  enc.bits = static_cast<int>(bits);
  enc.group_size = 0;
  enc.symmetric = true;
  if (pos < text.size() && text[pos] == 'g') {
    ++pos;
    EP_ASSIGN_OR_RETURN(enc.group_size, parse_number(text, pos, text));
    if (enc.group_size < 1 || enc.group_size > (1 << 20)) return bad_usage("scheme '" + text + "': group size must be 1..1048576" + grammar);
  }
  if (text.compare(pos, std::string::npos, "_asym") == 0) {
    enc.symmetric = false;
    pos += 5;
  } else if (text.compare(pos, std::string::npos, "_sym") == 0) {
    pos += 4;
  }
  if (pos != text.size()) return bad_usage("scheme '" + text + "': unexpected '" + text.substr(pos) + "'" + grammar);
  return enc;
}

}  // namespace edgepack

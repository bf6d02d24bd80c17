#include "calibration/text_source.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "calibration/tokenizer.h"

namespace edgepack {

namespace {

Expected<std::pair<int64_t, int64_t>> parse_range(const std::string& spec, int64_t length) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return bad_usage("--range '" + spec + "' must look like BEGIN:END (either may be empty or negative)");
  auto parse_side = [&](const std::string& text, int64_t fallback) -> Expected<int64_t> {
    if (text.empty()) return fallback;
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) return bad_usage("--range '" + spec + "': '" + text + "' is not an integer");
    if (value < 0) value += length;
    return std::clamp<int64_t>(value, 0, length);
  };
  EP_ASSIGN_OR_RETURN(int64_t begin, parse_side(spec.substr(0, colon), 0));
  EP_ASSIGN_OR_RETURN(int64_t end, parse_side(spec.substr(colon + 1), length));
  return std::make_pair(begin, std::max(begin, end));
}

}  // namespace

Expected<std::string> read_text_file(const std::string& path, const char_range& range) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad_input(path + ": cannot open text file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (!is_valid_utf8(text)) return bad_input(path + ": not valid UTF-8 text");
  if (range.spec.empty()) return text;
  // Byte offset of every code point start, so the range can cut on character boundaries.
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  const auto length = static_cast<int64_t>(starts.size());
  EP_ASSIGN_OR_RETURN(auto bounds, parse_range(range.spec, length));
  const size_t begin = bounds.first < length ? starts[static_cast<size_t>(bounds.first)] : text.size();
  const size_t end = bounds.second < length ? starts[static_cast<size_t>(bounds.second)] : text.size();
  return text.substr(begin, end - begin);
}

}  // namespace edgepack

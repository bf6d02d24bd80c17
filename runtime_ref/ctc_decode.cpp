#include "runtime_ref/ctc_decode.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/utf8.h"
#include "runtime_ref/metrics.h"

namespace edgepack {

Expected<ctc_charset> read_ctc_keys(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return bad_input(path + ": CTC keys file not found (expected one symbol per line)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_failure(path + ": cannot open the CTC keys file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (!is_valid_utf8(text)) return bad_input(path + ": CTC keys file is not valid UTF-8");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  if (lines.empty()) return bad_input(path + ": CTC keys file is empty (expected one symbol per line)");
  return make_ctc_charset(std::move(lines));
}

ctc_charset make_ctc_charset(std::vector<std::string> lines) {
  ctc_charset charset;
  charset.symbols.reserve(lines.size() + 2);
  charset.symbols.emplace_back();
  for (auto& line : lines) charset.symbols.push_back(std::move(line));
  charset.symbols.emplace_back(" ");
  return charset;
}

std::vector<int64_t> ctc_greedy_classes(std::span<const float> scores, int64_t steps, int64_t classes) {
  std::vector<int64_t> kept;
  int64_t previous = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t best = argmax(scores.subspan(static_cast<size_t>(t * classes), static_cast<size_t>(classes)));
    if (best != previous && best != 0) kept.push_back(best);
    previous = best;
  }
  return kept;
}

Expected<std::string> ctc_greedy_text(std::span<const float> scores, int64_t steps, int64_t classes, const ctc_charset& charset) {
  if (classes != charset.classes())
    return bad_input("the output has " + std::to_string(classes) + " classes per time step but the CTC keys give " + std::to_string(charset.classes()) +
                     " (blank + " + std::to_string(charset.classes() - 2) + " lines + space)");
  if (steps < 0 || classes <= 0 || static_cast<uint64_t>(steps) * static_cast<uint64_t>(classes) != scores.size())
    return bad_input("the output does not hold " + std::to_string(steps) + " x " + std::to_string(classes) + " scores");
  std::string text;
  for (int64_t c : ctc_greedy_classes(scores, steps, classes)) text += charset.symbols[static_cast<size_t>(c)];
  return text;
}

}  // namespace edgepack

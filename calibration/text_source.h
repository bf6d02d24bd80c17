// Text for evaluation and calibration: a UTF-8 file, optionally cut to a character range so that
// calibration and evaluation never overlap (docs/eval.md).
//
// Range syntax "BEGIN:END" counts Unicode code points, Python-slice style: either side may be
// empty or negative (from the end). "-60000:" is the last 60,000 characters, ":200000" the first
// 200,000.
#pragma once
#include <string>

#include "core/status.h"

namespace edgepack {

struct char_range {
  std::string spec;  // "" = whole file
};

Expected<std::string> read_text_file(const std::string& path, const char_range& range);

}  // namespace edgepack

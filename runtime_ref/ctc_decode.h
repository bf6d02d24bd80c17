// CTC greedy decoding of a text recogniser's output (PaddleOCR PP-OCR rec and the like).
//
// The output is [T, C] per batch item (per-timestep scores: softmax probabilities or logits, the
// argmax is the same). Greedy decoding takes the argmax class of each time step, collapses runs of
// the same class and drops class 0, the CTC blank. The charset maps the other classes to text:
// class i in 1..n is line i of the keys file (n lines, one symbol each) and class n + 1 is a space,
// PaddleOCR's use_space_char convention, so C must be n + 2.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgepack {

struct ctc_charset {
  std::vector<std::string> symbols;  // symbols[i] for class i; symbols[0] (blank) is ""
  int64_t classes() const { return static_cast<int64_t>(symbols.size()); }
};

// Reads a keys file: UTF-8, one symbol per line ('\n' or "\r\n"; a final newline is optional).
// Errors (bad_input) name the file: unreadable, empty, not UTF-8.
Expected<ctc_charset> read_ctc_keys(const std::string& path);
// The charset for explicit lines (tests): blank, the lines, then a space.
ctc_charset make_ctc_charset(std::vector<std::string> lines);

// Class ids left after greedy decoding of one [steps, classes] score matrix (row-major).
std::vector<int64_t> ctc_greedy_classes(std::span<const float> scores, int64_t steps, int64_t classes);
// The decoded text; bad_input when the scores' class count differs from the charset's.
Expected<std::string> ctc_greedy_text(std::span<const float> scores, int64_t steps, int64_t classes, const ctc_charset& charset);

}  // namespace edgepack

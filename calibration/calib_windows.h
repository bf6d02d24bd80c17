// Calibration data for language models: token windows cut from a text file with the model's
// tokenizer, or read as explicit ids from a JSON file (docs/quantization.md, "Calibration data").
//
// From text (make_calibration_windows): the text (already cut to its character range) is
// tokenized as [BOS] + encode(text) (llama2.c encoder, one dummy-prefix space), giving a stream of
// n ids. Every window has exactly `seq` ids and its first id is then set to BOS.
// * sequential: window k = stream[k*seq, (k+1)*seq), k = 0 .. min(samples, n/seq) - 1.
// * random: rng = std::mt19937_64(seed); window k starts at rng() % (n - seq + 1) (k = 0 .. samples-1,
//   drawn in order; windows may overlap; the modulo bias is below 2^-40 for any real text).
// A stream shorter than one window is an error (bad_input), as are samples or seq < 1.
//
// From JSON (read_calibration_windows_json): an object with "windows": [[id, ...], ...] (the format
// of ../shared/peers/stories260K-calib-windows.json; other keys are ignored). Every window must be
// non-empty, all of the same length, and every id inside the vocabulary.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/status.h"

namespace edgepack {

enum class calib_sampling { random, sequential };

struct calib_window_options {
  int64_t samples = 128;   // windows wanted
  int64_t seq = 256;       // ids per window, BOS included
  uint64_t seed = 0;
  calib_sampling sampling = calib_sampling::random;
  // How the command spells these options, for error messages ("--calib-" for quantize/prune,
  // "--" for distill-targets, whose options are --samples/--seq).
  std::string flag_prefix = "--calib-";
};

struct calib_windows {
  std::vector<std::vector<int64_t>> windows;  // each of `seq` ids, first = BOS
  int64_t stream_tokens = 0;                   // ids in the tokenized text (BOS included); 0 for JSON
};

// `flag` is the option as the command spells it, for the error message.
Expected<calib_sampling> parse_calib_sampling(const std::string& name, const std::string& flag = "--calib-sampling");

// `text` is the selected text; `source` names it in messages.
Expected<calib_windows> make_calibration_windows(const std::string& text, const vocabulary& vocab, const calib_window_options& options,
                                                 const std::string& source);

Expected<calib_windows> read_calibration_windows_json(const std::string& path, int64_t vocab_size);

}  // namespace edgepack

// verify --data: a language model against its original on text, with KLD / perplexity / top-1
// thresholds. Shared by `verify` and the verify step of `compress`.
#pragma once
#include <nlohmann/json.hpp>

#include "tools/eval_common.h"

namespace edgepack::cli {

struct llm_thresholds {
  double max_kld = -1;           // < 0: not checked
  double max_ppl_increase = -1;  // ratio: 0.03 = +3 %
  double min_top1 = -1;
};

struct verify_outcome {
  nlohmann::json result;   // what `verify --json` prints
  nlohmann::json metrics;  // report "quality.metrics" (ppl_base, ppl, kld, top1, cosine_min, ...)
  bool passed = false;
};

// Prints one line per check on stdout when `text_output`. Models are loaded from args paths unless given.
Expected<verify_outcome> verify_language_model(const eval_args& args, const llm_thresholds& limits, bool text_output, const model* preloaded = nullptr,
                                               const model* preloaded_base = nullptr);

}  // namespace edgepack::cli

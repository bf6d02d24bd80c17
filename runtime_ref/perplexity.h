// Perplexity and distribution-shift evaluation of a language model over a token stream.
//
// Protocols (docs/eval.md):
//  * "edgepack" (default): the stream (without BOS) is cut into consecutive windows of ctx-1
//    tokens; each window is run as [BOS, window...] from position 0 and every window token is
//    scored (the first one from BOS alone). Every token of the stream is scored exactly once.
//  * "llama.cpp": as llama-perplexity does: the stream starts with BOS; it is cut into
//    floor(n / ctx) chunks of ctx tokens, the first token of each chunk replaced by BOS, and only
//    the second half is scored: positions ctx/2 .. ctx-2 predict tokens ctx/2+1 .. ctx-1.
#pragma once
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime_ref/llm_session.h"

namespace edgepack {

enum class eval_protocol { edgepack, llama_cpp };
Expected<eval_protocol> parse_eval_protocol(const std::string& name);

struct eval_options {
  int64_t ctx = 256;
  eval_protocol protocol = eval_protocol::edgepack;
  int64_t max_windows = 0;  // 0: all
  std::function<void(int64_t done, int64_t total)> progress;
};

struct eval_result {
  double nll = 0;  // mean negative log-likelihood per scored token (nats)
  double ppl = 0;
  int64_t tokens = 0;  // scored tokens
  int64_t windows = 0;
  // With a base model:
  std::optional<double> kld_mean, kld_p99, top1_agreement;
  std::optional<double> base_ppl;
  double seconds = 0;
};

// `stream` is the tokenized text without BOS. With `base`, KL(base || model) and top-1 agreement
// are computed at every scored position.
Expected<eval_result> evaluate_perplexity(llm_session& session, llm_session* base, std::span<const int64_t> stream, const eval_options& options);

}  // namespace edgepack

#include "runtime_ref/perplexity.h"

#include <chrono>
#include <cmath>

#include "runtime_ref/metrics.h"

namespace edgepack {

Expected<eval_protocol> parse_eval_protocol(const std::string& name) {
  if (name == "edgepack") return eval_protocol::edgepack;
  if (name == "llama.cpp") return eval_protocol::llama_cpp;
  return bad_usage("unknown protocol '" + name + "' (expected edgepack or llama.cpp)");
}

namespace {

// One window to run: the tokens fed, and the positions whose next-token prediction is scored.
struct window {
  std::vector<int64_t> tokens;
  int64_t first_scored = 0;  // position p predicts tokens[p + 1]
  int64_t last_scored = 0;   // inclusive
};

std::vector<window> make_windows(std::span<const int64_t> stream, int64_t bos, const eval_options& o) {
  std::vector<window> windows;
  if (o.protocol == eval_protocol::edgepack) {
    const int64_t body = o.ctx - 1;
    for (size_t start = 0; start < stream.size(); start += static_cast<size_t>(body)) {
      const size_t end = std::min(stream.size(), start + static_cast<size_t>(body));
      window w;
      w.tokens.push_back(bos);
      w.tokens.insert(w.tokens.end(), stream.begin() + static_cast<std::ptrdiff_t>(start), stream.begin() + static_cast<std::ptrdiff_t>(end));
      w.first_scored = 0;
      w.last_scored = static_cast<int64_t>(w.tokens.size()) - 2;
      windows.push_back(std::move(w));
    }
  } else {
    std::vector<int64_t> with_bos;
    with_bos.push_back(bos);
    with_bos.insert(with_bos.end(), stream.begin(), stream.end());
    const size_t chunks = with_bos.size() / static_cast<size_t>(o.ctx);
    for (size_t c = 0; c < chunks; ++c) {
      window w;
      w.tokens.assign(with_bos.begin() + static_cast<std::ptrdiff_t>(c * o.ctx), with_bos.begin() + static_cast<std::ptrdiff_t>((c + 1) * o.ctx));
      w.tokens[0] = bos;
      w.first_scored = o.ctx / 2;
      w.last_scored = o.ctx - 2;
      windows.push_back(std::move(w));
    }
  }
  if (o.max_windows > 0 && static_cast<int64_t>(windows.size()) > o.max_windows) windows.resize(static_cast<size_t>(o.max_windows));
  return windows;
}

}  // namespace

Expected<eval_result> evaluate_perplexity(llm_session& session, llm_session* base, std::span<const int64_t> stream, const eval_options& options) {
  const auto start_time = std::chrono::steady_clock::now();
  if (options.ctx < 2) return bad_usage("--ctx must be at least 2");
  if (options.ctx > session.config().max_seq_len)
    return bad_usage("--ctx " + std::to_string(options.ctx) + " exceeds the model's context of " + std::to_string(session.config().max_seq_len));
  const auto windows = make_windows(stream, session.config().bos_id, options);
  if (windows.empty()) return bad_input("the evaluation text is too short for one window of " + std::to_string(options.ctx) + " tokens");
  const int64_t vocab = session.config().vocab_size;
  if (base != nullptr && base->config().vocab_size != vocab) return bad_usage("the base model has a different vocabulary size");
  double nll_sum = 0, base_nll_sum = 0;
  int64_t scored = 0, agree = 0;
  std::vector<double> klds;
  for (size_t wi = 0; wi < windows.size(); ++wi) {
    const window& w = windows[wi];
    session.reset();
    EP_ASSIGN_OR_RETURN(std::vector<float> logits, session.forward(w.tokens));
    std::vector<float> base_logits;
    if (base != nullptr) {
      base->reset();
      EP_ASSIGN_OR_RETURN(base_logits, base->forward(w.tokens));
    }
    for (int64_t p = w.first_scored; p <= w.last_scored; ++p) {
      const std::span<const float> row(logits.data() + p * vocab, static_cast<size_t>(vocab));
      const auto log_q = log_softmax(row);
      const int64_t target = w.tokens[static_cast<size_t>(p + 1)];
      nll_sum -= log_q[static_cast<size_t>(target)];
      ++scored;
      if (base != nullptr) {
        const std::span<const float> base_row(base_logits.data() + p * vocab, static_cast<size_t>(vocab));
        const auto log_p = log_softmax(base_row);
        base_nll_sum -= log_p[static_cast<size_t>(target)];
        klds.push_back(kl_divergence(log_p, log_q));
        agree += argmax(row) == argmax(base_row) ? 1 : 0;
      }
    }
    if (options.progress) options.progress(static_cast<int64_t>(wi + 1), static_cast<int64_t>(windows.size()));
  }
  eval_result r;
  r.tokens = scored;
  r.windows = static_cast<int64_t>(windows.size());
  r.nll = nll_sum / static_cast<double>(scored);
  r.ppl = std::exp(r.nll);
  if (base != nullptr) {
    double sum = 0;
    for (double k : klds) sum += k;
    r.kld_mean = sum / static_cast<double>(klds.size());
    r.kld_p99 = quantile(klds, 0.99);
    r.top1_agreement = static_cast<double>(agree) / static_cast<double>(scored);
    r.base_ppl = std::exp(base_nll_sum / static_cast<double>(scored));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return r;
}

}  // namespace edgepack

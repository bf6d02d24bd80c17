// `eval STUDENT --distill-targets DIR`: KL(teacher || student) against stored targets, without the
// teacher (docs/distill.md). The student's log-probs use the targets' temperature:
// log_q = log_softmax(student_logits / T).
//
// Full targets: the exact KL, sum_v p_v (log p_v - log q_v), as eval --base computes it.
// Top-K targets: the tail-bucket estimate
//   sum_{i in K} p_i (log p_i - log q_i) + p_tail (log p_tail - log q_tail),
//   p_tail = max(0, 1 - sum_{i in K} p_i),  q_tail = sum_{v not in K} q_v,
// i.e. the exact KL between the two distributions coarsened to K+1 outcomes. By the log-sum
// inequality it never exceeds the full KL, and it equals it when K = vocab.
//
// Scored positions follow eval's protocols applied to each stored window of seq tokens: edgepack
// = positions 0 .. seq-2 (each predicts a token of the window), llama.cpp = seq/2 .. seq-2. With
// sequential windows of seq = ctx this is exactly `eval --base --protocol llama.cpp --ctx seq`.
#pragma once
#include <functional>
#include <span>
#include <string>

#include "passes/distill_manifest.h"
#include "runtime_ref/llm_session.h"
#include "runtime_ref/perplexity.h"

namespace edgepack {

// The tail-bucket estimate above for one position. `tail_mass` (optional) receives p_tail.
double tail_bucket_kl(std::span<const float> teacher_log_p, std::span<const int32_t> teacher_indices, std::span<const double> student_log_q,
                      double* tail_mass);

struct distill_eval_options {
  eval_protocol protocol = eval_protocol::edgepack;
  int64_t max_windows = 0;  // 0: all stored samples
  std::function<void(int64_t done, int64_t total)> progress;
};

struct distill_eval_result {
  eval_result metrics;              // ppl/nll of the student (T = 1); kld_*, top1_agreement vs the targets;
                                    // base_ppl only for full targets at T = 1
  double teacher_tail_mass_mean = 0;  // mean p_tail over scored positions (0 for full targets)
};

// Checks the student against the manifest (vocabulary size) and reads every used shard with
// read_distill_shard, so a corrupt shard fails with its file name.
Expected<distill_eval_result> evaluate_against_targets(llm_session& student, const std::string& dir, const distill_manifest& manifest,
                                                       const distill_eval_options& options);

}  // namespace edgepack

#include "passes/distill_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "runtime_ref/metrics.h"

namespace edgepack {

double tail_bucket_kl(std::span<const float> teacher_log_p, std::span<const int32_t> teacher_indices, std::span<const double> student_log_q,
                      double* tail_mass) {
  std::vector<bool> in_top(student_log_q.size(), false);
  double kl = 0, p_top = 0;
  for (size_t i = 0; i < teacher_log_p.size(); ++i) {
    const auto v = static_cast<size_t>(teacher_indices[i]);
    const double log_p = teacher_log_p[i];
    const double p = std::exp(log_p);
    kl += p * (log_p - student_log_q[v]);
    p_top += p;
    in_top[v] = true;
  }
  // log q_tail by log-sum-exp over the tokens outside the top-K, so it cannot underflow to log 0.
  double best = -std::numeric_limits<double>::infinity();
  size_t outside = 0;
  for (size_t v = 0; v < student_log_q.size(); ++v)
    if (!in_top[v]) {
      best = std::max(best, student_log_q[v]);
      ++outside;
    }
  // With K = vocab the tail bucket is empty; 1 - sum p is then only the f32 rounding of the targets.
  const double p_tail = outside == 0 ? 0.0 : std::max(0.0, 1.0 - p_top);
  if (p_tail > 0) {
    double sum = 0;
    for (size_t v = 0; v < student_log_q.size(); ++v)
      if (!in_top[v]) sum += std::exp(student_log_q[v] - best);
    kl += p_tail * (std::log(p_tail) - (best + std::log(sum)));
  }
  if (tail_mass != nullptr) *tail_mass = p_tail;
  return std::max(0.0, kl);  // rounding can push a true 0 slightly negative, as in kl_divergence
}

Expected<distill_eval_result> evaluate_against_targets(llm_session& student, const std::string& dir, const distill_manifest& manifest,
                                                       const distill_eval_options& options) {
  const auto start_time = std::chrono::steady_clock::now();
  const distill_spec& spec = manifest.spec;
  if (student.config().vocab_size != spec.vocab_size)
    return bad_usage("the student's vocabulary has " + std::to_string(student.config().vocab_size) + " tokens, the targets in " + dir + " were made with " +
                     std::to_string(spec.vocab_size));
  if (spec.seq > student.config().max_seq_len)
    return bad_usage("the targets' windows of " + std::to_string(spec.seq) + " tokens exceed the student's context of " + std::to_string(student.config().max_seq_len));
  const int64_t total = options.max_windows > 0 ? std::min(options.max_windows, manifest.samples) : manifest.samples;
  const int64_t first = options.protocol == eval_protocol::llama_cpp ? spec.seq / 2 : 0;
  const int64_t last = spec.seq - 2;
  const auto vocab = static_cast<size_t>(spec.vocab_size);
  const int64_t width = spec.top_k == 0 ? spec.vocab_size : spec.top_k;
  const bool teacher_nll = spec.top_k == 0 && spec.temperature == 1.0;
  double nll_sum = 0, base_nll_sum = 0, tail_sum = 0;
  int64_t scored = 0, agree = 0, done = 0;
  std::vector<double> klds;
  for (size_t s = 0; s < manifest.shards.size() && done < total; ++s) {
    EP_ASSIGN_OR_RETURN(auto tensors, read_distill_shard(dir, manifest, s));
    const tensor& ids = tensors.at(distill_token_ids);
    const tensor& values = tensors.at(spec.top_k == 0 ? distill_full_logprobs : distill_topk_logprobs);
    const int32_t* indices = spec.top_k == 0 ? nullptr : tensors.at(distill_topk_indices).data_as<int32_t>();
    for (int64_t k = 0; k < manifest.shards[s].samples && done < total; ++k, ++done) {
      const std::span<const int64_t> window(ids.data_as<int64_t>() + k * spec.seq, static_cast<size_t>(spec.seq));
      student.reset();
      auto logits = student.forward(window);
      if (!logits.ok()) return logits.status().with_context("student, targets sample " + std::to_string(done));
      for (int64_t p = first; p <= last; ++p) {
        const std::span<const float> row(logits->data() + static_cast<size_t>(p) * vocab, vocab);
        const std::vector<double> log_q1 = log_softmax(row);
        const std::vector<double> log_q = spec.temperature == 1.0 ? log_q1 : log_softmax(row, spec.temperature);
        const int64_t target = window[static_cast<size_t>(p + 1)];
        nll_sum -= log_q1[static_cast<size_t>(target)];
        const size_t offset = (static_cast<size_t>(k) * static_cast<size_t>(spec.seq) + static_cast<size_t>(p)) * static_cast<size_t>(width);
        const std::span<const float> teacher(values.data_as<float>() + offset, static_cast<size_t>(width));
        int64_t teacher_top1 = 0;
        if (spec.top_k == 0) {
          const std::vector<double> log_p(teacher.begin(), teacher.end());
          klds.push_back(kl_divergence(log_p, log_q));
          teacher_top1 = argmax(teacher);
          if (teacher_nll) base_nll_sum -= log_p[static_cast<size_t>(target)];
        } else {
          const std::span<const int32_t> top(indices + offset, static_cast<size_t>(width));
          double tail = 0;
          klds.push_back(tail_bucket_kl(teacher, top, log_q, &tail));
          tail_sum += tail;
          teacher_top1 = top[0];
        }
        agree += argmax(row) == teacher_top1 ? 1 : 0;
        ++scored;
      }
      if (options.progress) options.progress(done + 1, total);
    }
  }
  distill_eval_result out;
  eval_result& r = out.metrics;
  r.tokens = scored;
  r.windows = total;
  r.nll = nll_sum / static_cast<double>(scored);
  r.ppl = std::exp(r.nll);
  double sum = 0;
  for (double k : klds) sum += k;
  r.kld_mean = sum / static_cast<double>(klds.size());
  r.kld_p99 = quantile(klds, 0.99);
  r.top1_agreement = static_cast<double>(agree) / static_cast<double>(scored);
  if (teacher_nll) r.base_ppl = std::exp(base_nll_sum / static_cast<double>(scored));
  out.teacher_tail_mass_mean = tail_sum / static_cast<double>(scored);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return out;
}

}  // namespace edgepack

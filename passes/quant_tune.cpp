#include "passes/quant_tune.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "core/parallel.h"
#include "passes/quant_tune_params.h"
#include "runtime_ref/backward.h"
#include "runtime_ref/metrics.h"

namespace edgepack {

namespace {

struct window_gradient {
  double kl_sum = 0;
  int64_t positions = 0;
  tensor_map grads;
};

// KL(teacher || student) summed over the window's positions and its gradient (unnormalised: the
// seed at each position is p_student - p_teacher).
Expected<window_gradient> window_kl_gradient(const tensor& teacher_logits, const graph& student, const tensor_map& inputs,
                                             const std::set<std::string>& wanted) {
  EP_ASSIGN_OR_RETURN(forward_tape tape, forward_tape::record(student, inputs));
  const tensor* logits = tape.find("logits");
  if (logits == nullptr || logits->shape != teacher_logits.shape || logits->shape.empty())
    return internal_error("student and teacher logits differ in shape");
  const int64_t vocab = logits->shape.back(), positions = logits->numel() / vocab;
  tensor seed = tensor::allocate(dtype::f32, logits->shape);
  window_gradient result;
  result.positions = positions;
  for (int64_t p = 0; p < positions; ++p) {
    const std::vector<double> lt = log_softmax(std::span<const float>(teacher_logits.data_as<float>() + p * vocab, static_cast<size_t>(vocab)));
    const std::vector<double> ls = log_softmax(std::span<const float>(logits->data_as<float>() + p * vocab, static_cast<size_t>(vocab)));
    float* s = seed.mutable_data_as<float>() + p * vocab;
    for (int64_t i = 0; i < vocab; ++i) {
      const double pt = std::exp(lt[static_cast<size_t>(i)]);
      result.kl_sum += pt * (lt[static_cast<size_t>(i)] - ls[static_cast<size_t>(i)]);
      s[i] = static_cast<float>(std::exp(ls[static_cast<size_t>(i)]) - pt);
    }
  }
  EP_ASSIGN_OR_RETURN(result.grads, backward(tape, {{"logits", seed}}, wanted));
  return result;
}

}  // namespace

Expected<quant_tune_result> tune_quantized_model(const model& float_model, const std::map<std::string, tensor>& quantized,
                                                 const std::vector<tensor_map>& windows, const quant_tune_options& options) {
  const graph& g = float_model.g;
  if (std::none_of(g.outputs.begin(), g.outputs.end(), [](const value_info& v) { return v.name == "logits"; }))
    return bad_usage("end-to-end tuning needs a language model (a graph with a 'logits' output)");
  if (windows.empty()) return bad_usage("end-to-end tuning needs calibration windows");
  if (options.epochs < 0 || options.batch_windows < 1 || !(options.learning_rate > 0) || !(options.code_rate_factor >= 0))
    return bad_usage("end-to-end tuning: epochs must be >= 0, the batch >= 1 window, the learning rate > 0 and the code rate >= 0");
  quant_tune_result result;
  std::vector<tuned_scales> scales;
  for (const auto& [name, t] : quantized)
    if (t.is_quantized() && !t.is_sparse()) scales.push_back(make_tuned_scales(name, t, options.code_rate_factor > 0));
  std::vector<tuned_gain> gains;
  if (options.norms) {
    std::set<std::string> seen;
    for (const node& n : g.nodes) {
      if (n.op_type != "RMSNormalization" || n.inputs.size() < 2 || !g.weights.count(n.inputs[1]) || !seen.insert(n.inputs[1]).second) continue;
      const tensor& w = g.weights.at(n.inputs[1]);
      if (w.is_encoded() || !dtype_is_float(w.type)) continue;
      EP_ASSIGN_OR_RETURN(std::vector<float> values, to_float_vector(w));
      tuned_gain gain{n.inputs[1], w, std::vector<double>(values.begin(), values.end()), {}};
      gain.phi.resize(values.size());
      gains.push_back(std::move(gain));
    }
  }
  std::set<std::string> wanted;
  for (const auto& s : scales) wanted.insert(s.name);
  for (const auto& gn : gains) wanted.insert(gn.name);
  for (const auto& s : scales) result.scales += static_cast<int64_t>(s.base.size());
  for (const auto& gn : gains) result.gains += static_cast<int64_t>(gn.base.size());

  EP_ASSIGN_OR_RETURN(interpreter teacher, interpreter::create(g));
  const int64_t count = static_cast<int64_t>(windows.size());
  const int64_t per_epoch = (count + options.batch_windows - 1) / options.batch_windows;
  const int64_t steps = options.epochs * per_epoch;
  // The teacher's logits do not change: computed once per window and kept when they fit in
  // teacher_cache_bytes, else recomputed at every step (one more forward per window).
  std::vector<tensor> teacher_logits(static_cast<size_t>(count));
  auto teacher_of = [&](int64_t w) -> Expected<tensor> {
    if (!teacher_logits[static_cast<size_t>(w)].shape.empty()) return teacher_logits[static_cast<size_t>(w)];
    EP_ASSIGN_OR_RETURN(tensor_map out, teacher.run(windows[static_cast<size_t>(w)]));
    return out.at("logits");
  };
  if (steps > 0) {
    EP_ASSIGN_OR_RETURN(tensor first_logits, teacher_of(0));
    // Windows usually share one length: the first one's logits size the cache.
    if (static_cast<uint64_t>(count) * static_cast<uint64_t>(first_logits.numel()) * sizeof(float) <= options.teacher_cache_bytes) {
      std::vector<Status> failures(static_cast<size_t>(count), Status::ok_status());
      parallel_for(count, options.threads, [&](int64_t begin, int64_t end) {
        for (int64_t w = begin; w < end; ++w) {
          auto out = teacher_of(w);
          if (!out.ok()) failures[static_cast<size_t>(w)] = out.status();
          else teacher_logits[static_cast<size_t>(w)] = *out;
        }
      });
      for (const Status& s : failures) EP_RETURN_IF_ERROR(s);
    }
  }
  double epoch_kl = 0;
  int64_t epoch_positions = 0;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t first = (step % per_epoch) * options.batch_windows, last = std::min(count, first + options.batch_windows);
    graph student = g;
    for (const auto& [name, t] : quantized) student.weights[name] = t;  // untuned ones (e.g. sparse) as they are
    std::vector<std::vector<float>> current(scales.size());
    for (size_t i = 0; i < scales.size(); ++i) {
      if (options.code_rate_factor > 0) scales[i].round_latent();
      current[i] = scales[i].scales();
      student.weights[scales[i].name] = scales[i].dense(current[i]);
    }
    std::vector<std::vector<float>> gain_values(gains.size());
    for (size_t i = 0; i < gains.size(); ++i) {
      gain_values[i] = gains[i].values();
      student.weights[gains[i].name] = tensor::from_values<float>(dtype::f32, gains[i].original.shape, std::span<const float>(gain_values[i]));
    }
    std::vector<Expected<window_gradient>> parts(static_cast<size_t>(last - first), Expected<window_gradient>(internal_error("not run")));
    parallel_for(last - first, options.threads, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        auto target = teacher_of(first + k);
        parts[static_cast<size_t>(k)] = target.ok() ? window_kl_gradient(*target, student, windows[static_cast<size_t>(first + k)], wanted)
                                                    : Expected<window_gradient>(target.status());
      }
    });
    // Sum in window order; the loss is the mean KL per position.
    double kl = 0;
    int64_t positions = 0;
    for (auto& part : parts) {
      if (!part.ok()) return part.status().with_context("end-to-end tuning");
      kl += part->kl_sum;
      positions += part->positions;
    }
    auto summed = [&](const std::string& name) {
      tensor total = tensor::allocate(dtype::f32, parts.front()->grads.at(name).shape);
      std::vector<double> acc(static_cast<size_t>(total.numel()), 0.0);
      for (const auto& part : parts) {
        const tensor& t = part->grads.at(name);
        for (size_t i = 0; i < acc.size(); ++i) acc[i] += t.data_as<float>()[i];
      }
      for (size_t i = 0; i < acc.size(); ++i) total.mutable_data_as<float>()[i] = static_cast<float>(acc[i] / static_cast<double>(positions));
      return total;
    };
    // Cosine decay from the initial rate to zero over all steps.
    const double rate = options.learning_rate * 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(step) / static_cast<double>(steps)));
    for (size_t i = 0; i < scales.size(); ++i) scales[i].theta.step(scales[i].gradient(summed(scales[i].name), current[i], rate * options.code_rate_factor, step + 1), rate, step + 1);
    for (size_t i = 0; i < gains.size(); ++i) {
      const tensor dg = summed(gains[i].name);
      std::vector<double> grad(gains[i].base.size());
      for (size_t e = 0; e < grad.size(); ++e) grad[e] = static_cast<double>(dg.data_as<float>()[e]) * gain_values[i][e];
      gains[i].phi.step(grad, rate, step + 1);
    }
    epoch_kl += kl;
    epoch_positions += positions;
    if ((step + 1) % per_epoch == 0) {
      const double mean = epoch_kl / static_cast<double>(epoch_positions);
      if (step + 1 == per_epoch) result.kl_first_epoch = mean;
      result.kl_last_epoch = mean;
      epoch_kl = 0;
      epoch_positions = 0;
    }
    if (options.progress) options.progress(step + 1, steps, kl / static_cast<double>(positions));
  }
  result.steps = steps;
  for (auto& s : scales) {
    if (options.code_rate_factor > 0) s.round_latent();
    result.weights[s.name] = s.result();
  }
  for (const auto& gn : gains) result.weights[gn.name] = gn.result();
  return result;
}

}  // namespace edgepack

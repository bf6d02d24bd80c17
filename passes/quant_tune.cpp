#include "passes/quant_tune.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "core/parallel.h"
#include "core/quant_codes.h"
#include "passes/calibrated_stages.h"
#include "runtime_ref/backward.h"

namespace edgepack {

namespace {

// Adam over one parameter vector.
struct adam_parameters {
  std::vector<double> value, m, v;
  void resize(size_t n) { value.assign(n, 0.0), m.assign(n, 0.0), v.assign(n, 0.0); }
  void step(const std::vector<double>& grad, double rate, int64_t t) {
    constexpr double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
    const double c1 = 1.0 - std::pow(beta1, static_cast<double>(t)), c2 = 1.0 - std::pow(beta2, static_cast<double>(t));
    for (size_t i = 0; i < value.size(); ++i) {
      m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
      v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
      value[i] -= rate * (m[i] / c1) / (std::sqrt(v[i] / c2) + epsilon);
    }
  }
};

// A quantized weight whose group scales are tuned: s = f16(s0 exp(theta)); W = s (q - z).
struct tuned_scales {
  std::string name;
  tensor original;
  int64_t rows = 0, cols = 0, groups = 0, group = 0;
  std::vector<float> centered;  // q - z per element, in the matrix view
  std::vector<double> base;     // s0 per [row, group]
  adam_parameters theta;
  // With code tuning: u, the latent value of q - z in code units; the code is clamp(round(u) + z).
  adam_parameters latent;
  std::vector<int32_t> zero;    // z per [row, group]
  int32_t max_code = 0;

  // Rounds the latent values into `centered` (straight-through: gradients pass to u unchanged).
  void round_latent() {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) {
        const size_t i = static_cast<size_t>(r * cols + j);
        const int32_t z = zero[static_cast<size_t>(r * groups + j / group)];
        const double code = std::clamp(std::nearbyint(latent.value[i]) + z, 0.0, static_cast<double>(max_code));
        centered[i] = static_cast<float>(code - z);
      }
  }

  float scale(size_t index) const {
    const double s = base[index] * std::exp(theta.value[index]);
    return f16_to_f32(f32_to_f16(static_cast<float>(std::min(s, 65504.0))));
  }
  std::vector<float> scales() const {
    std::vector<float> out(base.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = scale(i);
    return out;
  }
  tensor dense(const std::vector<float>& s) const {
    std::vector<float> view(centered.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j)
        view[static_cast<size_t>(r * cols + j)] = s[static_cast<size_t>(r * groups + j / group)] * centered[static_cast<size_t>(r * cols + j)];
    const std::vector<float> w = from_view_matrix(view, original.shape, original.quant);
    return tensor::from_values<float>(dtype::f32, original.shape, std::span<const float>(w));
  }
  // d loss / d theta from d loss / d W (tensor shape): sum over the group of dW (q - z), times s.
  // With code tuning also steps the latent codes: d loss / d u = dW s (straight-through).
  std::vector<double> gradient(const tensor& dw, const std::vector<float>& s, double code_rate, int64_t t) {
    const std::vector<float> d(dw.data_as<float>(), dw.data_as<float>() + dw.numel());
    const std::vector<float> view = to_view_matrix(d, original.shape, original.quant);
    if (!latent.value.empty()) {
      std::vector<double> du(view.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j)
          du[static_cast<size_t>(r * cols + j)] = static_cast<double>(view[static_cast<size_t>(r * cols + j)]) * s[static_cast<size_t>(r * groups + j / group)];
      latent.step(du, code_rate, t);
    }
    std::vector<double> g(base.size(), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j)
        g[static_cast<size_t>(r * groups + j / group)] +=
            static_cast<double>(view[static_cast<size_t>(r * cols + j)]) * centered[static_cast<size_t>(r * cols + j)];
    for (size_t i = 0; i < g.size(); ++i) g[i] *= s[i];
    return g;
  }
  tensor result() const {
    const quant_encoding& enc = original.quant;
    std::vector<uint8_t> codes(centered.size()), zeros(base.size());
    std::vector<uint16_t> bits(base.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        const size_t index = static_cast<size_t>(r * groups + g);
        bits[index] = f32_to_f16(scale(index));
        zeros[index] = enc.symmetric ? 0 : read_code(original.zeros.data, enc.bits, index);
      }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) {
        const size_t i = static_cast<size_t>(r * cols + j);
        codes[i] = static_cast<uint8_t>(centered[i] + static_cast<float>(zero[static_cast<size_t>(r * groups + j / group)]));
      }
    return make_quantized_tensor(original.shape, enc, codes, bits, zeros);
  }
};

tuned_scales make_tuned_scales(const std::string& name, const tensor& q, bool codes) {
  tuned_scales t;
  t.name = name;
  t.original = q;
  const quant_encoding& enc = q.quant;
  t.rows = q.rows();
  t.cols = q.cols();
  t.groups = enc.groups_per_row(t.cols);
  t.group = enc.effective_group(t.cols);
  t.centered.resize(static_cast<size_t>(t.rows * t.cols));
  t.base.resize(static_cast<size_t>(t.rows * t.groups));
  t.zero.resize(t.base.size());
  const auto* scale_bits = reinterpret_cast<const uint16_t*>(q.scales.data);
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t g = 0; g < t.groups; ++g) {
      const size_t index = static_cast<size_t>(r * t.groups + g);
      t.base[index] = f16_to_f32(scale_bits[index]);
    }
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t j = 0; j < t.cols; ++j) {
      const size_t i = static_cast<size_t>(r * t.cols + j);
      const size_t group_index = static_cast<size_t>(r * t.groups + j / t.group);
      const int64_t zero = enc.symmetric ? enc.implicit_zero() : read_code(q.zeros.data, enc.bits, group_index);
      t.centered[i] = static_cast<float>(static_cast<int64_t>(read_code(q.data.data, enc.bits, i)) - zero);
      if (j % t.group == 0) t.zero[group_index] = static_cast<int32_t>(zero);
    }
  t.theta.resize(t.base.size());
  t.max_code = (1 << enc.bits) - 1;
  if (codes) {
    t.latent.resize(t.centered.size());
    for (size_t i = 0; i < t.centered.size(); ++i) t.latent.value[i] = t.centered[i];
  }
  return t;
}

// A float RMSNormalization gain: g = round_to_dtype(g0 exp(phi)).
struct tuned_gain {
  std::string name;
  tensor original;
  std::vector<double> base;
  adam_parameters phi;

  std::vector<float> values() const {
    std::vector<float> out(base.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const float g = static_cast<float>(base[i] * std::exp(phi.value[i]));
      out[i] = original.type == dtype::f16 ? f16_to_f32(f32_to_f16(g)) : original.type == dtype::bf16 ? bf16_to_f32(f32_to_bf16(g)) : g;
    }
    return out;
  }
  tensor result() const {
    const std::vector<float> g = values();
    if (original.type == dtype::f32) return tensor::from_values<float>(dtype::f32, original.shape, std::span<const float>(g));
    std::vector<uint16_t> bits(g.size());
    for (size_t i = 0; i < g.size(); ++i) bits[i] = original.type == dtype::f16 ? f32_to_f16(g[i]) : f32_to_bf16(g[i]);
    return tensor::from_values<uint16_t>(original.type, original.shape, std::span<const uint16_t>(bits));
  }
};

// log-softmax of one row, in double.
void log_softmax(const float* logits, int64_t n, std::vector<double>& out) {
  out.resize(static_cast<size_t>(n));
  double best = -INFINITY;
  for (int64_t i = 0; i < n; ++i) best = std::max(best, static_cast<double>(logits[i]));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(logits[i] - best);
  const double log_sum = best + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = logits[i] - log_sum;
}

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
  std::vector<double> lt, ls;
  for (int64_t p = 0; p < positions; ++p) {
    log_softmax(teacher_logits.data_as<float>() + p * vocab, vocab, lt);
    log_softmax(logits->data_as<float>() + p * vocab, vocab, ls);
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
  if (options.epochs < 0 || options.batch_windows < 1 || !(options.learning_rate > 0))
    return bad_usage("end-to-end tuning: epochs must be >= 0, the batch >= 1 window and the learning rate > 0");
  quant_tune_result result;
  std::vector<tuned_scales> scales;
  for (const auto& [name, t] : quantized)
    if (t.is_quantized() && !t.is_sparse()) scales.push_back(make_tuned_scales(name, t, options.codes));
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
    std::vector<std::vector<float>> current(scales.size());
    for (size_t i = 0; i < scales.size(); ++i) {
      if (options.codes) scales[i].round_latent();
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
    if (options.codes) s.round_latent();
    result.weights[s.name] = s.result();
  }
  for (const auto& gn : gains) result.weights[gn.name] = gn.result();
  return result;
}

}  // namespace edgepack

// The parameters end-to-end tuning (passes/quant_tune.h) moves, each with its Adam state: the
// group scales and latent codes of a quantized weight, and a float RMSNorm gain. Every value the
// forward pass sees is rounded as it will be stored (f16 scales, integer codes, the gain's dtype).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/quant_codes.h"
#include "core/tensor.h"
#include "passes/calibrated_stages.h"

namespace edgepack {

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
  std::vector<int32_t> zero;    // z per [row, group] (the implicit one for symmetric encodings)
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
    for (size_t index = 0; index < base.size(); ++index) {
      bits[index] = f32_to_f16(scale(index));
      zeros[index] = enc.symmetric ? 0 : static_cast<uint8_t>(zero[index]);
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) {
        const size_t i = static_cast<size_t>(r * cols + j);
        codes[i] = static_cast<uint8_t>(centered[i] + static_cast<float>(zero[static_cast<size_t>(r * groups + j / group)]));
      }
    return make_quantized_tensor(original.shape, enc, codes, bits, zeros);
  }
};

// The tunable form of quantized tensor `q` (its codes become latent values when `codes`).
inline tuned_scales make_tuned_scales(const std::string& name, const tensor& q, bool codes) {
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
  for (size_t index = 0; index < t.base.size(); ++index) {
    t.base[index] = f16_to_f32(scale_bits[index]);
    t.zero[index] = static_cast<int32_t>(enc.symmetric ? enc.implicit_zero() : read_code(q.zeros.data, enc.bits, index));
  }
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t j = 0; j < t.cols; ++j) {
      const size_t i = static_cast<size_t>(r * t.cols + j);
      t.centered[i] = static_cast<float>(read_code(q.data.data, enc.bits, i) - t.zero[static_cast<size_t>(r * t.groups + j / t.group)]);
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

}  // namespace edgepack

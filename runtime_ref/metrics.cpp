#include "runtime_ref/metrics.h"

#include <algorithm>
#include <cmath>

namespace edgepack {

std::vector<double> log_softmax(std::span<const float> logits) { return log_softmax(logits, 1.0); }

std::vector<double> log_softmax(std::span<const float> logits, double temperature) {
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<double>(logits[i]) / temperature;
  double best = -INFINITY;
  for (double v : out) best = std::max(best, v);
  double sum = 0;
  for (double v : out) sum += std::exp(v - best);
  const double log_sum = best + std::log(sum);
  for (double& v : out) v -= log_sum;
  return out;
}

double kl_divergence(std::span<const double> log_p, std::span<const double> log_q) {
  double kl = 0;
  for (size_t i = 0; i < log_p.size(); ++i) kl += std::exp(log_p[i]) * (log_p[i] - log_q[i]);
  return std::max(0.0, kl);  // rounding can push a true 0 slightly negative
}

int64_t argmax(std::span<const float> values) {
  return static_cast<int64_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= worst)) worst = d;  // also propagates NaN
  }
  return worst;
}

double cosine_similarity(std::span<const float> a, std::span<const float> b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (aa == 0 && bb == 0) return 1.0;
  if (aa == 0 || bb == 0) return 0.0;
  return ab / std::sqrt(aa * bb);
}

double nmse(std::span<const float> reference, std::span<const float> other) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double d = static_cast<double>(reference[i]) - other[i];
    err += d * d;
    norm += static_cast<double>(reference[i]) * reference[i];
  }
  return norm > 0 ? err / norm : (err > 0 ? INFINITY : 0.0);
}

output_comparison compare_outputs(std::span<const float> reference, std::span<const float> other) {
  return {cosine_similarity(reference, other), nmse(reference, other), max_abs_diff(reference, other)};
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(values.size() - 1, lo + 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

}  // namespace edgepack

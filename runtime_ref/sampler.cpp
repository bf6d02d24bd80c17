#include "runtime_ref/sampler.h"

#include <cmath>
#include <vector>

#include "runtime_ref/metrics.h"

namespace edgepack {

int64_t sampler::next(std::span<const float> logits) {
  if (temperature_ <= 0) return argmax(logits);
  double best = -INFINITY;
  for (float v : logits) best = std::max(best, static_cast<double>(v));
  std::vector<double> weights(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += (weights[i] = std::exp((static_cast<double>(logits[i]) - best) / temperature_));
  // 53 random bits -> uniform [0, 1): std::uniform_real_distribution is implementation-defined.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * sum;
  double acc = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    acc += weights[i];
    if (u < acc) return static_cast<int64_t>(i);
  }
  return static_cast<int64_t>(weights.size() - 1);
}

}  // namespace edgepack

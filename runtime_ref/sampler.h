// Next-token choice: greedy at temperature 0, otherwise sampling from softmax(logits / T) with a
// seeded generator whose stream is fixed by the seed alone (same text on every machine).
#pragma once
#include <cstdint>
#include <random>
#include <span>

namespace edgepack {

class sampler {
 public:
  sampler(double temperature, uint64_t seed) : temperature_(temperature), rng_(seed) {}
  int64_t next(std::span<const float> logits);

 private:
  double temperature_;
  std::mt19937_64 rng_;
};

}  // namespace edgepack

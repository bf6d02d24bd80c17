// Distribution and tensor comparison metrics shared by eval, verify and reports.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace edgepack {

// log-softmax of one row of logits, in double.
std::vector<double> log_softmax(std::span<const float> logits);
// log_softmax(logits / temperature), the division done in double (temperature 1 gives exactly
// the values above).
std::vector<double> log_softmax(std::span<const float> logits, double temperature);
// KL(p || q) for log-probabilities of the same row (p = base model, q = model under test).
double kl_divergence(std::span<const double> log_p, std::span<const double> log_q);
int64_t argmax(std::span<const float> values);

// Comparisons of two equally long float vectors.
double max_abs_diff(std::span<const float> a, std::span<const float> b);
double cosine_similarity(std::span<const float> a, std::span<const float> b);
// ||a - b||^2 / ||a||^2 (a is the reference).
double nmse(std::span<const float> reference, std::span<const float> other);

// The three numbers verify reports per output (reference = the original model's output).
struct output_comparison {
  double cosine = 1.0;   // cosine_similarity(reference, other)
  double nmse = 0.0;     // ||other - reference||^2 / ||reference||^2
  double max_abs = 0.0;  // max |other - reference|
};
// Vectors of equal length (the caller checks shapes).
output_comparison compare_outputs(std::span<const float> reference, std::span<const float> other);

// Quantile of a sample (linear interpolation between order statistics), q in [0, 1].
double quantile(std::vector<double> values, double q);

}  // namespace edgepack

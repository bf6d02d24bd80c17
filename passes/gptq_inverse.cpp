#include "passes/gptq_inverse.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <sstream>

namespace edgepack {

namespace {

using matrix_d = Eigen::MatrixXd;

// In-place inverse of the lower triangle of l (the strict upper triangle is ignored and left as is).
// [A 0; B C]^-1 = [A^-1 0; -C^-1 B A^-1  C^-1].
void invert_lower_in_place(Eigen::Ref<matrix_d> l) {
  const Eigen::Index n = l.rows();
  if (n <= 64) {
    matrix_d inv = matrix_d::Identity(n, n);
    l.triangularView<Eigen::Lower>().solveInPlace(inv);
    l.triangularView<Eigen::Lower>() = inv;
    return;
  }
  const Eigen::Index n1 = n / 2 / 32 * 32 > 0 ? n / 2 / 32 * 32 : n / 2, n2 = n - n1;
  invert_lower_in_place(l.topLeftCorner(n1, n1));
  invert_lower_in_place(l.bottomRightCorner(n2, n2));
  matrix_d tmp(n2, n1);
  tmp.noalias() = l.bottomLeftCorner(n2, n1) * l.topLeftCorner(n1, n1).triangularView<Eigen::Lower>();
  l.bottomLeftCorner(n2, n1).noalias() = -(l.bottomRightCorner(n2, n2).triangularView<Eigen::Lower>() * tmp);
}

std::string fraction_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

Expected<inverse_factor> damped_inverse_factor(std::span<const double> h, int64_t n, const inverse_factor_options& options) {
  if (n <= 0 || static_cast<int64_t>(h.size()) != n * n) return bad_usage("Hessian size does not match its dimension");
  double mean_diag = 0, max_diag = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = h[static_cast<size_t>(i * n + i)];
    if (!std::isfinite(d) || d <= 0) return bad_input("Hessian diagonal entry " + std::to_string(i) + " is not a positive finite number");
    mean_diag += d;
    max_diag = std::max(max_diag, d);
  }
  mean_diag /= static_cast<double>(n);
  for (const double v : h)
    if (!std::isfinite(v)) return bad_input("Hessian holds NaN or Inf");

  inverse_factor result;
  double fraction = options.damp;
  matrix_d a = matrix_d::Zero(n, n);
  for (;;) {
    const double lambda = fraction * mean_diag;
    // a = J (H + lambda I) J, lower triangle only (column-major: fill column by column).
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = j; i < n; ++i) a(i, j) = h[static_cast<size_t>((n - 1 - i) * n + (n - 1 - j))];
    for (int64_t i = 0; i < n; ++i) a(i, i) += lambda;
    const double pivot_floor = 1e-12 * (max_diag + lambda);
    std::string problem;
    Eigen::LLT<Eigen::Ref<matrix_d>, Eigen::Lower> llt(a);
    if (llt.info() != Eigen::Success) {
      problem = "Cholesky factorisation failed";
    } else {
      for (int64_t i = 0; i < n && problem.empty(); ++i) {
        const double p = a(i, i);
        if (!std::isfinite(p) || p * p < pivot_floor) problem = "pivot " + std::to_string(n - 1 - i) + " is numerically zero";
      }
    }
    if (problem.empty()) {
      invert_lower_in_place(a);
      result.upper.assign(static_cast<size_t>(n * n), 0.0f);
      bool finite = true;
      for (int64_t i = 0; i < n && finite; ++i)
        for (int64_t j = i; j < n; ++j) {
          const float v = static_cast<float>(a(n - 1 - i, n - 1 - j));
          if (!std::isfinite(v)) {
            finite = false;
            break;
          }
          result.upper[static_cast<size_t>(i * n + j)] = v;
        }
      if (finite) {
        result.damp_fraction = fraction;
        result.damp_absolute = lambda;
        return result;
      }
      problem = "the inverse factor is not finite";
    }
    const double next = fraction > 0 ? fraction * 10 : 1e-6;
    if (next > options.max_damp)
      return bad_input("Hessian cannot be factorised even with damping " + fraction_text(fraction) + " x mean diagonal (" + problem + ")");
    result.warnings.push_back("damping " + fraction_text(fraction) + ": " + problem + "; retrying with " + fraction_text(next));
    ++result.escalations;
    fraction = next;
  }
}

}  // namespace edgepack

#include "passes/gptq_inverse.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "runtime_ref/gemm_kernels.h"

namespace edgepack {

namespace {

// Row-major, so that the inverse's products read L by rows and only the Cholesky's trailing update
// has a transposed operand.
using matrix_d = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr Eigen::Index block_edge = 128;

// Runs body(w) for w in [0, count) on `threads`, each item taken by the next free thread (items
// are independent; which thread runs one never changes its result).
template <typename Body>
void for_each_item(int64_t count, int threads, const Body& body) {
  if (count <= 0) return;
  const int workers = static_cast<int>(std::min<int64_t>(resolve_thread_count(threads), count));
  std::atomic<int64_t> next{0};
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    for (int64_t w = next.fetch_add(1); w < count; w = next.fetch_add(1)) body(w);
  });
}

// Right-looking blocked Cholesky of the lower triangle of a, in place (the strict upper triangle
// is scratch). False when a diagonal block is not positive definite.
bool blocked_cholesky(matrix_d& a, int threads) {
  const Eigen::Index n = a.rows(), blocks = (n + block_edge - 1) / block_edge;
  double* data = a.data();  // (r, c) at data[r * n + c]
  std::vector<std::pair<Eigen::Index, Eigen::Index>> tiles;
  for (Eigen::Index k = 0; k < blocks; ++k) {
    const Eigen::Index k0 = k * block_edge, kn = std::min(block_edge, n - k0);
    {
      Eigen::Ref<matrix_d> diagonal = a.block(k0, k0, kn, kn);
      Eigen::LLT<Eigen::Ref<matrix_d>, Eigen::Lower> llt(diagonal);
      if (llt.info() != Eigen::Success) return false;
    }
    const Eigen::Index rest = blocks - k - 1;
    if (rest == 0) break;
    // Panel: A[i, k] <- A[i, k] L[k, k]^-T, one row block per item.
    for_each_item(rest, threads, [&](int64_t w) {
      const Eigen::Index i0 = (k + 1 + w) * block_edge, in = std::min(block_edge, n - i0);
      a.block(k0, k0, kn, kn).triangularView<Eigen::Lower>().transpose().solveInPlace<Eigen::OnTheRight>(a.block(i0, k0, in, kn));
    });
    // Trailing update A[i, j] -= A[i, k] A[j, k]^T for k < j <= i, one tile per item, on the
    // dispatched GEMM kernels (A[j, k]^T is a strided view of A).
    tiles.clear();
    for (Eigen::Index i = k + 1; i < blocks; ++i)
      for (Eigen::Index j = k + 1; j <= i; ++j) tiles.emplace_back(i, j);
    for_each_item(static_cast<int64_t>(tiles.size()), threads, [&](int64_t w) {
      const auto [i, j] = tiles[static_cast<size_t>(w)];
      const Eigen::Index i0 = i * block_edge, in = std::min(block_edge, n - i0), j0 = j * block_edge, jn = std::min(block_edge, n - j0);
      gemm_f64(in, jn, kn, gemm_view_f64{data + i0 * n + k0, n, 1}, gemm_view_f64{data + j0 * n + k0, 1, n}, data + i0 * n + j0, n,
               gemm_update::subtract);
    });
  }
  return true;
}

// U = J L^-1 J as row-major f32 (U[i, j] = L^-1[n-1-i, n-1-j], j >= i), one block column of L^-1
// per item: with D_p = L_pp^-1 (the diagonal blocks' inverses, Eigen triangular solves), block
// column w of X = L^-1 is X_w = D_w and X_p = -D_p (L[p, w..p) X[w..p)) for p > w, both products
// on the dispatched GEMM kernels. False if not finite.
bool inverse_upper(const matrix_d& l, int threads, std::vector<float>& upper) {
  const Eigen::Index n = l.rows(), blocks = (n + block_edge - 1) / block_edge;
  const double* data = l.data();
  using row_matrix_d = matrix_d;
  std::vector<row_matrix_d> diagonal_inverse(static_cast<size_t>(blocks));
  for_each_item(blocks, threads, [&](int64_t p) {
    const Eigen::Index p0 = p * block_edge, pn = std::min(block_edge, n - p0);
    row_matrix_d d = row_matrix_d::Identity(pn, pn);
    l.block(p0, p0, pn, pn).triangularView<Eigen::Lower>().solveInPlace(d);
    diagonal_inverse[static_cast<size_t>(p)] = std::move(d);
  });
  upper.assign(static_cast<size_t>(n * n), 0.0f);
  std::atomic<bool> finite{true};
  for_each_item(blocks, threads, [&](int64_t w) {
    const Eigen::Index j0 = w * block_edge, jn = std::min(block_edge, n - j0), m = n - j0;
    row_matrix_d x = row_matrix_d::Zero(m, jn);  // rows j0 .. n of block column w
    x.topRows(jn) = diagonal_inverse[static_cast<size_t>(w)];
    std::vector<double> t;
    for (Eigen::Index p = w + 1; p < blocks; ++p) {
      const Eigen::Index p0 = p * block_edge, pn = std::min(block_edge, n - p0);
      t.assign(static_cast<size_t>(pn * jn), 0.0);
      gemm_f64(pn, jn, p0 - j0, gemm_view_f64{data + p0 * n + j0, n, 1}, gemm_view_f64{x.data(), jn, 1}, t.data(), jn);
      gemm_f64(pn, jn, pn, gemm_view_f64{diagonal_inverse[static_cast<size_t>(p)].data(), pn, 1}, gemm_view_f64{t.data(), jn, 1},
               x.data() + (p0 - j0) * jn, jn, gemm_update::subtract);
    }
    bool ok = true;
    for (Eigen::Index c = 0; c < jn; ++c)
      for (Eigen::Index r = c; r < m; ++r) {
        const float v = static_cast<float>(x(r, c));
        ok = ok && std::isfinite(v);
        upper[static_cast<size_t>((n - 1 - (j0 + r)) * n + (n - 1 - (j0 + c)))] = v;
      }
    if (!ok) finite = false;
  });
  return finite;
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
    // a = J (H + lambda I) J, lower triangle only.
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j) a(i, j) = h[static_cast<size_t>((n - 1 - i) * n + (n - 1 - j))];
    for (int64_t i = 0; i < n; ++i) a(i, i) += lambda;
    const double pivot_floor = 1e-12 * (max_diag + lambda);
    std::string problem;
    if (!blocked_cholesky(a, options.threads)) {
      problem = "Cholesky factorisation failed";
    } else {
      for (int64_t i = 0; i < n && problem.empty(); ++i) {
        const double p = a(i, i);
        if (!std::isfinite(p) || p * p < pivot_floor) problem = "pivot " + std::to_string(n - 1 - i) + " is numerically zero";
      }
    }
    if (problem.empty()) {
      if (inverse_upper(a, options.threads, result.upper)) {
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

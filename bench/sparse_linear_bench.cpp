// Packed 2:4 + w4g32 linear (runtime_ref/sparse_linear) vs the dense f32 Eigen product the Gemm
// kernel runs, on one 4096x4096 layer at batch 1 and 16 (docs/benchmarks.md). Single thread.
// Build: see docs/benchmarks.md ("Sparse packed linear").
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <random>

#include "passes/pack_sparse.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/sparse_linear.h"

using namespace edgepack;
using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class F>
double best_seconds(F&& f, int reps) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

int main() {
  const int64_t n = 4096;
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(n * n));
  for (auto& v : w) v = normal(rng);
  for (int64_t i = 0; i < n * n; i += 4) w[static_cast<size_t>(i + 1)] = w[static_cast<size_t>(i + 3)] = 0.0f;
  const tensor dense = tensor::from_values<float>(dtype::f32, {n, n}, std::span<const float>(w));
  quantize_rtn_options options;
  options.encoding = {.bits = 4, .group_size = 32, .symmetric = true};
  const tensor q = *quantize_tensor_rtn(dense, options, nullptr);
  const tensor packed = *pack_sparse_tensor(q, sparsity_pattern::n_of_m(2, 4));
  set_kernel_threads(1);
  for (int64_t batch : {1, 16}) {
    std::vector<float> x(static_cast<size_t>(batch * n)), y(static_cast<size_t>(batch * n));
    for (auto& v : x) v = normal(rng);
    Eigen::Map<const row_major> mw(w.data(), n, n), mx(x.data(), batch, n);
    Eigen::Map<row_major> my(y.data(), batch, n);
    const double t_dense = best_seconds([&] { blocked_product(my, mx, mw.transpose()); }, 5);
    const double t_packed = best_seconds([&] { sparse_linear(packed, x.data(), batch, y.data()); }, 5);
    std::printf("batch %lld: dense f32 Eigen %.3f ms, packed 2:4+w4g32 %.3f ms, packed/dense time ratio %.2f (weights %zu vs %zu bytes)\n",
                static_cast<long long>(batch), 1e3 * t_dense, 1e3 * t_packed, t_packed / t_dense, static_cast<size_t>(n * n * 4),
                static_cast<size_t>(packed.stored_bytes()));
  }
}

// Packed 2:4 + w4g32 linear (runtime_ref/sparse_linear) vs the dense f32 product on the decoded
// weight, on one 4096x4096 layer at batch 1, 16 and 64 (docs/benchmarks.md, "Sparse packed linear").
// Dense: the runtime's own GEMM (blocked_product -> gemm_f32, what kernel_gemm runs for a dense
// weight) and, for reference, Eigen's product. Packed: the dispatched kernel, the AVX2 one (the
// dispatched one again on a CPU without AVX2) and the portable one.
// Checks that packed and dense give the same bits. Best of several runs in CPU time; same-run ratios.
// Usage: sparse_linear_bench [threads (default 1)] [batch ... (default 1 16 64)]
#include <Eigen/Core>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/sparsity.h"
#include "passes/pack_sparse.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/sparse_linear.h"

using namespace edgepack;
using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Best of `reps` in process CPU time: the shared machine this runs on is often overloaded, and CPU
// time does not count the waits for a core (at 1 thread it is the kernel's own time).
double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

template <class F>
double best_seconds(F&& f, int reps) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = cpu_now();
    f();
    best = std::min(best, cpu_now() - t0);
  }
  return best;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
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
  std::vector<float> decoded(static_cast<size_t>(n * n));  // what the dense path would run on
  decode_sparse_rows(packed, 0, n, decoded.data());
  set_kernel_threads(threads);
  Eigen::setNbThreads(threads);
  std::printf("4096x4096, %d thread(s), ISA %s, CPU time (best of 5, 3 at batch 64); weights: dense f32 %zu bytes, packed 2:4+w4g32 %zu bytes\n", threads,
              gemm_isa_name(default_gemm_isa()), static_cast<size_t>(n * n * 4), static_cast<size_t>(packed.stored_bytes()));
  std::printf("| batch | dense f32, own GEMM | dense f32, Eigen | packed 2:4+w4g32 | packed, AVX2+FMA | packed, portable | own GEMM / packed | Eigen / packed | same bits |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::vector<int64_t> batches = {1, 16, 64};
  if (argc > 2) batches.clear();
  for (int i = 2; i < argc; ++i) batches.push_back(std::atoll(argv[i]));
  for (const int64_t batch : batches) {
    std::vector<float> x(static_cast<size_t>(batch * n)), y_own(static_cast<size_t>(batch * n)), y_eigen(y_own.size()), y_packed(y_own.size()),
        y_avx2(y_own.size()), y_portable(y_own.size());
    for (auto& v : x) v = normal(rng);
    Eigen::Map<const row_major> mw(decoded.data(), n, n), mx(x.data(), batch, n);
    Eigen::Map<row_major> my_own(y_own.data(), batch, n), my_eigen(y_eigen.data(), batch, n);
    const int reps = batch == 64 ? 3 : 5;
    const double t_own = best_seconds([&] { blocked_product(my_own, mx, mw.transpose()); }, reps);
    const double t_eigen = best_seconds([&] { my_eigen.noalias() = mx * mw.transpose(); }, reps);
    const double t_packed = best_seconds([&] { sparse_linear(packed, x.data(), batch, y_packed.data()); }, reps);
    const double t_avx2 = best_seconds([&] { sparse_linear(packed, x.data(), batch, y_avx2.data(), {.isa = gemm_isa::avx2}); }, reps);
    const double t_portable =
        best_seconds([&] { sparse_linear(packed, x.data(), batch, y_portable.data(), {.isa = gemm_isa::portable}); }, batch == 1 ? 3 : 1);
    const bool same = std::memcmp(y_own.data(), y_packed.data(), y_own.size() * 4) == 0 &&
                      std::memcmp(y_own.data(), y_avx2.data(), y_own.size() * 4) == 0 &&
                      std::memcmp(y_own.data(), y_portable.data(), y_own.size() * 4) == 0;
    std::printf("| %lld | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.1f ms | **%.2f×** | %.2f× | %s |\n", static_cast<long long>(batch), 1e3 * t_own,
                1e3 * t_eigen, 1e3 * t_packed, 1e3 * t_avx2, 1e3 * t_portable, t_own / t_packed, t_eigen / t_packed, same ? "yes" : "NO");
  }
}

// GPTQ on one synthetic linear layer (default 4096 x 4096), the data recipe of
// ../shared/peers/gptq_layer_ref.py: W ~ N(0, 0.02^2); x = sqrt(.5) z A + sqrt(.5) e with
// z ~ N(0, I_64), A ~ N(0,1)^{64 x dim} with unit-norm columns, e ~ N(0, I): every channel is
// marginally N(0,1) and channels are correlated through a rank-64 factor. Seeds follow the
// reference (W 0, calibration 1, held-out 2, A 3) but our normals come from std::mt19937_64 and a
// Box-Muller transform, so the numbers are the same distribution, not torch's exact samples.
//
// Times (wall clock, data generation excluded): Hessian accumulation over the calibration rows fed
// in chunks of 2048 rows, and GPTQ (damp 0.01, block 128) at w4g128 asymmetric (the reference's
// setting) and symmetric. Reports held-out relative output error ||X W^T - X Q^T|| / ||X W^T||
// for GPTQ and for the project's RTN, the accumulation's GFLOP/s (n * dim * (dim + 1) flops)
// against Eigen's single-precision GEMM measured here on the same threads (Eigen as built: SSE2 in
// the default baseline build) and against the project's own dispatched GEMM kernels (the ones the
// GPTQ step runs on), the inverse factor's time alone, the SYRK kernel variant that ran, each available SIMD variant's
// GFLOP/s on one 2048-row chunk (best of 3; the portable variant is only timed for dim <= 512:
// without hardware FMA it is very slow), CPU features and peak RSS.
//
// Usage: gptq_layer_bench [--dim 4096] [--calib 65536] [--test 2048] [--threads 2] [--group 128]
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/layer_bench_data.h"
#include "calibration/hessian.h"
#include "core/parallel.h"
#include "core/quant_codes.h"
#include "passes/gptq.h"
#include "passes/gptq_inverse.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/gemm_kernels.h"

using namespace edgepack;
using namespace edgepack::bench;

namespace {


double gemm_peak_gflops(int threads) {
  const int64_t n = 1536;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> seconds(static_cast<size_t>(threads));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
        const double t0 = now();
        c.noalias() = a * b;
        seconds[static_cast<size_t>(t)] = now() - t0 + 0 * c(0, 0);
      });
    for (auto& p : pool) p.join();
    double slowest = 0;
    for (const double s : seconds) slowest = std::max(slowest, s);
    best = std::max(best, threads * 2.0 * n * n * n / slowest / 1e9);
  }
  return best;
}

// The project's own dispatched f32 GEMM (runtime_ref/gemm_kernels.h, the kernels GPTQ's lazy-batch
// update runs on), same shape and protocol as the Eigen figure.
double own_gemm_peak_gflops(int threads) {
  const int64_t n = 1536;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> seconds(static_cast<size_t>(threads));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n);
        std::vector<float> c(static_cast<size_t>(n * n));
        const double t0 = now();
        gemm_f32(n, n, n, gemm_view{a.data(), 1, n}, gemm_view{b.data(), 1, n}, c.data(), n);
        seconds[static_cast<size_t>(t)] = now() - t0 + 0 * c[0];
      });
    for (auto& p : pool) p.join();
    double slowest = 0;
    for (const double s : seconds) slowest = std::max(slowest, s);
    best = std::max(best, threads * 2.0 * n * n * n / slowest / 1e9);
  }
  return best;
}

std::vector<float> dequantized(const tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.rows() * t.cols()));
  dequantize_rows(t, 0, t.rows(), out.data());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t dim = 4096, calib = 65536, test = 2048, group = 128;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (key == "--dim") dim = v;
    else if (key == "--calib") calib = v;
    else if (key == "--test") test = v;
    else if (key == "--threads") threads = static_cast<int>(v);
    else if (key == "--group") group = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  __builtin_cpu_init();
  std::printf("cpu features: avx2 %d fma %d avx512f %d; Eigen SIMD in this build: %s; threads %d\n", __builtin_cpu_supports("avx2") != 0,
              __builtin_cpu_supports("fma") != 0, __builtin_cpu_supports("avx512f") != 0, Eigen::SimdInstructionSetsInUse(), threads);
  std::printf("layer %lld x %lld, calibration rows %lld, held-out rows %lld\n", static_cast<long long>(dim), static_cast<long long>(dim),
              static_cast<long long>(calib), static_cast<long long>(test));

  const double peak = gemm_peak_gflops(threads);
  std::printf("Eigen f32 GEMM (1536^3 per thread, %d threads at once): %.1f GFLOP/s\n", threads, peak);
  const double own_peak = own_gemm_peak_gflops(threads);
  std::printf("own f32 GEMM kernels (%s, same shape): %.1f GFLOP/s\n", gemm_isa_name(default_gemm_isa()), own_peak);

  const row_matrix_f a = make_factor(dim);
  const std::vector<float> w = make_weight(dim);

  // Each available kernel variant on one chunk (best of 3), then the real run with the automatic one.
  {
    const row_matrix_f x = make_rows(0, std::min(chunk_rows, calib), dim, 1, a, threads);
    const double chunk_flops = static_cast<double>(x.rows()) * dim * (dim + 1);
    for (const syrk_isa isa : {syrk_isa::avx512, syrk_isa::avx2, syrk_isa::portable}) {
      if (!syrk_isa_available(isa) || (isa == syrk_isa::portable && dim > 512)) continue;
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        hessian_accumulator one(dim, hessian_options{.threads = threads, .kernel = isa});
        const double t0 = now();
        if (!one.add_rows(x.data(), x.rows()).ok()) return 5;
        best = std::min(best, now() - t0);
      }
      std::printf("syrk kernel %s: %.1f GFLOP/s on one %lld-row chunk\n", syrk_isa_name(isa), chunk_flops / best / 1e9, static_cast<long long>(x.rows()));
    }
  }

  // Hessian: generate a chunk (not timed), accumulate it (timed).
  hessian_accumulator acc(dim, hessian_options{.threads = threads});
  std::printf("hessian kernel: %s\n", syrk_isa_name(acc.kernel()));
  double hessian_s = 0;
  for (int64_t first = 0; first < calib; first += chunk_rows) {
    const int64_t count = std::min(chunk_rows, calib - first);
    const row_matrix_f x = make_rows(first, count, dim, 1, a, threads);
    const double t0 = now();
    if (!acc.add_rows(x.data(), count).ok()) return 5;
    hessian_s += now() - t0;
  }
  const double t_h = now();
  const std::vector<double> h = acc.hessian();
  hessian_s += now() - t_h;
  const double flops = static_cast<double>(calib) * dim * (dim + 1);
  std::printf("hessian: %.3f s, %.1f GFLOP/s (%.0f %% of the Eigen GEMM figure, %.0f %% of the own-kernel GEMM figure)\n", hessian_s,
              flops / hessian_s / 1e9, 100 * flops / hessian_s / 1e9 / peak, 100 * flops / hessian_s / 1e9 / own_peak);
  {
    // The damped inverse factor alone (part of every GPTQ run below), 2n^3/3 double flops.
    const double t0 = now();
    auto factor = damped_inverse_factor(h, dim, inverse_factor_options{.threads = threads});
    const double s = now() - t0;
    if (!factor.ok()) return 5;
    std::printf("inverse factor alone: %.3f s, %.1f GFLOP/s (f64)\n", s, 2.0 * dim * dim * dim / 3 / s / 1e9);
  }

  const row_matrix_f xt = make_rows(0, test, dim, 2, a, threads);
  const Eigen::Map<const row_matrix_f> wm(w.data(), dim, dim);
  const row_matrix_f yt = xt * wm.transpose();

  for (const bool symmetric : {false, true}) {
    const quant_encoding enc{.bits = 4, .group_size = group, .symmetric = symmetric};
    gptq_options options;
    options.encoding = enc;
    options.threads = threads;
    const double t0 = now();
    auto result = gptq_quantize(w, dim, dim, h, options);
    const double gptq_s = now() - t0;
    if (!result.ok()) {
      std::fprintf(stderr, "gptq failed: %s\n", result.status().message().c_str());
      return 5;
    }
    quantize_rtn_options rtn;
    rtn.encoding = enc;
    rtn.threads = threads;
    auto r = quantize_tensor_rtn(tensor::from_values<float>(dtype::f32, {dim, dim}, std::span<const float>(w)), rtn, nullptr);
    if (!r.ok()) return 5;
    const double eg = relative_output_error(xt, yt, dequantized(result->weight), dim);
    const double er = relative_output_error(xt, yt, dequantized(*r), dim);
    std::printf("%s: gptq %.3f s (damp %.3g, %zu warnings); held-out error gptq %.4f, rtn %.4f (%.1f %% lower); total with hessian %.3f s\n",
                quant_encoding_name(enc).c_str(), gptq_s, result->stats.damp_fraction, result->stats.warnings.size(), eg, er, 100 * (1 - eg / er),
                hessian_s + gptq_s);
  }
  std::printf("peak RSS: %ld MiB\n", peak_rss_mib());
  return 0;
}

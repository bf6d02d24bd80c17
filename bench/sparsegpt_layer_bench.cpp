// SparseGPT on one synthetic linear layer (default 4096 x 4096), beside bench/gptq_layer_bench.cpp
// and with the same data recipe (that of ../shared/peers/gptq_layer_ref.py): W ~ N(0, 0.02^2);
// x = sqrt(.5) z A + sqrt(.5) e with z ~ N(0, I_64), A ~ N(0,1)^{64 x dim} with unit-norm columns,
// e ~ N(0, I). Seeds W 0, calibration 1, held-out 2, A 3; normals from std::mt19937_64 + Box-Muller
// in chunks of 2048 rows, as in gptq_layer_bench, so both benches see the same numbers.
//
// Times (wall clock, data generation excluded): Hessian accumulation, then magnitude, Wanda and
// SparseGPT (damp 0.01, block 128) at 50 % and 2:4, and joint s2:4+w4g128 (symmetric). Reports
// held-out relative output error ||X W^T - X W_hat^T|| / ||X W^T|| for each.
//
// Usage: sparsegpt_layer_bench [--dim 4096] [--calib 16384] [--test 2048] [--threads 2]
#include <sys/resource.h>

#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/layer_bench_data.h"
#include "calibration/hessian.h"
#include "core/parallel.h"
#include "passes/prune_magnitude.h"
#include "passes/prune_wanda.h"
#include "passes/sparsegpt.h"

using namespace edgepack;
using namespace edgepack::bench;

int main(int argc, char** argv) {
  int64_t dim = 4096, calib = 16384, test = 2048;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (key == "--dim") dim = v;
    else if (key == "--calib") calib = v;
    else if (key == "--test") test = v;
    else if (key == "--threads") threads = static_cast<int>(v);
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

  const row_matrix_f a = make_factor(dim);
  const std::vector<float> w = make_weight(dim);
  hessian_accumulator acc(dim, hessian_options{.threads = threads});
  double hessian_s = 0;
  for (int64_t first = 0; first < calib; first += chunk_rows) {
    const int64_t count = std::min(chunk_rows, calib - first);
    const row_matrix_f x = make_rows(first, count, dim, 1, a, threads);
    const double t0 = now();
    if (!acc.add_rows(x.data(), count).ok()) return 5;
    hessian_s += now() - t0;
  }
  double t0 = now();
  const std::vector<double> h = acc.hessian();
  hessian_s += now() - t0;
  std::printf("hessian: %.3f s\n", hessian_s);
  auto norms = activation_norms_from_hessian(h, dim, calib);
  if (!norms.ok()) return 5;

  const row_matrix_f xt = make_rows(0, test, dim, 2, a, threads);
  const Eigen::Map<const row_matrix_f> wm(w.data(), dim, dim);
  const row_matrix_f yt = xt * wm.transpose();

  quant_encoding w4g128{.bits = 4, .group_size = 128, .symmetric = true};
  for (const sparsity_pattern& p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::n_of_m(2, 4)}) {
    t0 = now();
    auto mg = prune_magnitude(w, dim, dim, magnitude_options{.pattern = p, .threads = threads});
    const double mg_s = now() - t0;
    t0 = now();
    auto wa = prune_wanda(w, dim, dim, *norms, wanda_options{.pattern = p, .threads = threads});
    const double wa_s = now() - t0;
    t0 = now();
    auto sg = sparsegpt_prune(w, dim, dim, h, sparsegpt_options{.pattern = p, .threads = threads});
    const double sg_s = now() - t0;
    if (!mg.ok() || !wa.ok() || !sg.ok()) return 5;
    std::printf("%s: sparsegpt %.3f s (damp %.3g, %zu warnings), wanda %.3f s, magnitude %.3f s; held-out error sparsegpt %.4f, wanda %.4f, "
                "magnitude %.4f\n",
                sparsity_pattern_name(p).c_str(), sg_s, sg->stats.damp_fraction, sg->stats.warnings.size(), wa_s, mg_s,
                relative_output_error(xt, yt, sg->pruned.values, dim), relative_output_error(xt, yt, wa->values, dim),
                relative_output_error(xt, yt, mg->values, dim));
  }
  t0 = now();
  auto joint = sparsegpt_prune(w, dim, dim, h, sparsegpt_options{.pattern = sparsity_pattern::n_of_m(2, 4), .quantize = w4g128, .threads = threads});
  const double joint_s = now() - t0;
  if (!joint.ok()) return 5;
  std::printf("s2:4+w4g128: sparsegpt %.3f s; held-out error %.4f\n", joint_s, relative_output_error(xt, yt, joint->pruned.values, dim));
  std::printf("peak RSS: %ld MiB\n", peak_rss_mib());
  return 0;
}

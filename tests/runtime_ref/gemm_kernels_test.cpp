// The runtime-dispatched f32 GEMM kernels: every variant this CPU offers gives the same bits as the
// portable one (each output is one FMA chain in k order), on odd shapes, transposed and strided
// operands, across the k-block (256) and row-block boundaries; and all agree with a double-precision
// reference within the rounding-error bound of a K-step FMA chain.
#include "runtime_ref/gemm_kernels.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace edgepack::testing {
namespace {

std::vector<gemm_isa> available_isas() {
  std::vector<gemm_isa> out;
  for (const gemm_isa isa : {gemm_isa::portable, gemm_isa::avx2, gemm_isa::avx512})
    if (gemm_isa_available(isa)) out.push_back(isa);
  return out;
}

struct problem {
  int64_t m, n, k;
  std::vector<float> a, b;  // A row-major [m, k], B row-major [k, n]
};

problem make_problem(int64_t m, int64_t n, int64_t k, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  problem p{m, n, k, std::vector<float>(static_cast<size_t>(m * k)), std::vector<float>(static_cast<size_t>(k * n))};
  for (float& x : p.a) x = dist(rng);
  for (float& x : p.b) x = dist(rng);
  return p;
}

// C = A·B with A, B given either row-major or as transposed (column-major) copies, and C written
// with a padded row stride whose padding must stay untouched.
std::vector<float> run(gemm_isa isa, const problem& p, bool trans_a, bool trans_b, int64_t ldc) {
  std::vector<float> at, bt;
  gemm_view va{p.a.data(), p.k, 1}, vb{p.b.data(), p.n, 1};
  if (trans_a) {  // store A^T row-major [k, m]; view it as A with strides (1, m)
    at.resize(p.a.size());
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t kk = 0; kk < p.k; ++kk) at[static_cast<size_t>(kk * p.m + i)] = p.a[static_cast<size_t>(i * p.k + kk)];
    va = {at.data(), 1, p.m};
  }
  if (trans_b) {  // store B^T row-major [n, k]; view it as B with strides (1, k)
    bt.resize(p.b.size());
    for (int64_t kk = 0; kk < p.k; ++kk)
      for (int64_t j = 0; j < p.n; ++j) bt[static_cast<size_t>(j * p.k + kk)] = p.b[static_cast<size_t>(kk * p.n + j)];
    vb = {bt.data(), 1, p.k};
  }
  std::vector<float> c(static_cast<size_t>(p.m * ldc), 12345.0f);
  gemm_workspace ws;
  gemm_f32(isa, p.m, p.n, p.k, va, vb, c.data(), ldc, ws);
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = p.n; j < ldc; ++j) EXPECT_EQ(c[static_cast<size_t>(i * ldc + j)], 12345.0f) << "padding overwritten";
  return c;
}

TEST(GemmKernels, ResolveNeverReturnsAutomatic) {
  EXPECT_NE(resolve_gemm_isa(gemm_isa::automatic), gemm_isa::automatic);
  EXPECT_EQ(default_gemm_isa(), resolve_gemm_isa(gemm_isa::automatic));
  for (const gemm_isa isa : available_isas()) EXPECT_EQ(resolve_gemm_isa(isa), isa) << gemm_isa_name(isa);
}

TEST(GemmKernels, VariantsBitIdenticalToPortableAndWithinFmaChainBound) {
  std::vector<std::array<int64_t, 3>> shapes;  // m, n, k
  for (int64_t m : {1, 7, 13, 173})
    for (int64_t n : {1, 7, 33, 300})
      for (int64_t k : {1, 7, 173, 600}) shapes.push_back({m, n, k});
  shapes.push_back({300, 65, 257});  // two row blocks for every variant, k-block edge
  shapes.push_back({24, 513, 512});  // exact k blocks, a 1-column right edge
  unsigned seed = 1;
  const double u = std::ldexp(1.0, -24);  // unit roundoff of f32
  for (const auto& [m, n, k] : shapes) {
    const problem p = make_problem(m, n, k, seed++);
    const bool ta = seed % 2 == 0, tb = seed % 3 == 0;
    const int64_t ldc = n + static_cast<int64_t>(seed % 3);
    const std::vector<float> ref = run(gemm_isa::portable, p, ta, tb, ldc);
    // Each output is a chain of k fused multiply-adds from 0: one rounding a step, so
    // |c - exact| <= gamma_k * sum_k |a||b| with gamma_k = k u / (1 - k u) (Higham, ch. 3).
    const double gamma = static_cast<double>(k) * u / (1.0 - static_cast<double>(k) * u);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double exact = 0.0, magnitude = 0.0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const double term = static_cast<double>(p.a[static_cast<size_t>(i * k + kk)]) * p.b[static_cast<size_t>(kk * n + j)];
          exact += term;
          magnitude += std::fabs(term);
        }
        const float got = ref[static_cast<size_t>(i * ldc + j)];
        ASSERT_LE(std::fabs(got - exact), gamma * magnitude) << m << "x" << n << "x" << k << " at " << i << "," << j;
      }
    for (const gemm_isa isa : available_isas()) {
      const std::vector<float> got = run(isa, p, ta, tb, ldc);
      EXPECT_EQ(std::memcmp(got.data(), ref.data(), sizeof(float) * got.size()), 0)
          << gemm_isa_name(isa) << " " << m << "x" << n << "x" << k << " transA " << ta << " transB " << tb;
    }
  }
}

TEST(GemmKernels, LayoutOfOperandsDoesNotChangeBits) {
  const problem p = make_problem(29, 70, 301, 99);
  for (const gemm_isa isa : available_isas()) {
    const std::vector<float> base = run(isa, p, false, false, 70);
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        const std::vector<float> got = run(isa, p, ta, tb, 70);
        EXPECT_EQ(std::memcmp(got.data(), base.data(), sizeof(float) * base.size()), 0) << gemm_isa_name(isa) << " " << ta << tb;
      }
  }
}

TEST(GemmKernels, ZeroDepthGivesZeros) {
  std::vector<float> c(12, 7.0f);
  gemm_workspace ws;
  for (const gemm_isa isa : available_isas()) {
    gemm_f32(isa, 3, 4, 0, {nullptr, 0, 1}, {nullptr, 4, 1}, c.data(), 4, ws);
    for (float x : c) EXPECT_EQ(x, 0.0f);
  }
}

}  // namespace
}  // namespace edgepack::testing

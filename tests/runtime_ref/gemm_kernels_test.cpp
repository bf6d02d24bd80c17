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
#include <type_traits>
#include <vector>

namespace edgepack::testing {
namespace {

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
  for (const gemm_isa isa : available_gemm_isas()) EXPECT_EQ(resolve_gemm_isa(isa), isa) << gemm_isa_name(isa);
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
    for (const gemm_isa isa : available_gemm_isas()) {
      const std::vector<float> got = run(isa, p, ta, tb, ldc);
      EXPECT_EQ(std::memcmp(got.data(), ref.data(), sizeof(float) * got.size()), 0)
          << gemm_isa_name(isa) << " " << m << "x" << n << "x" << k << " transA " << ta << " transB " << tb;
    }
  }
}

TEST(GemmKernels, LayoutOfOperandsDoesNotChangeBits) {
  const problem p = make_problem(29, 70, 301, 99);
  for (const gemm_isa isa : available_gemm_isas()) {
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
  for (const gemm_isa isa : available_gemm_isas()) {
    gemm_f32(isa, 3, 4, 0, {nullptr, 0, 1}, {nullptr, 4, 1}, c.data(), 4, ws);
    for (float x : c) EXPECT_EQ(x, 0.0f);
  }
}

// C -= A·B and C += A·B: every element is the chain acc = C; acc = fma(±a_k, b_k, acc) for k up,
// i.e. exactly a loop of rank-1 std::fma updates, on every ISA and across the k-block edge (256).
template <class T>
void check_updates(int64_t m, int64_t n, int64_t k, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<T> dist(-1, 1);
  std::vector<T> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)), c0(static_cast<size_t>(m * n));
  for (T& x : a) x = dist(rng);
  for (T& x : b) x = dist(rng);
  for (T& x : c0) x = dist(rng);
  for (const gemm_update update : {gemm_update::add, gemm_update::subtract}) {
    std::vector<T> expected = c0;
    const T sign = update == gemm_update::subtract ? T(-1) : T(1);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          expected[static_cast<size_t>(i * n + j)] =
              std::fma(sign * a[static_cast<size_t>(i * k + kk)], b[static_cast<size_t>(kk * n + j)], expected[static_cast<size_t>(i * n + j)]);
    for (const gemm_isa isa : available_gemm_isas()) {
      std::vector<T> c = c0;
      basic_gemm_workspace<T> ws;
      const basic_gemm_view<T> va{a.data(), k, 1}, vb{b.data(), n, 1};
      if constexpr (std::is_same_v<T, float>) {
        gemm_f32(isa, m, n, k, va, vb, c.data(), n, ws, update);
      } else {
        gemm_f64(isa, m, n, k, va, vb, c.data(), n, ws, update);
      }
      EXPECT_EQ(std::memcmp(c.data(), expected.data(), sizeof(T) * c.size()), 0)
          << gemm_isa_name(isa) << " " << m << "x" << n << "x" << k << (update == gemm_update::add ? " add" : " subtract");
    }
  }
}

TEST(GemmKernels, AddAndSubtractAreRankOneFmaLoops) {
  unsigned seed = 40;
  for (const auto& [m, n, k] : {std::array<int64_t, 3>{1, 1, 1}, {13, 33, 7}, {29, 70, 301}, {130, 45, 128}}) {
    check_updates<float>(m, n, k, seed++);
    check_updates<double>(m, n, k, seed++);
  }
}

TEST(GemmKernels, DoubleVariantsBitIdenticalToPortableAndNearExact) {
  unsigned seed = 70;
  for (const auto& [m, n, k] : {std::array<int64_t, 3>{7, 33, 173}, {173, 7, 600}, {300, 65, 257}}) {
    std::mt19937 rng(seed++);
    std::uniform_real_distribution<double> dist(-1, 1);
    std::vector<double> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
    for (double& x : a) x = dist(rng);
    for (double& x : b) x = dist(rng);
    // A given transposed (column-major), as the inverse factor's Cholesky passes it.
    std::vector<double> at(a.size());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t kk = 0; kk < k; ++kk) at[static_cast<size_t>(kk * m + i)] = a[static_cast<size_t>(i * k + kk)];
    std::vector<double> ref(static_cast<size_t>(m * n));
    gemm_workspace_f64 ws;
    gemm_f64(gemm_isa::portable, m, n, k, {a.data(), k, 1}, {b.data(), n, 1}, ref.data(), n, ws);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        long double exact = 0, magnitude = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const long double term = static_cast<long double>(a[static_cast<size_t>(i * k + kk)]) * b[static_cast<size_t>(kk * n + j)];
          exact += term;
          magnitude += std::fabs(term);
        }
        ASSERT_LE(std::fabs(static_cast<long double>(ref[static_cast<size_t>(i * n + j)]) - exact), 1.2 * k * std::ldexp(1.0, -53) * magnitude);
      }
    for (const gemm_isa isa : available_gemm_isas()) {
      std::vector<double> c(ref.size(), 5.0);
      gemm_f64(isa, m, n, k, {at.data(), 1, m}, {b.data(), n, 1}, c.data(), n, ws);
      EXPECT_EQ(std::memcmp(c.data(), ref.data(), sizeof(double) * c.size()), 0) << gemm_isa_name(isa) << " " << m << "x" << n << "x" << k;
    }
  }
}

}  // namespace
}  // namespace edgepack::testing

// The packed sparse linear (runtime_ref/sparse_linear.h) gives the dense product's bits exactly: on
// random odd shapes (row blocks of 16 plus tail rows, N:M tail groups, quantization tail groups,
// windows across several quantization groups), N:M 2:4, 4:8, 1:4, 1:2 and bitmask, float values and
// sym/asym 2..8-bit codes, batches that hit every batch-tile remainder, every ISA this CPU offers at
// 1 and 2 threads: memcmp-equal to the naive decode-then-FMA-chain reference and to the runtime's own
// dense GEMM (gemm_f32, every ISA) on the decoded weight. Also through the interpreter's Gemm.
#include "runtime_ref/sparse_linear.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/sparsity.h"
#include "passes/pack_sparse.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/gemm_kernels.h"

namespace edgepack::testing {
namespace {

// Random [rows, cols] weights pruned to N:M (m > 0; tail groups keep floor(n * width / m)) or to a
// random half (m == 0).
std::vector<float> pruned_values(int64_t rows, int64_t cols, int n, int m, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& v : w) v = normal(rng);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols; g += (m > 0 ? m : 1)) {
      if (m == 0) {
        if (rng() % 2) w[static_cast<size_t>(r * cols + g)] = 0.0f;
        continue;
      }
      const int64_t width = std::min<int64_t>(m, cols - g), keep = width == m ? n : n * width / m;
      std::vector<int64_t> order(static_cast<size_t>(width));
      for (int64_t j = 0; j < width; ++j) order[static_cast<size_t>(j)] = j;
      std::shuffle(order.begin(), order.end(), rng);
      for (int64_t j = keep; j < width; ++j) w[static_cast<size_t>(r * cols + g + order[static_cast<size_t>(j)])] = 0.0f;
    }
  return w;
}

struct weight_case {
  int64_t rows, cols;
  int n, m;           // m == 0: bitmask
  int bits;           // 0: f32 values
  int64_t group;      // quantization group (0: one per row)
  bool symmetric;
};

std::string describe(const weight_case& c) {
  return std::to_string(c.rows) + "x" + std::to_string(c.cols) + " " + (c.m ? std::to_string(c.n) + ":" + std::to_string(c.m) : "bitmask") +
         (c.bits ? " w" + std::to_string(c.bits) + "g" + std::to_string(c.group) + (c.symmetric ? "" : "_asym") : " f32");
}

tensor make_weight(const weight_case& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto values = pruned_values(c.rows, c.cols, c.n, c.m, rng);
  tensor w = tensor::from_values<float>(dtype::f32, {c.rows, c.cols}, std::span<const float>(values));
  if (c.bits > 0) {
    quantize_rtn_options options;
    options.encoding = {.bits = c.bits, .group_size = c.group, .symmetric = c.symmetric};
    auto q = quantize_tensor_rtn(w, options, nullptr);
    EXPECT_TRUE(q.ok()) << q.status().message();
    w = *q;
  }
  auto packed = pack_sparse_tensor(w, c.m > 0 ? sparsity_pattern::n_of_m(c.n, c.m) : sparsity_pattern::unstructured(0.5));
  EXPECT_TRUE(packed.ok()) << describe(c) << ": " << packed.status().message();
  return packed.ok() ? *packed : w;
}

// x with a few exact +0 and -0 entries among normal values.
std::vector<float> make_input(int64_t batch, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(batch * cols));
  for (auto& v : x) v = normal(rng);
  for (size_t i = 0; i < x.size(); i += 11) x[i] = (i % 2) ? -0.0f : 0.0f;
  return x;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const weight_case cases[] = {
    {37, 172, 2, 4, 4, 32, true},    // 2 row blocks + 5 tail rows; 172 = 5 windows + 12 tail columns
    {19, 37, 2, 4, 4, 16, false},    // N:M tail group of 1 column, quantization tail group
    {33, 200, 2, 4, 4, 64, false},   // windows inside 64-column groups
    {16, 130, 2, 4, 4, 0, true},     // one group per row; 2:4 tail group keeps 1 of 2
    {17, 96, 2, 4, 3, 32, false},    // 3-bit codes: windows not byte aligned
    {32, 72, 2, 4, 2, 0, true},
    {21, 100, 4, 8, 4, 32, true},    // 3-bit indices
    {18, 75, 1, 4, 4, 32, false},    // 1:4 -> 8-group windows
    {16, 66, 1, 2, 4, 0, true},      // 1:2 -> 1-bit indices
    {20, 64, 2, 4, 4, 12, true},     // windows of 3 N:M groups
    {20, 64, 2, 4, 4, 10, true},     // group not a multiple of m: scalar kernel
    {19, 48, 2, 4, 8, 16, false},    // 8-bit codes: scalar kernel
    {23, 61, 2, 4, 0, 0, true},      // f32 values, gathered per slot
    {17, 40, 4, 8, 0, 0, true},
    {7, 172, 2, 4, 4, 32, true},     // fewer rows than a block
    {18, 53, 0, 0, 4, 16, false},    // bitmask
    {13, 37, 0, 0, 0, 0, true},
};

TEST(SparseLinearCorrect, EveryVariantGivesTheDenseBits) {
  uint64_t seed = 7;
  for (const weight_case& c : cases) {
    const tensor w = make_weight(c, seed++);
    ASSERT_TRUE(w.is_sparse()) << describe(c);
    ASSERT_TRUE(sparse_linear_supported(w)) << describe(c);
    std::vector<float> dense(static_cast<size_t>(c.rows * c.cols));
    decode_sparse_rows(w, 0, c.rows, dense.data());
    for (const int64_t batch : {1, 3, 6, 17}) {
      const auto x = make_input(batch, c.cols, seed++);
      const size_t out = static_cast<size_t>(batch * c.rows);
      std::vector<float> reference(out);
      sparse_linear_reference(w, x.data(), batch, reference.data());
      // The runtime's dense GEMM on the decoded weight (y = x · Wᵀ: B[k, j] = W[j, k]).
      for (const gemm_isa isa : available_gemm_isas()) {
        std::vector<float> y(out, 1.0f);
        gemm_workspace ws;
        gemm_f32(isa, batch, c.rows, c.cols, {x.data(), c.cols, 1}, {dense.data(), 1, c.cols}, y.data(), c.rows, ws);
        EXPECT_TRUE(same_bits(y, reference)) << describe(c) << " batch " << batch << ": dense gemm " << gemm_isa_name(isa);
      }
      for (const gemm_isa isa : available_gemm_isas())
        for (const int threads : {1, 2}) {
          std::vector<float> y(out, 1.0f);
          sparse_linear(w, x.data(), batch, y.data(), {.isa = isa, .threads = threads});
          EXPECT_TRUE(same_bits(y, reference)) << describe(c) << " batch " << batch << ": packed " << gemm_isa_name(isa) << " at "
                                               << threads << " threads";
        }
    }
  }
}

TEST(SparseLinearCorrect, ReferenceIsTheDenseChain) {
  // Hand-computed: W = [[1, 0, 2, 0]] (2:4), x = [3, 5, 7, 11]: fma chain 3*1 + 7*2 = 17.
  const float v[] = {1, 0, 2, 0};
  const tensor w = *pack_sparse_tensor(tensor::from_values<float>(dtype::f32, {1, 4}, std::span<const float>(v)), sparsity_pattern::n_of_m(2, 4));
  const float x[] = {3, 5, 7, 11};
  float y = 0, r = 0;
  sparse_linear(w, x, 1, &y);
  sparse_linear_reference(w, x, 1, &r);
  EXPECT_EQ(y, 17.0f);
  EXPECT_EQ(r, 17.0f);
}

}  // namespace
}  // namespace edgepack::testing

// Sparse storage (core/sparsity.h, passes/pack_sparse.h, runtime_ref/sparse_linear.h): packing is
// lossless (decode and unpack are bit-identical to the dense original on random odd shapes), the
// .epk round trip keeps it, hostile metadata is refused naming the tensor, and the interpreter's
// Gemm on a packed weight gives the dense-decoded bits (kernel tests: tests/runtime_ref/sparse_linear_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/quant_codes.h"
#include "formats/epk.h"
#include "formats/model_loader.h"
#include "passes/pack_sparse.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/interpreter.h"
#include "runtime_ref/sparse_linear.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

// Random [rows, cols] f32 weights with `keep` non-zeros per group of m (N:M), or each kept with
// probability density (m == 0).
tensor random_pruned(int64_t rows, int64_t cols, int64_t n, int64_t m, double density, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (auto& v : w) v = normal(rng);
  for (int64_t r = 0; r < rows; ++r) {
    if (m == 0) {
      for (int64_t c = 0; c < cols; ++c)
        if (uniform(rng) >= density) w[static_cast<size_t>(r * cols + c)] = 0.0f;
      continue;
    }
    for (int64_t g = 0; g < cols; g += m) {
      const int64_t width = std::min(m, cols - g), keep = width == m ? n : n * width / m;
      std::vector<int64_t> order(static_cast<size_t>(width));
      for (int64_t j = 0; j < width; ++j) order[static_cast<size_t>(j)] = j;
      std::shuffle(order.begin(), order.end(), rng);
      // Sometimes fewer than keep non-zeros: the packer must pad with explicit zeros.
      const int64_t actual = uniform(rng) < 0.2 ? std::max<int64_t>(0, keep - 1) : keep;
      for (int64_t j = actual; j < width; ++j) w[static_cast<size_t>(r * cols + g + order[static_cast<size_t>(j)])] = 0.0f;
    }
  }
  return tensor::from_values<float>(dtype::f32, {rows, cols}, std::span<const float>(w));
}

tensor quantized(const tensor& w, const quant_encoding& enc) {
  quantize_rtn_options options;
  options.encoding = enc;
  auto q = quantize_tensor_rtn(w, options, nullptr);
  EXPECT_TRUE(q.ok()) << q.status().message();
  return *q;
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

void expect_lossless(const tensor& original, const sparsity_pattern& pattern) {
  auto packed = pack_sparse_tensor(original, pattern);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  ASSERT_TRUE(packed->is_sparse());
  EXPECT_TRUE(check_sparse_blobs(*packed).ok());
  expect_same_bits(*to_float_vector(*packed), *to_float_vector(original));
  const tensor back = unpack_sparse_tensor(*packed);
  ASSERT_EQ(back.data.size, original.data.size);
  EXPECT_EQ(std::memcmp(back.data.data, original.data.data, back.data.size), 0);
}

struct shape_case {
  int64_t rows, cols;
};
const shape_case shapes[] = {{37, 53}, {5, 7}, {64, 172}, {172, 64}, {3, 1}, {41, 100}};

TEST(SparsityCorrect, NOfMDenseAndQuantizedDecodeExactly) {
  uint64_t seed = 1;
  for (const auto& s : shapes)
    for (auto [n, m] : {std::pair<int64_t, int64_t>{2, 4}, {4, 8}, {1, 3}}) {
      SCOPED_TRACE(std::to_string(s.rows) + "x" + std::to_string(s.cols) + " " + std::to_string(n) + ":" + std::to_string(m));
      const tensor w = random_pruned(s.rows, s.cols, n, m, 0, seed++);
      expect_lossless(w, sparsity_pattern::n_of_m(n, m));
      for (quant_encoding enc : {quant_encoding{.bits = 4, .group_size = 32, .symmetric = true},
                                 quant_encoding{.bits = 4, .group_size = 32, .symmetric = false},
                                 quant_encoding{.bits = 3, .group_size = 16, .symmetric = false},
                                 quant_encoding{.bits = 8, .group_size = 0, .symmetric = true}}) {
        expect_lossless(quantized(w, enc), sparsity_pattern::n_of_m(n, m));
        quant_encoding t = enc;
        t.transposed = true;  // view [cols, rows]: N:M along the tensor's dim 0
        const tensor wt = random_pruned(s.cols, s.rows, n, m, 0, seed++);
        std::vector<float> tr(static_cast<size_t>(s.rows * s.cols));
        for (int64_t r = 0; r < s.cols; ++r)
          for (int64_t c = 0; c < s.rows; ++c) tr[static_cast<size_t>(c * s.cols + r)] = wt.data_as<float>()[r * s.rows + c];
        expect_lossless(quantized(tensor::from_values<float>(dtype::f32, {s.rows, s.cols}, std::span<const float>(tr)), t),
                        sparsity_pattern::n_of_m(n, m));
      }
    }
}

TEST(SparsityCorrect, BitmaskDenseAndQuantizedDecodeExactly) {
  uint64_t seed = 100;
  for (const auto& s : shapes)
    for (double density : {0.0, 0.3, 0.9}) {
      const tensor w = random_pruned(s.rows, s.cols, 0, 0, density, seed++);
      expect_lossless(w, sparsity_pattern::unstructured(0.5));
      expect_lossless(quantized(w, {.bits = 4, .group_size = 32, .symmetric = false}), sparsity_pattern::unstructured(0.5));
      auto f16 = tensor::allocate(dtype::f16, w.shape);
      for (int64_t i = 0; i < w.numel(); ++i) f16.mutable_data_as<uint16_t>()[i] = w.data_as<float>()[i] == 0.0f ? 0 : static_cast<uint16_t>(0x3c00 + i % 512);
      expect_lossless(f16, sparsity_pattern::unstructured(0.5));
    }
}

TEST(SparsityCorrect, NegativeZeroIsKeptAsAValue) {
  const float v[] = {-0.0f, 0.0f, 0.0f, 1.0f};
  const tensor w = tensor::from_values<float>(dtype::f32, {1, 4}, std::span<const float>(v));
  auto packed = pack_sparse_tensor(w, sparsity_pattern::unstructured(0.5));
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->sparsity.nnz, 2u);
  expect_lossless(w, sparsity_pattern::unstructured(0.5));
}

TEST(SparsityError, PatternNotSatisfiedNamesTheGroup) {
  const float v[] = {1, 2, 3, 0, 1, 0, 0, 0};
  const tensor w = tensor::from_values<float>(dtype::f32, {1, 8}, std::span<const float>(v));
  auto packed = pack_sparse_tensor(w, sparsity_pattern::n_of_m(2, 4));
  ASSERT_FALSE(packed.ok());
  EXPECT_EQ(packed.status().message(), "does not satisfy 2:4: row 0, columns 0..3 hold 3 non-zeros (at most 2)");
  EXPECT_FALSE(packed_sparse_bytes(w, sparsity_pattern::n_of_m(2, 4)).has_value());
}

TEST(SparsityCorrect, TwoFourW4g32IsThreeAndAHalfBitsPerWeight) {
  const tensor w = random_pruned(64, 256, 2, 4, 0, 7);
  const tensor q = quantized(w, {.bits = 4, .group_size = 32, .symmetric = true});
  EXPECT_DOUBLE_EQ(8.0 * static_cast<double>(q.stored_bytes()) / static_cast<double>(q.numel()), 4.5);
  auto packed = pack_sparse_tensor(q, sparsity_pattern::n_of_m(2, 4));
  ASSERT_TRUE(packed.ok());
  // 2 values x 4 bits + 2 indices x 2 bits per group of 4 = 3 bits, + 16-bit scale / 32 = 0.5.
  EXPECT_DOUBLE_EQ(8.0 * static_cast<double>(packed->stored_bytes()) / static_cast<double>(q.numel()), 3.5);
}

model two_weight_model(const tensor& a, const tensor& b) {
  model m;
  m.format = "test";
  m.g.inputs.push_back({"x", dtype::f32, {dimension{}, dimension{}}});
  m.g.outputs.push_back({"y", dtype::f32, {}});
  m.g.outputs.push_back({"z", dtype::f32, {}});
  m.g.weights["a"] = a;
  m.g.weights["b"] = b;
  m.g.nodes.push_back({"ga", "Gemm", "", {"x", "a"}, {"y"}, {{"transB", int64_t{1}}}});
  m.g.nodes.push_back({"gb", "Gemm", "", {"x", "b"}, {"z"}, {{"transB", int64_t{1}}}});
  return m;
}

TEST(SparsityCorrect, EpkRoundTripAndPackPass) {
  const tensor a = quantized(random_pruned(37, 53, 2, 4, 0, 11), {.bits = 4, .group_size = 32, .symmetric = false});
  const tensor b = random_pruned(29, 53, 0, 0, 0.2, 12);
  const model dense = two_weight_model(a, b);
  pack_sparse_options options;
  options.min_elements = 0;
  auto packed = pack_sparse(dense, options);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  EXPECT_EQ(packed->out.g.weights.at("a").sparsity.layout, sparsity_layout::n_of_m);
  EXPECT_EQ(packed->out.g.weights.at("b").sparsity.layout, sparsity_layout::bitmask);
  testing::temp_dir dir;
  ASSERT_TRUE(write_epk((dir / "p.epk").string(), packed->out, {}).ok());
  auto back = read_epk((dir / "p.epk").string());
  ASSERT_TRUE(back.ok()) << back.status().message();
  for (const char* name : {"a", "b"}) {
    const tensor& t = back->g.weights.at(name);
    EXPECT_TRUE(t.is_sparse());
    expect_same_bits(*to_float_vector(t), *to_float_vector(dense.g.weights.at(name)));
  }
}

// Writes a one-tensor model, lets `damage` edit the tensor's bytes in the file and reads it back.
Status read_damaged(const tensor& t, const std::function<void(std::vector<std::byte>&, const nlohmann::json&)>& damage) {
  model m = two_weight_model(t, t);
  m.g.weights.erase("b");
  m.g.nodes.pop_back();
  m.g.outputs.pop_back();
  testing::temp_dir dir;
  const auto path = (dir / "d.epk").string();
  EXPECT_TRUE(write_epk(path, m, {}).ok());
  auto meta = read_epk_metadata(path);
  EXPECT_TRUE(meta.ok()) << meta.status().message();
  if (!meta.ok()) return meta.status();
  const std::string text = testing::read_file(path);
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  damage(bytes, *meta);
  auto r = read_epk_from_memory(std::make_shared<owned_storage>(std::move(bytes)), "d.epk", {.verify_checksums = false});
  return r.ok() ? Status::ok_status() : r.status();
}

uint64_t blob_start(const nlohmann::json& meta, const char* part) {
  return meta["header"]["data_offset"].get<uint64_t>() + meta["metadata"]["tensors"][0][part]["offset"].get<uint64_t>();
}

TEST(SparsityError, HostileIndicesAndMasksNameTheTensor) {
  const float v[] = {1, 2, 0, 0, 0, 0, 3, 4};
  const tensor nm = *pack_sparse_tensor(tensor::from_values<float>(dtype::f32, {1, 8}, std::span<const float>(v)), sparsity_pattern::n_of_m(2, 4));
  // indices: group 0 = {0, 1} -> byte 0 bits 0-3 = 0b0100; make it {1, 1} (duplicate).
  Status st = read_damaged(nm, [](std::vector<std::byte>& b, const nlohmann::json& meta) { b[blob_start(meta, "indices")] = std::byte{0b11100101}; });
  EXPECT_EQ(st.code(), error_code::bad_input);
  EXPECT_NE(st.message().find("tensor 'a': indices of row 0, columns 0..3: index 1 after 1 (duplicate position)"), std::string::npos) << st.message();
  st = read_damaged(nm, [](std::vector<std::byte>& b, const nlohmann::json& meta) { b[blob_start(meta, "indices")] = std::byte{0b11100001}; });
  EXPECT_NE(st.message().find("index 0 after 1 (not increasing)"), std::string::npos) << st.message();
  const float v3[] = {1, 0, 0, 0, 0, 3};
  const tensor nm3 = *pack_sparse_tensor(tensor::from_values<float>(dtype::f32, {1, 6}, std::span<const float>(v3)), sparsity_pattern::n_of_m(1, 3));
  // 1:3 uses 2-bit indices: value 3 is outside a 3-column group.
  st = read_damaged(nm3, [](std::vector<std::byte>& b, const nlohmann::json& meta) { b[blob_start(meta, "indices")] = std::byte{0b0011}; });
  EXPECT_NE(st.message().find("index 3 is outside the 3-column group"), std::string::npos) << st.message();
  const tensor bm = *pack_sparse_tensor(tensor::from_values<float>(dtype::f32, {2, 4}, std::span<const float>(v)), sparsity_pattern::unstructured(0.5));
  st = read_damaged(bm, [](std::vector<std::byte>& b, const nlohmann::json& meta) { b[blob_start(meta, "mask")] ^= std::byte{0x04}; });
  EXPECT_NE(st.message().find("tensor 'a': row_offsets[1] is 2 but the mask's rows 0..0 hold 3 values"), std::string::npos) << st.message();
  st = read_damaged(bm, [](std::vector<std::byte>& b, const nlohmann::json& meta) { b[blob_start(meta, "row_offsets") + 4] = std::byte{1}; });
  EXPECT_NE(st.message().find("row_offsets[1] is 1"), std::string::npos) << st.message();
}

TEST(SparsityCorrect, InterpreterRunsPackedGemmLikeDense) {
  const tensor a = quantized(random_pruned(37, 53, 2, 4, 0, 21), {.bits = 4, .group_size = 32, .symmetric = true});
  const tensor b = random_pruned(29, 53, 0, 0, 0.2, 22);
  const model dense = two_weight_model(a, b);
  pack_sparse_options options;
  options.min_elements = 0;
  const model packed = pack_sparse(dense, options)->out;
  EXPECT_TRUE(packed.g.weights.at("a").is_sparse());
  std::vector<float> x(53);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  const tensor input = tensor::from_values<float>(dtype::f32, {1, 53}, std::span<const float>(x));
  for (const char* out : {"y", "z"}) {
    // Both runs go through the interpreter: dense decodes once, packed keeps the Gemm weight packed.
    auto run = [&](const model& m) {
      auto it = interpreter::create(m.g);
      EXPECT_TRUE(it.ok()) << it.status().message();
      auto r = it->run({{"x", input}});
      EXPECT_TRUE(r.ok()) << r.status().message();
      if (!r.ok()) return std::vector<float>{};
      return *to_float_vector(r->at(out));
    };
    const auto yd = run(dense), yp = run(packed);
    // The packed kernel runs the dense GEMM's FMA chains (runtime_ref/sparse_linear.h): same bits.
    expect_same_bits(yp, yd);
  }
}

TEST(SparsityCorrect, Stories260kTwoFourW4g32BitsPerWeight) {
  auto m = load_model((testing::datasets_dir() / "stories260K/stories260K.bin").string(), {});
  ASSERT_TRUE(m.ok()) << m.status().message();
  // gate_proj [172, 64]: 64 columns = two whole w4g32 groups. (down_proj [64, 172] has a 12-column
  // tail group per row, 6 scales per 172 weights: 4.558 bits dense, 3.558 packed.)
  const std::string name = "model.layers.2.mlp.gate_proj.weight";
  ASSERT_TRUE(m->g.weights.count(name)) << "tensor names changed";
  // 2:4 magnitude pruning (keep the 2 largest |w| per group), then w4g32 and packing.
  auto values = *to_float_vector(m->g.weights.at(name));
  const int64_t rows = m->g.weights.at(name).shape[0], cols = m->g.weights.at(name).shape[1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols; g += 4) {
      float* p = values.data() + r * cols + g;
      int order[4] = {0, 1, 2, 3};
      std::sort(order, order + 4, [&](int i, int j) { return std::abs(p[i]) < std::abs(p[j]); });
      p[order[0]] = p[order[1]] = 0.0f;
    }
  const tensor pruned = tensor::from_values<float>(dtype::f32, {rows, cols}, std::span<const float>(values));
  const tensor q = quantized(pruned, {.bits = 4, .group_size = 32, .symmetric = true});
  auto packed = pack_sparse_tensor(q, sparsity_pattern::n_of_m(2, 4));
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  const double dense_bits = 8.0 * static_cast<double>(q.stored_bytes()) / static_cast<double>(q.numel());
  const double bits = 8.0 * static_cast<double>(packed->stored_bytes()) / static_cast<double>(q.numel());
  std::printf("%s [%lld, %lld]: w4g32 %.4f bits/weight, 2:4+w4g32 %.4f bits/weight\n", name.c_str(), static_cast<long long>(rows),
              static_cast<long long>(cols), dense_bits, bits);
  EXPECT_LE(bits, 3.5 + 1e-12);
  expect_same_bits(*to_float_vector(*packed), *to_float_vector(q));
}

}  // namespace
}  // namespace edgepack

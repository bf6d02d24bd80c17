// Shared by the .epk tests: a model exercising every feature of the format, and helpers that
// take a written file apart and put it back together with valid checksums, so corruption tests
// reach the exact check they target instead of failing early on a CRC.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "core/crc32c.h"
#include "core/model.h"
#include "core/quant_codes.h"
#include "core/sparsity.h"
#include "formats/epk_layout.h"
#include "formats/json_fields.h"

namespace edgepack::testing {

inline std::vector<std::byte> packed_random_codes(int bits, uint64_t count, std::mt19937& rng) {
  std::vector<uint8_t> codes(count);
  for (auto& c : codes) c = static_cast<uint8_t>(rng() % (1u << bits));
  std::vector<std::byte> out(packed_code_bytes(bits, count));
  pack_codes(codes, bits, out);
  return out;
}

inline tensor make_quantized(int bits, int64_t group, bool symmetric, int64_t rows, int64_t cols, std::mt19937& rng) {
  tensor t;
  t.type = dtype::f32;
  t.shape = {rows, cols};
  t.kind = encoding_kind::quantized;
  t.quant = quant_encoding{bits, group, symmetric};
  const uint64_t groups = static_cast<uint64_t>(rows * t.quant.groups_per_row(cols));
  t.data = make_owned_view(packed_random_codes(bits, static_cast<uint64_t>(rows * cols), rng));
  std::vector<std::byte> scales(groups * 2);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  for (uint64_t g = 0; g < groups; ++g) {
    const uint16_t bits16 = f32_to_f16(scale(rng));
    std::memcpy(scales.data() + 2 * g, &bits16, 2);
  }
  t.scales = make_owned_view(std::move(scales));
  if (!symmetric) t.zeros = make_owned_view(packed_random_codes(bits, groups, rng));
  return t;
}

inline tensor make_dense(dtype type, std::vector<int64_t> shape, std::mt19937& rng) {
  tensor t = tensor::allocate(type, std::move(shape));
  auto* bytes = const_cast<std::byte*>(t.data.data);
  for (size_t i = 0; i < t.data.size; ++i) bytes[i] = static_cast<std::byte>(rng());
  return t;
}

// A 2:4 sparse tensor [rows, cols] (last dim = columns): random kept positions per group of 4 (a
// tail group of t = cols % 4 columns keeps floor(2t/4)), random stored values; quantized with
// w4g32 symmetric when `quantized` is set (scales one per group of the original columns).
inline tensor make_two_four(int64_t rows, int64_t cols, bool quantized, std::mt19937& rng) {
  tensor t;
  t.type = dtype::f32;
  t.shape = {rows, cols};
  t.sparsity = {.layout = sparsity_layout::n_of_m, .n = 2, .m = 4, .nnz = 0};
  const uint64_t values = static_cast<uint64_t>(rows * t.sparsity.kept_per_row(cols));
  std::vector<std::byte> indices(packed_code_bytes(2, values));
  uint64_t k = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t begin = 0; begin < cols; begin += 4) {
      const int64_t width = std::min<int64_t>(4, cols - begin);
      const int64_t kept = t.sparsity.kept_in_group(width);
      std::vector<uint32_t> order;
      for (uint32_t j = 0; j < static_cast<uint32_t>(width); ++j) order.push_back(j);
      std::shuffle(order.begin(), order.end(), rng);
      order.resize(static_cast<size_t>(kept));
      std::sort(order.begin(), order.end());
      for (uint32_t index : order) write_bit_field(indices.data(), 2, k++, index);
    }
  t.indices = make_owned_view(std::move(indices));
  if (!quantized) {
    std::vector<std::byte> data(values * 4);
    for (auto& b : data) b = static_cast<std::byte>(rng());
    t.data = make_owned_view(std::move(data));
    return t;
  }
  t.kind = encoding_kind::quantized;
  t.quant = quant_encoding{4, 32, true};
  t.data = make_owned_view(packed_random_codes(4, values, rng));
  const uint64_t groups = static_cast<uint64_t>(rows * t.quant.groups_per_row(cols));
  std::vector<std::byte> scales(groups * 2);
  for (uint64_t g = 0; g < groups; ++g) {
    const uint16_t bits16 = f32_to_f16(0.01f * static_cast<float>(1 + g % 7));
    std::memcpy(scales.data() + 2 * g, &bits16, 2);
  }
  t.scales = make_owned_view(std::move(scales));
  return t;
}

// A bitmask-sparse f32 tensor [rows, cols], each element kept with probability 1/3 (the last
// element always, so the last row holds a value); random stored values.
inline tensor make_bitmask(int64_t rows, int64_t cols, std::mt19937& rng) {
  tensor t;
  t.type = dtype::f32;
  t.shape = {rows, cols};
  const uint64_t count = static_cast<uint64_t>(rows * cols);
  std::vector<std::byte> mask((count + 7) / 8);
  std::vector<std::byte> row_offsets(static_cast<size_t>(rows + 1) * 4);
  uint32_t nnz = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const uint64_t i = static_cast<uint64_t>(r * cols + c);
      if (rng() % 3 == 0 || i + 1 == count) {
        write_bit_field(mask.data(), 1, i, 1);
        ++nnz;
      }
    }
    std::memcpy(row_offsets.data() + 4 * static_cast<size_t>(r + 1), &nnz, 4);  // little-endian host
  }
  t.sparsity = {.layout = sparsity_layout::bitmask, .n = 0, .m = 0, .nnz = nnz};
  std::vector<std::byte> data(static_cast<size_t>(nnz) * 4);
  for (auto& b : data) b = static_cast<std::byte>(rng());
  t.data = make_owned_view(std::move(data));
  t.mask = make_owned_view(std::move(mask));
  t.row_offsets = make_owned_view(std::move(row_offsets));
  return t;
}

// Every attribute type, symbolic/unknown dims, dense f32/f16, quantized 2/3/4/8 bits symmetric
// and asymmetric with a tail group (172 = 5*32 + 12), per-channel, empty and scalar tensors,
// col_axis and transposed matrix views, sparse tensors (2:4 dense f32 with a 2-column tail, 2:4 +
// w4g32 with a tail group and a 2-column N:M tail, bitmask), an LLM config and a vocabulary with
// pieces that are not UTF-8.
inline model make_full_model() {
  std::mt19937 rng(1234);
  model m;
  m.format = "hf";
  graph& g = m.g;
  g.opset_imports = {{"", 23}, {"com.microsoft", 1}};
  g.inputs.push_back({"x", dtype::f32, {{-1, "batch"}, {-1, "seq"}, {172, ""}, {-1, ""}}});
  g.outputs.push_back({"y", dtype::f16, {{1, ""}, {-1, "seq"}}});
  g.weights["dense.f32"] = make_dense(dtype::f32, {3, 5}, rng);
  g.weights["dense.f16"] = make_dense(dtype::f16, {4, 172}, rng);
  g.weights["empty"] = make_dense(dtype::f32, {0, 4}, rng);
  g.weights["scalar"] = make_dense(dtype::i64, {}, rng);
  for (int bits : {2, 3, 4, 8}) {
    for (bool symmetric : {true, false}) {
      const quant_encoding enc{bits, 32, symmetric};
      g.weights["q." + quant_encoding_name(enc)] = make_quantized(bits, 32, symmetric, 5, 172, rng);
    }
  }
  g.weights["q.per_channel"] = make_quantized(4, 0, false, 3, 10, rng);
  // Matrix views other than the last dim: a Conv weight grouped over channels x taps, and a
  // MatMul B [K, N] stored transposed.
  tensor conv = make_quantized(4, 32, true, 5, 45, rng);
  conv.shape = {5, 5, 3, 3};
  conv.quant.col_axis = 1;
  g.weights["q.conv"] = conv;
  tensor matmul_b = make_quantized(4, 32, false, 9, 70, rng);
  matmul_b.shape = {70, 9};
  matmul_b.quant.transposed = true;
  g.weights["q.transposed"] = matmul_b;
  g.weights["s.2_4"] = make_two_four(6, 10, false, rng);
  g.weights["s.2_4_w4g32"] = make_two_four(5, 70, true, rng);
  g.weights["s.bitmask"] = make_bitmask(7, 13, rng);
  node n;
  n.name = "mix";
  n.op_type = "Mix";
  n.domain = "com.microsoft";
  n.inputs = {"x", "dense.f32", "", "q.w4g32"};
  n.outputs = {"y"};
  n.attributes["axis"] = int64_t{-1};
  n.attributes["big"] = std::numeric_limits<int64_t>::min();
  n.attributes["epsilon"] = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
  n.attributes["tiny"] = 4.9406564584124654e-324;
  n.attributes["neg_zero"] = -0.0;
  n.attributes["mode"] = std::string("linear");
  n.attributes["raw"] = std::string("\xff\xfe\x00z", 4);
  n.attributes["perm"] = std::vector<int64_t>{0, 2, 1, std::numeric_limits<int64_t>::max()};
  n.attributes["scales"] = std::vector<double>{1.5, -std::numeric_limits<double>::infinity(),
                                               std::numeric_limits<double>::infinity(), 1e308, -0.0};
  n.attributes["empty_ints"] = std::vector<int64_t>{};
  g.nodes.push_back(n);
  llm_config c;
  c.dim = 64;
  c.hidden_dim = 172;
  c.layers = 5;
  c.heads = 8;
  c.kv_heads = 4;
  c.head_dim = 8;
  c.vocab_size = 6;
  c.max_seq_len = 512;
  c.norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.rope_interleaved = true;
  m.llm = c;
  m.vocab.pieces = {"<unk>", "<s>", "<0x0A>", std::string("\xe2\x96\x81the"), std::string("\xff\x80", 2),
                    std::string("a\0b", 3)};
  m.vocab.scores = {0.0f, 0.0f, -1.5f, -3.25e-7f, -1e30f, 7.0f};
  m.vocab.bos_id = 1;
  m.vocab.eos_id = 2;
  m.sources.push_back({"models/x.bin", std::string(64, 'a'), 1234});
  m.sources.push_back({std::string("odd\xffname"), std::string(64, 'b'), 0});
  return m;
}

// A written file taken apart: header fields, parsed metadata and the data section bytes.
struct epk_image {
  epk_header header;
  ojson metadata;
  std::string data;
};

inline epk_image split_epk(const std::string& bytes) {
  epk_image image;
  image.header = decode_epk_header(std::span<const std::byte, epk_header_size>(
      reinterpret_cast<const std::byte*>(bytes.data()), epk_header_size));
  image.metadata = ojson::parse(bytes.substr(image.header.metadata_offset, image.header.metadata_length));
  image.data = bytes.substr(image.header.data_offset, image.header.data_length);
  return image;
}

// Reassembles a file with consistent offsets and checksums from (possibly edited) parts.
inline std::string join_epk(const epk_image& image, const std::string& metadata_text) {
  epk_header h = image.header;
  h.metadata_offset = epk_header_size;
  h.metadata_length = metadata_text.size();
  h.data_offset = *epk_align_up(epk_header_size + metadata_text.size());
  h.data_length = image.data.size();
  h.metadata_crc32c = crc32c(std::as_bytes(std::span(metadata_text)));
  const auto header = encode_epk_header(h);
  std::string out(reinterpret_cast<const char*>(header.data()), header.size());
  out += metadata_text;
  out.resize(h.data_offset, '\0');
  return out + image.data;
}

inline std::string join_epk(const epk_image& image) { return join_epk(image, image.metadata.dump()); }

// Index of the tensor-table entry called `name` (test helper: the name must exist).
inline size_t tensor_index(const ojson& metadata, const std::string& name) {
  const auto& table = metadata["tensors"];
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i]["name"] == name) return i;
  }
  ADD_FAILURE() << "no tensor " << name;
  return 0;
}

}  // namespace edgepack::testing

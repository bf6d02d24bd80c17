// llama2.c .bin reader: array order and naming on a synthetic checkpoint (correct), one test per
// corrupt-header case (error), and the real stories260K checked against its HF conversion (e2e).
#include "formats/llama2c.h"

#include <array>
#include <cstring>
#include <filesystem>

#include "core/sha256.h"
#include "formats/safetensors.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::temp_dir;
using testing::write_file;

struct dims {
  int32_t dim = 8, hidden = 12, layers = 2, heads = 2, kv_heads = 1, vocab = 10, seq_len = 4;
};

std::string header_bytes(const std::array<int32_t, 7>& fields) {
  std::string out(28, '\0');
  std::memcpy(out.data(), fields.data(), 28);  // tests run on little-endian hosts, like the reader
  return out;
}

std::array<int32_t, 7> fields_of(const dims& d) { return {d.dim, d.hidden, d.layers, d.heads, d.kv_heads, d.vocab, d.seq_len}; }

// Total float count implied by the header (vocab < 0: untied, classifier at the end).
int64_t float_count(const dims& d) {
  const int64_t v = d.vocab < 0 ? -int64_t{d.vocab} : d.vocab, kv = int64_t{d.dim} * d.kv_heads / d.heads;
  const int64_t per_layer = 2 * d.dim + 2 * int64_t{d.dim} * d.dim + 2 * kv * d.dim + 3 * int64_t{d.hidden} * d.dim;
  return v * d.dim + d.layers * per_layer + d.dim + int64_t{d.seq_len} * (d.dim / d.heads) + (d.vocab < 0 ? v * d.dim : 0);
}

// A valid file whose i-th float is i, so every tensor's first element tells where it came from.
std::string make_checkpoint(const dims& d) {
  std::string out = header_bytes(fields_of(d));
  const int64_t n = float_count(d);
  for (int64_t i = 0; i < n; ++i) {
    const float value = static_cast<float>(i);
    out.append(reinterpret_cast<const char*>(&value), 4);
  }
  return out;
}

::testing::AssertionResult llama2c_fails_with(const std::string& bytes, const std::string& phrase) {
  temp_dir dir;
  const std::string path = (dir / "bad.bin").string();
  write_file(path, bytes);
  const auto result = read_llama2c(path);
  if (result.ok()) return ::testing::AssertionFailure() << "read succeeded, expected an error containing '" << phrase << "'";
  const Status& status = result.status();
  if (status.code() != error_code::bad_input) return ::testing::AssertionFailure() << "code " << error_code_name(status.code());
  if (status.message().rfind(path + ": ", 0) != 0)
    return ::testing::AssertionFailure() << "message does not start with the path: " << status.message();
  if (status.message().find(phrase) == std::string::npos)
    return ::testing::AssertionFailure() << "message lacks '" << phrase << "': " << status.message();
  return ::testing::AssertionSuccess() << status.message();
}

float first(const llama_checkpoint& c, const std::string& name) { return c.weights.at(name).data_as<float>()[0]; }

// ---- correct ----

TEST(Llama2cRead, SyntheticTiedArraysInFileOrder) {
  temp_dir dir;
  const dims d;
  write_file(dir / "m.bin", make_checkpoint(d));
  const auto c = read_llama2c((dir / "m.bin").string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->config.tied_embeddings);
  EXPECT_EQ(c->weights.size(), 1u + 2 * 9 + 1);
  EXPECT_EQ(c->weights.count("lm_head.weight"), 0u);
  // Offsets in floats: emb 80; rms_att 2×8; wq 2×64; wk 2×32; wv 2×32; wo 2×64; rms_ffn 2×8; w1 2×96; w2 2×96; w3 2×96.
  EXPECT_EQ(first(*c, "model.embed_tokens.weight"), 0);
  EXPECT_EQ(first(*c, "model.layers.0.input_layernorm.weight"), 80);
  EXPECT_EQ(first(*c, "model.layers.1.input_layernorm.weight"), 88);
  EXPECT_EQ(first(*c, "model.layers.0.self_attn.q_proj.weight"), 96);
  EXPECT_EQ(first(*c, "model.layers.1.self_attn.q_proj.weight"), 160);
  EXPECT_EQ(first(*c, "model.layers.0.self_attn.k_proj.weight"), 224);
  EXPECT_EQ(first(*c, "model.layers.1.self_attn.k_proj.weight"), 256);
  EXPECT_EQ(first(*c, "model.layers.0.self_attn.v_proj.weight"), 288);
  EXPECT_EQ(first(*c, "model.layers.0.self_attn.o_proj.weight"), 352);
  EXPECT_EQ(first(*c, "model.layers.0.post_attention_layernorm.weight"), 480);
  EXPECT_EQ(first(*c, "model.layers.0.mlp.gate_proj.weight"), 496);   // w1
  EXPECT_EQ(first(*c, "model.layers.1.mlp.gate_proj.weight"), 592);
  EXPECT_EQ(first(*c, "model.layers.0.mlp.down_proj.weight"), 688);   // w2
  EXPECT_EQ(first(*c, "model.layers.0.mlp.up_proj.weight"), 880);     // w3
  EXPECT_EQ(first(*c, "model.norm.weight"), 1072);
  EXPECT_EQ(c->weights.at("model.layers.0.self_attn.k_proj.weight").shape, (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(c->weights.at("model.layers.1.mlp.down_proj.weight").shape, (std::vector<int64_t>{8, 12}));
  EXPECT_EQ(c->weights.at("model.norm.weight").data.size, 32u);
}

TEST(Llama2cRead, SyntheticUntiedClassifierFollowsRopeTables) {
  temp_dir dir;
  dims d;
  d.vocab = -10;
  write_file(dir / "m.bin", make_checkpoint(d));
  const auto c = read_llama2c((dir / "m.bin").string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->config.tied_embeddings);
  EXPECT_EQ(c->config.vocab_size, 10);
  ASSERT_EQ(c->weights.count("lm_head.weight"), 1u);
  // rms_final at 1072 (8 floats), then two skipped RoPE tables of 4×2 floats.
  EXPECT_EQ(first(*c, "lm_head.weight"), 1072 + 8 + 16);
  EXPECT_EQ(c->weights.at("lm_head.weight").shape, (std::vector<int64_t>{10, 8}));
}

TEST(Llama2cRead, FromMemoryMatchesFileAndCopesWithMisalignment) {
  const std::string bytes = make_checkpoint(dims{});
  // Storage whose data starts one byte into an allocation: the reader must copy, not misread.
  class offset_storage final : public storage {
   public:
    explicit offset_storage(const std::string& b) : buffer_(b.size() + 1) { std::memcpy(buffer_.data() + 1, b.data(), b.size()); }
    const std::byte* data() const override { return buffer_.data() + 1; }
    size_t size() const override { return buffer_.size() - 1; }

   private:
    std::vector<std::byte> buffer_;
  };
  const auto c = read_llama2c_from_memory(std::make_shared<offset_storage>(bytes), "mem");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c->weights.at("model.norm.weight").data.data) % 4, 0u);
  EXPECT_EQ(first(*c, "model.norm.weight"), 1072);
  ASSERT_EQ(c->sources.size(), 1u);
  EXPECT_EQ(c->sources[0].path, "mem");
  EXPECT_EQ(c->sources[0].bytes, bytes.size());
  EXPECT_EQ(c->sources[0].sha256, sha256::hex(std::as_bytes(std::span(bytes.data(), bytes.size()))));
}

// ---- error ----

TEST(Llama2cError, ShorterThanHeader) { EXPECT_TRUE(llama2c_fails_with(std::string(27, '\1'), "27 bytes, shorter than the 28-byte llama2.c header")); }
TEST(Llama2cError, EmptyFile) { EXPECT_TRUE(llama2c_fails_with("", "0 bytes, shorter than")); }

TEST(Llama2cError, TruncatedNamesTheTensor) {
  std::string bytes = make_checkpoint(dims{});
  // Cut inside layer 1's wk: floats [256, 288).
  bytes.resize(28 + 4 * 260);
  EXPECT_TRUE(llama2c_fails_with(bytes, "truncated: 'model.layers.1.self_attn.k_proj.weight' (llama2.c wk[1]) [4, 8] needs bytes [1052, 1180)"));
  EXPECT_TRUE(llama2c_fails_with(bytes, "expected 4412 bytes"));
  // Cut exactly at a boundary: the next array is the one missing.
  bytes.resize(28 + 4 * 256);
  EXPECT_TRUE(llama2c_fails_with(bytes, "'model.layers.1.self_attn.k_proj.weight'"));
  // Cut inside the RoPE tables, which are skipped but still required.
  std::string tail = make_checkpoint(dims{});
  tail.resize(tail.size() - 4);
  EXPECT_TRUE(llama2c_fails_with(tail, "truncated: freq_cis_imag [4, 2]"));
}

TEST(Llama2cError, TrailingBytes) {
  EXPECT_TRUE(llama2c_fails_with(make_checkpoint(dims{}) + "xyz", "file is 4415 bytes but the header (dim=8, hidden_dim=12, n_layers=2, n_heads=2, "
                                                          "n_kv_heads=1, vocab_size=10, seq_len=4) implies exactly 4412 (3 trailing bytes)"));
}

TEST(Llama2cError, ZeroOrNegativeFields) {
  for (int field = 0; field < 7; ++field) {
    auto f = fields_of(dims{});
    f[field] = 0;
    EXPECT_TRUE(llama2c_fails_with(header_bytes(f) + std::string(64, '\0'), field == 5 ? "vocab_size = 0 must be non-zero" : "= 0 must be positive"));
    if (field == 5) continue;  // a negative vocab_size is legal (untied classifier)
    f[field] = -3;
    EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "= -3 must be positive"));
  }
  auto f = fields_of(dims{});
  f[2] = 0;
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "header field n_layers = 0 must be positive (dim=8, hidden_dim=12, n_layers=0"));
}

TEST(Llama2cError, HeadsMustDivide) {
  auto f = fields_of(dims{});
  f[3] = 3;  // 8 % 3
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "dim 8 is not divisible by n_heads 3"));
  f = fields_of(dims{});
  f[3] = 4;
  f[4] = 3;  // 4 % 3
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "n_heads 4 is not divisible by n_kv_heads 3"));
  f = fields_of(dims{});
  f[4] = 4;  // more KV heads than heads
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "n_heads 2 is not divisible by n_kv_heads 4"));
  f = fields_of(dims{});
  f[0] = 6;
  f[3] = 2;  // head size 3
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "head size dim/n_heads = 3 is odd"));
}

TEST(Llama2cError, HugeDims) {
  auto f = fields_of(dims{});
  f[0] = (1 << 20) + 2;
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "header field dim = 1048578 exceeds the cap of 1048576"));
  f = fields_of(dims{});
  f[5] = INT32_MIN;  // |vocab| does not fit an int32
  EXPECT_TRUE(llama2c_fails_with(header_bytes(f), "header field vocab_size = -2147483648 exceeds the cap"));
  // Every field at the cap: the byte total overflows 64 bits (layers · hidden · dim · 4 · 3 alone is 3·2^62).
  const int32_t cap = 1 << 20;
  EXPECT_TRUE(llama2c_fails_with(header_bytes({cap, cap, cap, 2, 1, cap, cap}), "implies a file size that overflows 64 bits at"));
  // Large but representable: a plain truncation naming the first array.
  EXPECT_TRUE(llama2c_fails_with(header_bytes({1 << 16, 1 << 16, 4, 2, 1, 1 << 16, 16}), "truncated: 'model.embed_tokens.weight'"));
}

// ---- e2e on stories260K ----

std::filesystem::path stories_bin() {
  const auto bundled = testing::datasets_dir() / "stories260K" / "stories260K.bin";
  if (std::filesystem::exists(bundled)) return bundled;
  return testing::shared_dir() / "models" / "stories260K" / "stories260K.bin";
}

TEST(Llama2cStories, ConfigShapesAndProvenance) {
  if (!std::filesystem::exists(testing::datasets_dir() / "stories260K" / "stories260K.bin")) EP_REQUIRE_SHARED();
  const auto c = read_llama2c(stories_bin().string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  const llm_config& cfg = c->config;
  EXPECT_EQ(cfg.architecture, "llama");
  EXPECT_EQ(cfg.dim, 64);
  EXPECT_EQ(cfg.hidden_dim, 172);
  EXPECT_EQ(cfg.layers, 5);
  EXPECT_EQ(cfg.heads, 8);
  EXPECT_EQ(cfg.kv_heads, 4);
  EXPECT_EQ(cfg.head_dim, 8);
  EXPECT_EQ(cfg.vocab_size, 512);
  EXPECT_EQ(cfg.max_seq_len, 512);
  EXPECT_TRUE(cfg.tied_embeddings);
  EXPECT_TRUE(cfg.rope_interleaved);
  EXPECT_EQ(cfg.rope_theta, 10000.0);
  EXPECT_EQ(cfg.norm_eps, 1e-5);
  EXPECT_EQ(cfg.bos_id, 1);
  EXPECT_EQ(cfg.eos_id, 2);
  EXPECT_EQ(c->weights.size(), 47u);
  int64_t params = 0;
  for (const auto& [name, t] : c->weights) {
    EXPECT_EQ(t.type, dtype::f32) << name;
    EXPECT_EQ(t.data.size, static_cast<size_t>(t.numel()) * 4) << name;
    params += t.numel();
  }
  EXPECT_EQ(params, 260032);  // SOURCE.txt: 264,128 floats minus the 4,096 RoPE-table floats
  EXPECT_EQ(c->weights.at("model.layers.4.self_attn.k_proj.weight").shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(c->weights.at("model.layers.4.mlp.down_proj.weight").shape, (std::vector<int64_t>{64, 172}));
  EXPECT_EQ(c->weights.at("model.layers.4.mlp.up_proj.weight").shape, (std::vector<int64_t>{172, 64}));
  ASSERT_EQ(c->sources.size(), 1u);
  EXPECT_EQ(c->sources[0].bytes, 1056540u);
  EXPECT_EQ(c->sources[0].sha256, "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
  // Zero-copy: the embedding is the file's bytes right after the header.
  const auto& emb = c->weights.at("model.embed_tokens.weight");
  EXPECT_EQ(emb.data.data, emb.data.owner->data() + 28);
}

// The HF conversion holds the same numbers; only q/k rows are reordered from llama2.c's adjacent
// RoPE pairs to rotate_half: hf[h*hd + j*hd/2 + i] = ours[h*hd + 2*i + j] for each head h.
TEST(Llama2cStories, WeightsMatchHfConversion) {
  EP_REQUIRE_SHARED();
  const auto ours = read_llama2c(stories_bin().string());
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  const auto hf = read_safetensors((testing::shared_dir() / "models" / "stories260K-hf" / "model.safetensors").string());
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  ASSERT_EQ(hf->tensors.size(), ours->weights.size());
  int permuted = 0;
  for (const auto& [name, t] : ours->weights) {
    ASSERT_EQ(hf->tensors.count(name), 1u) << name;
    const tensor& h = hf->tensors.at(name);
    ASSERT_EQ(h.type, dtype::f32) << name;
    ASSERT_EQ(h.shape, t.shape) << name;
    const bool is_q = name.find("q_proj") != std::string::npos, is_k = name.find("k_proj") != std::string::npos;
    if (!is_q && !is_k) {
      EXPECT_EQ(std::memcmp(h.data.data, t.data.data, t.data.size), 0) << name;
      continue;
    }
    const int64_t heads = is_q ? 8 : 4, hd = 8, dim = 64;
    const float* a = t.data_as<float>();
    const float* b = h.data_as<float>();
    int64_t mismatches = 0, unpermuted_equal = 0;
    for (int64_t head = 0; head < heads; ++head)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t i = 0; i < hd / 2; ++i)
          for (int64_t col = 0; col < dim; ++col) {
            const int64_t hf_row = head * hd + j * hd / 2 + i, our_row = head * hd + 2 * i + j;
            if (b[hf_row * dim + col] != a[our_row * dim + col]) ++mismatches;
            if (b[hf_row * dim + col] == a[hf_row * dim + col]) ++unpermuted_equal;
          }
    EXPECT_EQ(mismatches, 0) << name;
    EXPECT_LT(unpermuted_equal, heads * hd * dim / 2) << name << ": the permutation should matter";
    ++permuted;
  }
  EXPECT_EQ(permuted, 10);
}

}  // namespace
}  // namespace edgepack

// Writes a deterministic synthetic Llama checkpoint as a Hugging Face directory (config.json +
// sharded F16 safetensors + model.safetensors.index.json) for scale benchmarks. The defaults give
// 0.84B parameters (dim 2048, hidden 5632, 16 layers, 32 heads / 4 KV heads, vocab 32000, untied),
// the size of the model llama-quantize was timed on in DESIGN.md.
//
// Values: N(0, 0.02) from a counter-based generator (splitmix64 of seed, tensor index and element
// index, so every tensor is reproducible on its own), with a few input channels scaled 8x in every
// linear weight to mimic the outlier features of trained models; RMSNorm weights are 1 ± 0.05.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/parallel.h"
#include "formats/safetensors.h"

namespace {

using namespace edgepack;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Approximately standard normal: sum of four uniforms, centred and scaled (Irwin-Hall).
float pseudo_normal(uint64_t key) {
  const uint64_t bits = splitmix64(key);
  float sum = 0;
  for (int i = 0; i < 4; ++i) sum += static_cast<float>((bits >> (16 * i)) & 0xFFFF) / 65535.0f;
  return (sum - 2.0f) * std::sqrt(3.0f);
}

tensor make_tensor(std::vector<int64_t> shape, uint64_t seed, uint64_t index, bool is_norm) {
  tensor t = tensor::allocate(dtype::f16, shape);
  auto* out = t.mutable_data_as<uint16_t>();
  const int64_t cols = shape.back();
  const int64_t count = t.numel();
  parallel_for(count / cols, 0, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t i = r * cols + c;
        const float z = pseudo_normal(seed * 0x100000000ull ^ (index << 40) ^ static_cast<uint64_t>(i));
        float value = is_norm ? 1.0f + 0.05f * z : 0.02f * z;
        if (!is_norm && c % 509 == 7) value *= 8.0f;  // outlier input channels
        out[i] = f32_to_f16(value);
      }
  });
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a deterministic synthetic Llama checkpoint (HF directory, F16 safetensors shards)"};
  std::string out_dir;
  int64_t dim = 2048, hidden = 5632, layers = 16, heads = 32, kv_heads = 4, vocab = 32000, shards = 4;
  uint64_t seed = 1;
  app.add_option("output", out_dir, "Directory to create")->required();
  app.add_option("--dim", dim)->capture_default_str();
  app.add_option("--hidden", hidden)->capture_default_str();
  app.add_option("--layers", layers)->capture_default_str();
  app.add_option("--heads", heads)->capture_default_str();
  app.add_option("--kv-heads", kv_heads)->capture_default_str();
  app.add_option("--vocab", vocab)->capture_default_str();
  app.add_option("--shards", shards)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  namespace fs = std::filesystem;
  fs::create_directories(out_dir);
  const int64_t head_dim = dim / heads;
  nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", dim},
                           {"intermediate_size", hidden}, {"num_hidden_layers", layers}, {"num_attention_heads", heads},
                           {"num_key_value_heads", kv_heads}, {"vocab_size", vocab}, {"max_position_embeddings", 2048},
                           {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false}, {"bos_token_id", 1},
                           {"eos_token_id", 2}, {"hidden_act", "silu"}, {"torch_dtype", "float16"}};
  std::ofstream(fs::path(out_dir) / "config.json") << config.dump(2) << "\n";

  // Shapes in HF names, grouped per shard: embeddings with the first shard, head with the last.
  std::vector<std::vector<std::pair<std::string, std::vector<int64_t>>>> plan(static_cast<size_t>(shards));
  plan.front().push_back({"model.embed_tokens.weight", {vocab, dim}});
  for (int64_t l = 0; l < layers; ++l) {
    auto& shard = plan[static_cast<size_t>(l * shards / layers)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    shard.push_back({p + "input_layernorm.weight", {dim}});
    shard.push_back({p + "post_attention_layernorm.weight", {dim}});
    shard.push_back({p + "self_attn.q_proj.weight", {heads * head_dim, dim}});
    shard.push_back({p + "self_attn.k_proj.weight", {kv_heads * head_dim, dim}});
    shard.push_back({p + "self_attn.v_proj.weight", {kv_heads * head_dim, dim}});
    shard.push_back({p + "self_attn.o_proj.weight", {dim, heads * head_dim}});
    shard.push_back({p + "mlp.gate_proj.weight", {hidden, dim}});
    shard.push_back({p + "mlp.up_proj.weight", {hidden, dim}});
    shard.push_back({p + "mlp.down_proj.weight", {dim, hidden}});
  }
  plan.back().push_back({"model.norm.weight", {dim}});
  plan.back().push_back({"lm_head.weight", {vocab, dim}});

  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t total_bytes = 0, params = 0, index = 0;
  for (int64_t s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05lld-of-%05lld.safetensors", static_cast<long long>(s + 1), static_cast<long long>(shards));
    std::map<std::string, tensor> tensors;
    for (const auto& [tensor_name, shape] : plan[static_cast<size_t>(s)]) {
      tensors[tensor_name] = make_tensor(shape, seed, index++, tensor_name.find("norm") != std::string::npos);
      weight_map[tensor_name] = name;
      total_bytes += tensors[tensor_name].data.size;
      params += static_cast<uint64_t>(tensors[tensor_name].numel());
    }
    const Status status = write_safetensors((fs::path(out_dir) / name).string(), tensors, {{"format", "pt"}});
    if (!status.ok()) {
      std::fprintf(stderr, "error: %s\n", status.message().c_str());
      return 4;
    }
    std::fprintf(stderr, "wrote %s (%zu tensors)\n", name, tensors.size());
  }
  nlohmann::json index_json = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  std::ofstream(fs::path(out_dir) / "model.safetensors.index.json") << index_json.dump(2) << "\n";
  std::printf("%s: %llu parameters, %llu bytes of F16 weights in %lld shards\n", out_dir.c_str(), static_cast<unsigned long long>(params),
              static_cast<unsigned long long>(total_bytes), static_cast<long long>(shards));
  return 0;
}

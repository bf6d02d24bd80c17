// A random tiny Llama lowered to the graph IR (formats/llama_graph.h), with realistically scaled
// weights (fan-in scaled linears, norm gains near 1), and its inputs for one window: for tests of
// whole-model gradients and end-to-end tuning that need a model small enough to differentiate
// numerically.
#pragma once
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "formats/llama_checkpoint.h"
#include "formats/llama_graph.h"
#include "runtime_ref/interpreter.h"

namespace edgepack::testing {

inline tensor random_f32_tensor(std::vector<int64_t> shape, std::mt19937& rng, float spread = 1.0f) {
  tensor t = tensor::allocate(dtype::f32, std::move(shape));
  std::normal_distribution<float> normal(0.0f, spread);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data_as<float>()[i] = normal(rng);
  return t;
}

struct tiny_llama_options {
  uint32_t seed = 1;
  bool rope_interleaved = true;
  bool tied_embeddings = false;
  int64_t dim = 8, hidden = 11, layers = 2, heads = 4, kv_heads = 2, vocab = 13;
};

// dim 8, hidden 11 (odd on purpose), head_dim dim / heads, 16 positions.
inline model tiny_llama(const tiny_llama_options& o) {
  std::mt19937 rng(o.seed);
  llama_checkpoint c;
  c.config.dim = o.dim;
  c.config.hidden_dim = o.hidden;
  c.config.layers = o.layers;
  c.config.heads = o.heads;
  c.config.kv_heads = o.kv_heads;
  c.config.head_dim = o.dim / o.heads;
  c.config.vocab_size = o.vocab;
  c.config.max_seq_len = 16;
  c.config.rope_interleaved = o.rope_interleaved;
  c.config.tied_embeddings = o.tied_embeddings;
  const int64_t d = o.dim, q = o.heads * c.config.head_dim, kv = o.kv_heads * c.config.head_dim;
  const float spread = 1.0f / std::sqrt(static_cast<float>(d));
  auto near_one = [&](int64_t n) {
    tensor t = random_f32_tensor({n}, rng, 0.1f);
    for (int64_t i = 0; i < n; ++i) t.mutable_data_as<float>()[i] += 1.0f;
    return t;
  };
  c.weights["model.embed_tokens.weight"] = random_f32_tensor({o.vocab, d}, rng);
  c.weights["model.norm.weight"] = near_one(d);
  if (!o.tied_embeddings) c.weights["lm_head.weight"] = random_f32_tensor({o.vocab, d}, rng, spread);
  for (int64_t l = 0; l < o.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    c.weights[p + "input_layernorm.weight"] = near_one(d);
    c.weights[p + "post_attention_layernorm.weight"] = near_one(d);
    c.weights[p + "self_attn.q_proj.weight"] = random_f32_tensor({q, d}, rng, spread);
    c.weights[p + "self_attn.k_proj.weight"] = random_f32_tensor({kv, d}, rng, spread);
    c.weights[p + "self_attn.v_proj.weight"] = random_f32_tensor({kv, d}, rng, spread);
    c.weights[p + "self_attn.o_proj.weight"] = random_f32_tensor({d, q}, rng, spread);
    c.weights[p + "mlp.gate_proj.weight"] = random_f32_tensor({o.hidden, d}, rng, spread);
    c.weights[p + "mlp.up_proj.weight"] = random_f32_tensor({o.hidden, d}, rng, spread);
    c.weights[p + "mlp.down_proj.weight"] = random_f32_tensor({d, o.hidden}, rng, 1.0f / std::sqrt(static_cast<float>(o.hidden)));
  }
  auto m = build_llama_model(std::move(c), "test");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return std::move(m).value();
}

// One window's inputs: `ids` at positions 0.., empty KV caches.
inline tensor_map tiny_llama_inputs(const model& m, const std::vector<int64_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int64_t> positions(ids.size());
  for (int64_t i = 0; i < n; ++i) positions[static_cast<size_t>(i)] = i;
  tensor_map inputs;
  inputs["input_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, n}, std::span<const int64_t>(ids));
  inputs["position_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, n}, std::span<const int64_t>(positions));
  const llm_config& c = *m.llm;
  for (int64_t l = 0; l < c.layers; ++l) {
    inputs[llama_past_key_name(l)] = tensor::allocate(dtype::f32, {1, c.kv_heads, 0, c.head_dim});
    inputs[llama_past_value_name(l)] = tensor::allocate(dtype::f32, {1, c.kv_heads, 0, c.head_dim});
  }
  return inputs;
}

}  // namespace edgepack::testing

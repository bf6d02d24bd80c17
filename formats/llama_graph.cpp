#include "formats/llama_graph.h"

#include <cmath>
#include <set>

namespace edgepack {

std::string llama_past_key_name(int64_t layer) { return "past_key_values." + std::to_string(layer) + ".key"; }
std::string llama_past_value_name(int64_t layer) { return "past_key_values." + std::to_string(layer) + ".value"; }
std::string llama_present_key_name(int64_t layer) { return "present." + std::to_string(layer) + ".key"; }
std::string llama_present_value_name(int64_t layer) { return "present." + std::to_string(layer) + ".value"; }
std::string llama_block_output_name(int64_t layer) { return "model.layers." + std::to_string(layer) + ".mlp.residual"; }

namespace {

std::string layer_prefix(int64_t layer) { return "model.layers." + std::to_string(layer) + "."; }

std::map<std::string, std::vector<int64_t>> expected_shapes(const llm_config& c) {
  std::map<std::string, std::vector<int64_t>> shapes;
  shapes["model.embed_tokens.weight"] = {c.vocab_size, c.dim};
  shapes["model.norm.weight"] = {c.dim};
  if (!c.tied_embeddings) shapes["lm_head.weight"] = {c.vocab_size, c.dim};
  const int64_t q_dim = c.heads * c.head_dim, kv_dim = c.kv_heads * c.head_dim;
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = layer_prefix(l);
    shapes[p + "input_layernorm.weight"] = {c.dim};
    shapes[p + "post_attention_layernorm.weight"] = {c.dim};
    shapes[p + "self_attn.q_proj.weight"] = {q_dim, c.dim};
    shapes[p + "self_attn.k_proj.weight"] = {kv_dim, c.dim};
    shapes[p + "self_attn.v_proj.weight"] = {kv_dim, c.dim};
    shapes[p + "self_attn.o_proj.weight"] = {c.dim, q_dim};
    shapes[p + "mlp.gate_proj.weight"] = {c.hidden_dim, c.dim};
    shapes[p + "mlp.up_proj.weight"] = {c.hidden_dim, c.dim};
    shapes[p + "mlp.down_proj.weight"] = {c.dim, c.hidden_dim};
  }
  return shapes;
}

Status validate_config(const llm_config& c) {
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.layers <= 0 || c.heads <= 0 || c.kv_heads <= 0 || c.head_dim <= 0 || c.vocab_size <= 0)
    return bad_input("config has a non-positive size (dim, hidden, layers, heads, kv heads, head_dim, vocab)");
  if (c.heads % c.kv_heads != 0) return bad_input("num_attention_heads must be a multiple of num_key_value_heads");
  if (c.head_dim % 2 != 0) return bad_input("head_dim must be even for rotary embeddings");
  if (c.max_seq_len <= 0) return bad_input("max sequence length must be positive");
  if (!(c.norm_eps > 0) || !(c.rope_theta > 0)) return bad_input("rms_norm_eps and rope_theta must be positive");
  return Status::ok_status();
}

struct graph_builder {
  graph& g;
  int counter = 0;

  std::string add(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                  std::map<std::string, attribute_value> attributes = {}) {
    node n;
    n.name = op + "_" + std::to_string(counter++);
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    n.attributes = std::move(attributes);
    g.nodes.push_back(std::move(n));
    return output;
  }
  void constant_i64(const std::string& name, std::vector<int64_t> values) {
    g.weights[name] = tensor::from_values<int64_t>(dtype::i64, {static_cast<int64_t>(values.size())}, std::span<const int64_t>(values));
  }
};

// Rotary tables computed in float exactly as llama2.c and Hugging Face do, so logits match them.
void add_rope_tables(graph& g, const llm_config& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<float> cos_table(static_cast<size_t>(c.max_seq_len * half)), sin_table(cos_table.size());
  for (int64_t i = 0; i < half; ++i) {
    const float inv_freq = 1.0f / std::pow(static_cast<float>(c.rope_theta), static_cast<float>(2 * i) / static_cast<float>(c.head_dim));
    for (int64_t pos = 0; pos < c.max_seq_len; ++pos) {
      const float angle = static_cast<float>(pos) * inv_freq;
      cos_table[pos * half + i] = std::cos(angle);
      sin_table[pos * half + i] = std::sin(angle);
    }
  }
  g.weights["rope.cos_cache"] = tensor::from_values<float>(dtype::f32, {c.max_seq_len, half}, std::span<const float>(cos_table));
  g.weights["rope.sin_cache"] = tensor::from_values<float>(dtype::f32, {c.max_seq_len, half}, std::span<const float>(sin_table));
}

}  // namespace

Status validate_llama_checkpoint(const llama_checkpoint& checkpoint) {
  EP_RETURN_IF_ERROR(validate_config(checkpoint.config));
  const auto shapes = expected_shapes(checkpoint.config);
  for (const auto& [name, shape] : shapes) {
    auto it = checkpoint.weights.find(name);
    if (it == checkpoint.weights.end()) return bad_input("tensor '" + name + "' required by the config is missing");
    const tensor& t = it->second;
    if (t.shape != shape)
      return bad_input("tensor '" + name + "' has shape " + shape_to_string(t.shape) + ", the config needs " + shape_to_string(shape));
    if (!t.is_quantized() && !dtype_is_float(t.type))
      return bad_input("tensor '" + name + "' has dtype " + std::string(dtype_name(t.type)) + ", expected a float type (F32, F16, BF16)");
  }
  for (const auto& [name, t] : checkpoint.weights) {
    if (!shapes.count(name)) return bad_input("unexpected tensor '" + name + "' for a " + checkpoint.config.architecture + " model with this config");
  }
  return Status::ok_status();
}

Expected<model> build_llama_model(llama_checkpoint checkpoint, const std::string& format) {
  EP_RETURN_IF_ERROR(validate_llama_checkpoint(checkpoint));
  const llm_config& c = checkpoint.config;
  model m;
  m.format = format;
  m.llm = c;
  m.vocab = std::move(checkpoint.vocab);
  m.sources = std::move(checkpoint.sources);
  graph& g = m.g;
  g.weights = std::move(checkpoint.weights);
  g.opset_imports = {{"", 23}};
  add_rope_tables(g, c);
  graph_builder b{g};
  const int64_t q_dim = c.heads * c.head_dim, kv_dim = c.kv_heads * c.head_dim;
  b.constant_i64("shape.rows_dim", {-1, c.dim});
  b.constant_i64("shape.rows_q", {-1, q_dim});
  b.constant_i64("shape.batch_q", {1, -1, q_dim});
  b.constant_i64("shape.batch_kv", {1, -1, kv_dim});
  b.constant_i64("shape.batch_vocab", {1, -1, c.vocab_size});

  g.inputs.push_back({"input_ids", dtype::i64, {{1, ""}, {-1, "seq"}}});
  g.inputs.push_back({"position_ids", dtype::i64, {{1, ""}, {-1, "seq"}}});
  for (int64_t l = 0; l < c.layers; ++l) {
    g.inputs.push_back({llama_past_key_name(l), dtype::f32, {{1, ""}, {c.kv_heads, ""}, {-1, "past"}, {c.head_dim, ""}}});
    g.inputs.push_back({llama_past_value_name(l), dtype::f32, {{1, ""}, {c.kv_heads, ""}, {-1, "past"}, {c.head_dim, ""}}});
  }
  const attribute_value trans_b = int64_t{1};
  const attribute_value eps = c.norm_eps;
  std::string x = b.add("Gather", {"model.embed_tokens.weight", "input_ids"}, "embed.out");
  x = b.add("Reshape", {x, "shape.rows_dim"}, "embed.rows");
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = layer_prefix(l);
    const std::string h = b.add("RMSNormalization", {x, p + "input_layernorm.weight"}, p + "attn_norm.out", {{"epsilon", eps}, {"axis", int64_t{-1}}});
    std::string q = b.add("Gemm", {h, p + "self_attn.q_proj.weight"}, p + "q.out", {{"transB", trans_b}});
    std::string k = b.add("Gemm", {h, p + "self_attn.k_proj.weight"}, p + "k.out", {{"transB", trans_b}});
    std::string v = b.add("Gemm", {h, p + "self_attn.v_proj.weight"}, p + "v.out", {{"transB", trans_b}});
    q = b.add("Reshape", {q, "shape.batch_q"}, p + "q.batched");
    k = b.add("Reshape", {k, "shape.batch_kv"}, p + "k.batched");
    v = b.add("Reshape", {v, "shape.batch_kv"}, p + "v.batched");
    const int64_t interleaved = c.rope_interleaved ? 1 : 0;
    q = b.add("RotaryEmbedding", {q, "rope.cos_cache", "rope.sin_cache", "position_ids"}, p + "q.rotated",
              {{"interleaved", interleaved}, {"num_heads", c.heads}});
    k = b.add("RotaryEmbedding", {k, "rope.cos_cache", "rope.sin_cache", "position_ids"}, p + "k.rotated",
              {{"interleaved", interleaved}, {"num_heads", c.kv_heads}});
    node attention;
    attention.name = "Attention_" + std::to_string(l);
    attention.op_type = "Attention";
    attention.inputs = {q, k, v, "", llama_past_key_name(l), llama_past_value_name(l)};
    attention.outputs = {p + "attn.out", llama_present_key_name(l), llama_present_value_name(l)};
    attention.attributes = {{"is_causal", int64_t{1}}, {"q_num_heads", c.heads}, {"kv_num_heads", c.kv_heads}};
    g.nodes.push_back(std::move(attention));
    std::string a = b.add("Reshape", {p + "attn.out", "shape.rows_q"}, p + "attn.rows");
    a = b.add("Gemm", {a, p + "self_attn.o_proj.weight"}, p + "o.out", {{"transB", trans_b}});
    x = b.add("Add", {x, a}, p + "attn.residual");
    const std::string h2 = b.add("RMSNormalization", {x, p + "post_attention_layernorm.weight"}, p + "mlp_norm.out", {{"epsilon", eps}, {"axis", int64_t{-1}}});
    const std::string gate = b.add("Gemm", {h2, p + "mlp.gate_proj.weight"}, p + "gate.out", {{"transB", trans_b}});
    const std::string sig = b.add("Sigmoid", {gate}, p + "gate.sigmoid");
    const std::string silu = b.add("Mul", {gate, sig}, p + "gate.silu");
    const std::string up = b.add("Gemm", {h2, p + "mlp.up_proj.weight"}, p + "up.out", {{"transB", trans_b}});
    const std::string prod = b.add("Mul", {silu, up}, p + "mlp.product");
    const std::string down = b.add("Gemm", {prod, p + "mlp.down_proj.weight"}, p + "down.out", {{"transB", trans_b}});
    x = b.add("Add", {x, down}, llama_block_output_name(l));
  }
  x = b.add("RMSNormalization", {x, "model.norm.weight"}, "final_norm.out", {{"epsilon", eps}, {"axis", int64_t{-1}}});
  const std::string head = c.tied_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  x = b.add("Gemm", {x, head}, "lm_head.out", {{"transB", trans_b}});
  b.add("Reshape", {x, "shape.batch_vocab"}, "logits");
  g.outputs.push_back({"logits", dtype::f32, {{1, ""}, {-1, "seq"}, {c.vocab_size, ""}}});
  for (int64_t l = 0; l < c.layers; ++l) {
    g.outputs.push_back({llama_present_key_name(l), dtype::f32, {{1, ""}, {c.kv_heads, ""}, {-1, "total"}, {c.head_dim, ""}}});
    g.outputs.push_back({llama_present_value_name(l), dtype::f32, {{1, ""}, {c.kv_heads, ""}, {-1, "total"}, {c.head_dim, ""}}});
  }
  EP_RETURN_IF_ERROR(g.validate());
  return m;
}

}  // namespace edgepack

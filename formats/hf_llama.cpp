#include "formats/hf_llama.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/safetensors.h"

namespace edgepack {

namespace {

using json = nlohmann::json;

Expected<int64_t> required_int(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return bad_input(std::string("missing required field '") + key + "'");
  if (!it->is_number_integer()) return bad_input(std::string("field '") + key + "' must be an integer");
  return it->get<int64_t>();
}

Expected<int64_t> optional_int(const json& config, const char* key, int64_t fallback) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (it->is_array() && !it->empty() && it->front().is_number_integer()) return it->front().get<int64_t>();  // eos lists: first id
  if (!it->is_number_integer()) return bad_input(std::string("field '") + key + "' must be an integer");
  return it->get<int64_t>();
}

Expected<double> optional_number(const json& config, const char* key, double fallback) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number()) return bad_input(std::string("field '") + key + "' must be a number");
  return it->get<double>();
}

Expected<bool> optional_bool(const json& config, const char* key, bool fallback) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return bad_input(std::string("field '") + key + "' must be true or false");
  return it->get<bool>();
}

Status reject_unsupported(const json& config) {
  const std::string type = config.value("model_type", "");
  if (type != "llama") return bad_input("model_type '" + type + "' is not supported (supported: llama)");
  if (auto it = config.find("rope_scaling"); it != config.end() && !it->is_null()) {
    const std::string kind = it->is_object() ? it->value("rope_type", it->value("type", std::string("?"))) : "?";
    return bad_input("rope_scaling type '" + kind + "' is not supported; only plain RoPE (rope_scaling: null) is implemented");
  }
  const std::string act = config.value("hidden_act", "silu");
  if (act != "silu") return bad_input("hidden_act '" + act + "' is not supported (supported: silu)");
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    auto it = config.find(key);
    if (it != config.end() && it->is_boolean() && it->get<bool>()) return bad_input(std::string(key) + " = true is not supported");
  }
  if (auto it = config.find("pretraining_tp"); it != config.end() && it->is_number_integer() && it->get<int64_t>() > 1)
    return bad_input("pretraining_tp > 1 is not supported");
  return Status::ok_status();
}

Expected<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad_input(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (16u << 20)) return bad_input(path + ": larger than 16 MiB, not a config file");
  return ss.str();
}

}  // namespace

Expected<llm_config> parse_hf_llama_config(const std::string& json_text, const std::string& display_name) {
  json config;
  try {
    config = json::parse(json_text);
  } catch (const json::exception& e) {
    return bad_input(display_name + ": not valid JSON: " + e.what());
  }
  if (!config.is_object()) return bad_input(display_name + ": expected a JSON object");
  auto parse = [&]() -> Expected<llm_config> {
    EP_RETURN_IF_ERROR(reject_unsupported(config));
    llm_config c;
    c.architecture = "llama";
    EP_ASSIGN_OR_RETURN(c.dim, required_int(config, "hidden_size"));
    EP_ASSIGN_OR_RETURN(c.hidden_dim, required_int(config, "intermediate_size"));
    EP_ASSIGN_OR_RETURN(c.layers, required_int(config, "num_hidden_layers"));
    EP_ASSIGN_OR_RETURN(c.heads, required_int(config, "num_attention_heads"));
    EP_ASSIGN_OR_RETURN(c.kv_heads, optional_int(config, "num_key_value_heads", c.heads));
    EP_ASSIGN_OR_RETURN(c.vocab_size, required_int(config, "vocab_size"));
    if (c.heads <= 0 || c.dim <= 0) return bad_input("hidden_size and num_attention_heads must be positive");
    EP_ASSIGN_OR_RETURN(c.head_dim, optional_int(config, "head_dim", c.dim / c.heads));
    if (!config.contains("head_dim") && c.dim % c.heads != 0) return bad_input("hidden_size is not a multiple of num_attention_heads and head_dim is not given");
    EP_ASSIGN_OR_RETURN(c.max_seq_len, optional_int(config, "max_position_embeddings", 2048));
    EP_ASSIGN_OR_RETURN(c.norm_eps, optional_number(config, "rms_norm_eps", 1e-6));
    EP_ASSIGN_OR_RETURN(c.rope_theta, optional_number(config, "rope_theta", 10000.0));
    EP_ASSIGN_OR_RETURN(c.tied_embeddings, optional_bool(config, "tie_word_embeddings", false));
    EP_ASSIGN_OR_RETURN(c.bos_id, optional_int(config, "bos_token_id", 1));
    EP_ASSIGN_OR_RETURN(c.eos_id, optional_int(config, "eos_token_id", 2));
    c.rope_interleaved = false;  // Hugging Face Llama uses rotate_half
    const int64_t cap = int64_t{1} << 24;
    for (int64_t v : {c.dim, c.hidden_dim, c.layers, c.heads, c.kv_heads, c.head_dim, c.vocab_size, c.max_seq_len})
      if (v <= 0 || v > cap) return bad_input("a size field is outside (0, 2^24]");
    if (c.heads % c.kv_heads != 0) return bad_input("num_attention_heads must be a multiple of num_key_value_heads");
    return c;
  };
  auto result = parse();
  if (!result.ok()) return result.status().with_context(display_name);
  return result;
}

Expected<llama_checkpoint> read_hf_llama_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string config_path = (fs::path(dir) / "config.json").string();
  EP_ASSIGN_OR_RETURN(std::string config_text, read_text(config_path));
  llama_checkpoint checkpoint;
  EP_ASSIGN_OR_RETURN(checkpoint.config, parse_hf_llama_config(config_text, config_path));
  checkpoint.sources.push_back({config_path, "", config_text.size()});

  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(index)) {
    EP_ASSIGN_OR_RETURN(auto set, read_safetensors_index(index.string()));
    checkpoint.weights = std::move(set.tensors);
    for (const auto& file : set.files) checkpoint.sources.push_back({file, "", static_cast<uint64_t>(fs::file_size(file))});
  } else if (fs::exists(single)) {
    EP_ASSIGN_OR_RETURN(auto file, read_safetensors(single.string()));
    checkpoint.weights = std::move(file.tensors);
    checkpoint.sources.push_back({single.string(), "", static_cast<uint64_t>(fs::file_size(single))});
  } else {
    return bad_input(dir + ": no model.safetensors or model.safetensors.index.json");
  }
  // Some exports carry the rotary inverse frequencies as a buffer; they are derived from rope_theta.
  std::erase_if(checkpoint.weights, [](const auto& entry) { return entry.first.ends_with(".rotary_emb.inv_freq"); });
  if (checkpoint.config.tied_embeddings) checkpoint.weights.erase("lm_head.weight");
  return checkpoint;
}

}  // namespace edgepack

#include "runtime_ref/llm_session.h"

#include <cstring>
#include <numeric>
#include <optional>
#include <set>

#include "formats/llama_graph.h"

namespace edgepack {

static tensor empty_cache(const llm_config& c) { return tensor::allocate(dtype::f32, {1, c.kv_heads, 0, c.head_dim}); }

Expected<llm_session> llm_session::create(const model& m) { return create(m, {}); }

Expected<llm_session> llm_session::create(const model& m, const std::vector<std::string>& extra_outputs) {
  if (!m.llm) return bad_input("model is not a decoder-only language model (no LLM config)");
  std::optional<graph> extended;
  if (!extra_outputs.empty()) {
    extended = m.g;  // weights share their storage: this copies names and shapes only
    std::set<std::string> produced;
    for (const auto& n : m.g.nodes) produced.insert(n.outputs.begin(), n.outputs.end());
    for (const auto& name : extra_outputs) {
      if (!produced.count(name)) return bad_input("the graph has no value '" + name + "' (hidden states need a graph lowered by edgepack from a Llama checkpoint)");
      extended->outputs.push_back({name, dtype::f32, {}});
    }
  }
  EP_ASSIGN_OR_RETURN(interpreter interp, interpreter::create(extended ? *extended : m.g));
  llm_session session;
  session.interpreter_ = std::make_shared<const interpreter>(std::move(interp));
  session.config_ = *m.llm;
  session.extra_outputs_ = extra_outputs;
  session.reset();
  return session;
}

void llm_session::reset() {
  position_ = 0;
  past_keys_.assign(static_cast<size_t>(config_.layers), empty_cache(config_));
  past_values_.assign(static_cast<size_t>(config_.layers), empty_cache(config_));
}

Expected<std::vector<float>> llm_session::forward(std::span<const int64_t> tokens, tensor_map* extras) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return std::vector<float>{};
  if (position_ + n > config_.max_seq_len)
    return bad_usage("sequence of " + std::to_string(position_ + n) + " tokens exceeds the model's context of " + std::to_string(config_.max_seq_len));
  for (int64_t t : tokens)
    if (t < 0 || t >= config_.vocab_size) return bad_input("token id " + std::to_string(t) + " outside the vocabulary");
  tensor_map inputs;
  inputs["input_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, n}, tokens);
  std::vector<int64_t> positions(static_cast<size_t>(n));
  std::iota(positions.begin(), positions.end(), position_);
  inputs["position_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, n}, std::span<const int64_t>(positions));
  for (int64_t l = 0; l < config_.layers; ++l) {
    inputs[llama_past_key_name(l)] = past_keys_[l];
    inputs[llama_past_value_name(l)] = past_values_[l];
  }
  EP_ASSIGN_OR_RETURN(tensor_map outputs, interpreter_->run(inputs));
  for (int64_t l = 0; l < config_.layers; ++l) {
    past_keys_[l] = outputs.at(llama_present_key_name(l));
    past_values_[l] = outputs.at(llama_present_value_name(l));
  }
  position_ += n;
  if (extras != nullptr) {
    extras->clear();
    for (const auto& name : extra_outputs_) (*extras)[name] = outputs.at(name);
  }
  const tensor& logits = outputs.at("logits");
  return std::vector<float>(logits.data_as<float>(), logits.data_as<float>() + logits.numel());
}

Status fill_llm_default_inputs(const model& m, tensor_map& inputs) {
  if (!m.llm) return Status::ok_status();
  auto ids = inputs.find("input_ids");
  if (ids == inputs.end()) return bad_usage("the model needs input 'input_ids' (int64 [1, seq])");
  if (ids->second.type != dtype::i64 || ids->second.shape.size() != 2 || ids->second.shape[0] != 1)
    return bad_input("input 'input_ids' must be int64 [1, seq], got " + std::string(dtype_name(ids->second.type)) + " " + shape_to_string(ids->second.shape));
  const llm_config& c = *m.llm;
  const int64_t seq = ids->second.shape[1];
  if (!inputs.count("position_ids")) {
    std::vector<int64_t> positions(static_cast<size_t>(seq));
    std::iota(positions.begin(), positions.end(), 0);
    inputs["position_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, seq}, std::span<const int64_t>(positions));
  }
  for (int64_t l = 0; l < c.layers; ++l) {
    if (!inputs.count(llama_past_key_name(l))) inputs[llama_past_key_name(l)] = empty_cache(c);
    if (!inputs.count(llama_past_value_name(l))) inputs[llama_past_value_name(l)] = empty_cache(c);
  }
  return Status::ok_status();
}

}  // namespace edgepack

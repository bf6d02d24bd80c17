// Drives a lowered decoder-only model: full-sequence forward and incremental decoding with a
// KV cache (the graph's past/present inputs and outputs), plus default inputs for `run --input`.
#pragma once
#include <span>
#include <vector>

#include "core/model.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {

class llm_session {
 public:
  static Expected<llm_session> create(const model& m);
  // Also returns the named intermediate values of the graph from every forward (e.g. the residual
  // stream after a block, llama_block_output_name): they become extra graph outputs, so the
  // interpreter keeps them instead of freeing them. A name no node produces is bad_input.
  static Expected<llm_session> create(const model& m, const std::vector<std::string>& extra_outputs);

  // Feeds `tokens` at the current position and returns their logits, row-major [tokens, vocab].
  // Positions continue from earlier calls until reset(); the KV cache grows accordingly.
  // With `extras`, it receives the extra outputs named at create() for these tokens.
  Expected<std::vector<float>> forward(std::span<const int64_t> tokens, tensor_map* extras = nullptr);
  void reset();
  int64_t position() const { return position_; }
  const llm_config& config() const { return config_; }

 private:
  std::shared_ptr<const interpreter> interpreter_;
  llm_config config_;
  std::vector<std::string> extra_outputs_;
  std::vector<tensor> past_keys_, past_values_;
  int64_t position_ = 0;
};

// For an LLM graph, adds whatever of position_ids and past_key_values.* the caller left out:
// positions 0..seq-1 and an empty cache, i.e. a fresh full-sequence forward.
Status fill_llm_default_inputs(const model& m, tensor_map& inputs);

}  // namespace edgepack

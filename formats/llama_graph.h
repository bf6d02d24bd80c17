// Lowers a Llama-family checkpoint into the graph IR with standard ONNX ops (opset 23):
// Gather → per layer [RMSNormalization → Gemm q/k/v → RotaryEmbedding → Attention (GQA, causal,
// past/present KV) → Gemm o → Add; RMSNormalization → Gemm gate/up → SiLU·up → Gemm down → Add]
// → RMSNormalization → Gemm lm_head. Linear weights stay [out, in] and feed Gemm with transB = 1,
// so quantization groups run along the contiguous input dimension.
//
// Graph inputs:  input_ids int64 [1, seq]; position_ids int64 [1, seq];
//                past_key_values.N.key / .value float [1, kv_heads, past, head_dim]
// Graph outputs: logits float [1, seq, vocab]; present.N.key / .value float [1, kv_heads, past+seq, head_dim]
#pragma once
#include <string>

#include "core/model.h"
#include "formats/llama_checkpoint.h"

namespace edgepack {

// Checks every tensor the config needs is present with the right shape and a float dtype,
// and that no unexpected tensor is left over. Errors name the tensor and the expected shape.
Status validate_llama_checkpoint(const llama_checkpoint& checkpoint);

Expected<model> build_llama_model(llama_checkpoint checkpoint, const std::string& format);

// Names used by the lowering, shared with the LLM session and passes.
std::string llama_past_key_name(int64_t layer);
std::string llama_past_value_name(int64_t layer);
std::string llama_present_key_name(int64_t layer);
std::string llama_present_value_name(int64_t layer);
// The residual stream after transformer block `layer` (0-based): the value distill-targets stores
// as that layer's hidden state.
std::string llama_block_output_name(int64_t layer);

}  // namespace edgepack

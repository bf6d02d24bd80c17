// What every Llama-family reader (llama2.c .bin, Hugging Face directory, ...) produces before
// the checkpoint is lowered into the graph IR by build_llama_model().
//
// Weight names are the Hugging Face ones, whatever the source, so passes and docs see one naming:
//   model.embed_tokens.weight                         [vocab, dim]
//   model.layers.N.input_layernorm.weight             [dim]
//   model.layers.N.self_attn.{q,k,v,o}_proj.weight    [out, in]  (q: [heads*head_dim, dim], k/v: [kv_heads*head_dim, dim])
//   model.layers.N.post_attention_layernorm.weight    [dim]
//   model.layers.N.mlp.{gate,up}_proj.weight          [hidden, dim]
//   model.layers.N.mlp.down_proj.weight               [dim, hidden]
//   model.norm.weight                                 [dim]
//   lm_head.weight                                    [vocab, dim]   (absent when tied to the embedding)
// Linear weights are [out, in], row-major. Tensors may be f32, f16 or bf16 and may view mmapped files.
#pragma once
#include <map>
#include <string>

#include "core/model.h"
#include "core/tensor.h"

namespace edgepack {

struct llama_checkpoint {
  llm_config config;
  std::map<std::string, tensor> weights;
  vocabulary vocab;  // may be empty (HF directories without a tokenizer we can read)
  std::vector<source_file> sources;
};

}  // namespace edgepack

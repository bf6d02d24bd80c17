// Hugging Face Llama-family checkpoint directory: config.json + model.safetensors or a sharded
// model.safetensors.index.json. Reads config fields strictly: anything that would change the
// math and that we do not implement (rope_scaling, biases, other activations) is an error, never
// silently wrong numbers.
#pragma once
#include <string>

#include "formats/llama_checkpoint.h"

namespace edgepack {

Expected<llm_config> parse_hf_llama_config(const std::string& json_text, const std::string& display_name);
Expected<llama_checkpoint> read_hf_llama_dir(const std::string& dir);

}  // namespace edgepack

// A model: the graph plus what the tools need to use it (LLM shape facts, tokenizer, provenance).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/graph.h"

namespace edgepack {

// Facts about a decoder-only transformer lowered into the graph. The graph alone is enough to run
// it; these let tools drive incremental decoding and explain the model.
struct llm_config {
  std::string architecture = "llama";
  int64_t dim = 0;
  int64_t hidden_dim = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_seq_len = 0;
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  bool rope_interleaved = false;  // llama2.c pairs (0,1),(2,3); HF rotate_half pairs (i, i+d/2)
  bool tied_embeddings = false;
  int64_t bos_id = 1;
  int64_t eos_id = 2;
};

// SentencePiece-style BPE vocabulary as llama2.c stores it: pieces with merge scores.
struct vocabulary {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  int64_t bos_id = 1;
  int64_t eos_id = 2;
  bool empty() const { return pieces.empty(); }
};

struct source_file {
  std::string path;    // as given on the command line
  std::string sha256;  // hex
  uint64_t bytes = 0;
};

struct model {
  std::string format;  // where it came from: "llama2c", "hf", "safetensors", "epk", "onnx"
  graph g;
  std::optional<llm_config> llm;
  vocabulary vocab;
  std::vector<source_file> sources;
};

}  // namespace edgepack

// Distillation targets (docs/distill.md): run a teacher language model over token windows and keep
// what a student needs to train with knowledge distillation, without the teacher: the token ids,
// the teacher's temperature-scaled log-probabilities (top-K values + indices, or the full row),
// and optionally the residual stream after chosen transformer blocks.
//
// Per position p of a window, log_p = log_softmax(logits[p] / T) in double. Top-K keeps the K
// largest log_p, sorted by value descending with ties broken by the lower token id, stored as f32
// values and i32 token ids. Hidden states are the value llama_block_output_name(layer), [seq, dim].
//
// Tensors per shard of n samples (the layout of distill_layout):
//   token_ids              i64 [n, seq]
//   teacher_topk_logprobs  f32 [n, seq, K]   (top-K mode)   | teacher_logprobs f32 [n, seq, vocab] (full)
//   teacher_topk_indices   i32 [n, seq, K]   (top-K mode)
//   teacher_hidden.<L>     f32|f16 [n, seq, dim] for every requested block L
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/model.h"
#include "passes/distill_shards.h"

namespace edgepack {

inline constexpr const char* distill_token_ids = "token_ids";
inline constexpr const char* distill_topk_logprobs = "teacher_topk_logprobs";
inline constexpr const char* distill_topk_indices = "teacher_topk_indices";
inline constexpr const char* distill_full_logprobs = "teacher_logprobs";
std::string distill_hidden_name(int64_t layer);  // "teacher_hidden.<layer>"

// What the targets are; recorded in the manifest and enough to derive every tensor's shape.
struct distill_spec {
  int64_t seq = 0;
  int64_t vocab_size = 0;
  int64_t dim = 0;
  int64_t top_k = 64;  // 0: full log-probs
  double temperature = 1.0;
  std::vector<int64_t> hidden_layers;  // ascending, distinct
  dtype hidden_type = dtype::f32;      // f32 or f16
};

shard_layout distill_layout(const distill_spec& spec);
// bad_usage when K is negative or above the vocabulary, T is not a positive finite number, a
// hidden layer is outside [0, layers) or repeated, or the hidden dtype is not f32/f16.
Status check_distill_spec(const distill_spec& spec, const llm_config& teacher);

struct distill_target_options {
  distill_spec spec;                      // seq, vocab_size and dim are filled in from the teacher/windows
  uint64_t shard_bytes = uint64_t{256} << 20;  // largest shard file
  std::map<std::string, std::string> shard_metadata;  // added to every shard's __metadata__
  std::function<void(int64_t done, int64_t total)> progress;
};

struct distill_targets_written {
  distill_spec spec;
  nlohmann::json shards;  // shard_writer::shards()
  uint64_t bytes = 0;     // all shard files
};

// Writes the shards of `windows` (all of one length, BOS first) into `dir`.
Expected<distill_targets_written> write_distill_targets(const model& teacher, const std::vector<std::vector<int64_t>>& windows,
                                                        const distill_target_options& options, const std::string& dir);

// The K largest entries of `log_probs` (ties: lower index first), descending.
void select_top_k(std::span<const double> log_probs, std::span<float> values, std::span<int32_t> indices);

// sha256 of the vocabulary's content (pieces, scores, BOS/EOS ids; docs/distill.md), so a model
// whose tokenizer came from a file and one that embeds it (.epk) compare equal.
std::string vocabulary_sha256(const vocabulary& vocab);

}  // namespace edgepack

// llama2.c legacy checkpoint (.bin, "version 0"), as written by Karpathy's export.py --version 0.
//
// Layout, all little-endian:
//   7 × int32 header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//     vocab_size > 0: the classifier is the token embedding (tied); < 0: a separate classifier
//     follows at the end and the vocabulary has |vocab_size| entries.
//   float32 arrays, back to back (kv_dim = dim * n_kv_heads / n_heads, head_size = dim / n_heads):
//     token_embedding [vocab, dim]      rms_att [layers, dim]
//     wq [layers, dim, dim]             wk [layers, kv_dim, dim]     wv [layers, kv_dim, dim]
//     wo [layers, dim, dim]             rms_ffn [layers, dim]
//     w1 [layers, hidden, dim]          w2 [layers, dim, hidden]     w3 [layers, hidden, dim]
//     rms_final [dim]                   freq_cis_real, freq_cis_imag [seq_len, head_size / 2] each
//     wcls [vocab, dim]                 (only when not tied)
//
// Weights come out under the Hugging Face names of formats/llama_checkpoint.h (w1 → gate_proj,
// w3 → up_proj, w2 → down_proj). q/k rows stay in llama2.c order, which rotates adjacent pairs, so
// the config says rope_interleaved = true (HF exports permute those rows and use rotate_half).
// The legacy RoPE tables are validated for size and skipped: the graph computes RoPE itself.
// The tokenizer lives in a separate file (calibration/tokenizer.h); the returned vocab is empty.
//
// Bytes are hostile (DESIGN.md §4.4): every header field is checked and capped, sizes are computed
// with overflow checks, and the file must be exactly as long as the header implies. Every error is
// bad_input and its message starts with the path. Tensors are zero-copy views into the mapping.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/storage.h"
#include "formats/llama_checkpoint.h"

namespace edgepack {

inline constexpr int64_t llama2c_header_bytes = 7 * 4;
// Largest value accepted for any header field (|vocab_size| included): far above real models,
// low enough that no product of two fields overflows before the checked total catches it.
inline constexpr int64_t llama2c_max_dim = int64_t{1} << 20;

// Maps the file read-only; the checkpoint's tensors view the mapping.
Expected<llama_checkpoint> read_llama2c(const std::string& path);
// Same validation over bytes already in memory (the fuzz entry); display_name prefixes messages
// and is recorded as the source path. The bytes must be 4-byte aligned (storage allocations are).
Expected<llama_checkpoint> read_llama2c_from_memory(std::shared_ptr<const storage> bytes, const std::string& display_name);

}  // namespace edgepack

// The llama2.c / SentencePiece-BPE tokenizer: the vocabulary file reader and encode/decode.
//
// File (tok512.bin, tokenizer.bin): int32 max_token_length, then vocab_size entries of
// {float32 score, int32 len, len bytes}; little-endian. The entry count is not in the file: it is
// the model's vocab_size. Real files never hold a piece longer than max_token_length (llama2.c
// sizes its merge buffer from it), so a longer piece is rejected as corruption, as are negative
// lengths, lengths above 2^16, NaN scores, truncation and trailing bytes. Errors are bad_input,
// start with the path and name the token index.
//
// encode() reproduces llama2.c's encoder exactly (ids match llama.cpp's SPM tokenizer on
// stories260K, see tests/calibration/tokenizer_test.cpp):
//   1. optional BOS; then, if the text is not empty, the dummy-prefix token for the piece " ";
//   2. the text is cut into UTF-8 codepoints (a lead byte plus up to 3 continuation bytes); each is
//      looked up as a piece; if absent, each of its bytes becomes its byte-fallback id byte + 3
//      (the pieces "<0x00>".."<0xFF>" at ids 3..258);
//   3. repeatedly, the adjacent pair whose concatenation is a piece with the highest score is
//      merged (the leftmost pair among equal scores; a score must exceed -1e10, llama2.c's
//      starting best), until no pair merges; BOS takes part in the merging, as in llama2.c;
//   4. optional EOS.
// Invalid UTF-8 is not an error: its bytes simply take the byte-fallback path, as in llama2.c.
// Callers that must reject it check is_valid_utf8() first.
// Deviations where llama2.c itself would misbehave: the text may contain NUL bytes (encoded like any
// other byte; llama2.c stops at the first); when " " is not a piece, the dummy prefix uses its
// byte fallback (llama2.c would emit id -1); in a vocabulary with fewer than 259 pieces a byte with
// no fallback piece becomes id 0 (<unk>); duplicate pieces resolve to the lowest id.
//
// Step 3 runs in O(n log n) with a priority queue over adjacent pairs and a linked list of tokens,
// ordered by (score, then position) exactly like llama2.c's O(n²) rescan, so results are identical.
#pragma once
#include "core/utf8.h"  // is_valid_utf8: callers that must reject invalid text check it first
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/model.h"
#include "core/status.h"

namespace edgepack {

// Caps for hostile files: far above real vocabularies (32,000 pieces of at most a few dozen bytes).
inline constexpr int64_t llama2c_tokenizer_max_vocab = int64_t{1} << 24;
inline constexpr int64_t llama2c_tokenizer_max_piece_bytes = int64_t{1} << 16;

Expected<vocabulary> read_llama2c_tokenizer(const std::string& path, int64_t vocab_size);
// Same validation over bytes in memory (the fuzz entry); display_name prefixes messages.
Expected<vocabulary> read_llama2c_tokenizer_from_memory(std::span<const std::byte> bytes, int64_t vocab_size,
                                                        const std::string& display_name);

// Strict UTF-8 (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF).
// formats/json_fields.h declares the same function with the same contract; the definition here is
// weak so a binary holding both keeps exactly one. (Both belong in core/; see the commit message.)


class tokenizer {
 public:
  explicit tokenizer(const vocabulary& vocab);

  std::vector<int64_t> encode(std::string_view text, bool add_bos, bool add_eos) const;
  // One piece as llama2.c prints it: after BOS a leading space is dropped; "<0xNN>" is the raw
  // byte NN. Ids outside the vocabulary decode to "".
  std::string decode_piece(int64_t prev_token, int64_t token) const;
  // Concatenated pieces; BOS and EOS produce no text (BOS still drops the next piece's leading
  // space), so decode(encode(text, true, x)) == text.
  std::string decode(std::span<const int64_t> ids) const;

  int64_t size() const { return static_cast<int64_t>(pieces_.size()); }
  int64_t bos_id() const { return bos_id_; }
  int64_t eos_id() const { return eos_id_; }
  // The piece of an id, "" when out of range.
  std::string_view piece(int64_t id) const;
  // Id of a piece, -1 when absent.
  int64_t find(std::string_view piece) const;

 private:
  // Heterogeneous lookup: find(string_view) without building a std::string per query.
  struct piece_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Ids of the initial pieces of `text` (steps 1-2), before merging.
  std::vector<int64_t> initial_ids(std::string_view text, bool add_bos) const;
  void merge_pairs(std::vector<int64_t>& ids) const;
  int64_t byte_fallback(unsigned char byte) const;
  float score(int64_t id) const;

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int64_t, piece_hash, std::equal_to<>> ids_;
  int64_t bos_id_ = 1;
  int64_t eos_id_ = 2;
};

}  // namespace edgepack

#include "calibration/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <queue>

#include "core/storage.h"

namespace edgepack {
namespace {

uint32_t read_u32_le(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint32_t>(p[i]);
  return v;
}

float read_f32_le(const std::byte* p) {
  const uint32_t bits = read_u32_le(p);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

Expected<vocabulary> parse_vocab(std::span<const std::byte> bytes, int64_t vocab_size) {
  if (vocab_size <= 0 || vocab_size > llama2c_tokenizer_max_vocab)
    return bad_input("vocab_size " + std::to_string(vocab_size) + " is outside [1, " + std::to_string(llama2c_tokenizer_max_vocab) + "]");
  const size_t size = bytes.size();
  if (size < 4) return bad_input("file is " + std::to_string(size) + " bytes, too short for the 4-byte max_token_length header");
  const int64_t max_len = static_cast<int32_t>(read_u32_le(bytes.data()));
  if (max_len < 0 || max_len > llama2c_tokenizer_max_piece_bytes)
    return bad_input("max_token_length " + std::to_string(max_len) + " is outside [0, " + std::to_string(llama2c_tokenizer_max_piece_bytes) + "]");

  vocabulary vocab;
  // Every entry takes at least 8 bytes, so a hostile vocab_size cannot make us reserve more than the file can hold.
  const size_t can_hold = (size - 4) / 8;
  vocab.pieces.reserve(std::min(static_cast<size_t>(vocab_size), can_hold));
  vocab.scores.reserve(std::min(static_cast<size_t>(vocab_size), can_hold));
  size_t offset = 4;
  for (int64_t i = 0; i < vocab_size; ++i) {
    const std::string token = "token " + std::to_string(i) + " of " + std::to_string(vocab_size);
    if (size - offset < 8)
      return bad_input(token + ": truncated: its score and length need 8 bytes at offset " + std::to_string(offset) + " but the file is " +
                       std::to_string(size) + " bytes");
    const float score = read_f32_le(bytes.data() + offset);
    const int64_t len = static_cast<int32_t>(read_u32_le(bytes.data() + offset + 4));
    offset += 8;
    if (std::isnan(score)) return bad_input(token + ": score is NaN");
    if (len < 0) return bad_input(token + ": negative length " + std::to_string(len));
    if (len > max_len)
      return bad_input(token + ": length " + std::to_string(len) + " exceeds the file's max_token_length " + std::to_string(max_len));
    if (size - offset < static_cast<size_t>(len))
      return bad_input(token + ": truncated: its " + std::to_string(len) + "-byte piece starts at offset " + std::to_string(offset) +
                       " but the file is " + std::to_string(size) + " bytes");
    vocab.pieces.emplace_back(reinterpret_cast<const char*>(bytes.data() + offset), static_cast<size_t>(len));
    vocab.scores.push_back(score);
    offset += static_cast<size_t>(len);
  }
  if (offset != size)
    return bad_input(std::to_string(size - offset) + " trailing bytes after " + std::to_string(vocab_size) +
                     " tokens (does vocab_size match the model?)");
  return vocab;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Heap entries are one integer each, (score, position) packed so that a larger key is the merge
// llama2.c's rescan would pick: higher score first, then the leftmost pair. Node indices never
// reorder (a merge keeps the left node), so the lowest index is llama2.c's first pair scanning left
// to right. A small key keeps the heap cache-friendly; entries are not removed when a node changes —
// a popped key is re-checked against the pair now at its position instead.
using merge_key = unsigned __int128;

// Order-preserving map of a float to an unsigned integer (no NaN gets here: see no_merge_score).
// -0.0 and 0.0 compare equal in llama2.c, so they must map to the same key.
uint32_t score_bits(float score) {
  if (score == 0.0f) score = 0.0f;
  uint32_t bits;
  std::memcpy(&bits, &score, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

merge_key make_key(float score, size_t left) { return (merge_key{score_bits(score)} << 64) | (~uint64_t{0} - left); }
size_t key_left(merge_key key) { return static_cast<size_t>(~uint64_t{0} - static_cast<uint64_t>(key)); }
uint32_t key_score(merge_key key) { return static_cast<uint32_t>(key >> 64); }

// llama2.c starts its search for the best merge at this score; pieces scored at or below it never merge.
constexpr float no_merge_score = -1e10f;
constexpr size_t none = std::numeric_limits<size_t>::max();

}  // namespace

Expected<vocabulary> read_llama2c_tokenizer_from_memory(std::span<const std::byte> bytes, int64_t vocab_size,
                                                        const std::string& display_name) {
  auto result = parse_vocab(bytes, vocab_size);
  if (!result.ok()) return result.status().with_context(display_name);
  return result;
}

Expected<vocabulary> read_llama2c_tokenizer(const std::string& path, int64_t vocab_size) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> file, mapped_file::open(path));
  return read_llama2c_tokenizer_from_memory(std::span<const std::byte>(file->data(), file->size()), vocab_size, path);
}

tokenizer::tokenizer(const vocabulary& vocab) : pieces_(vocab.pieces), scores_(vocab.scores), bos_id_(vocab.bos_id), eos_id_(vocab.eos_id) {
  scores_.resize(pieces_.size(), 0.0f);
  ids_.reserve(pieces_.size());
  for (size_t i = 0; i < pieces_.size(); ++i) ids_.emplace(pieces_[i], static_cast<int64_t>(i));  // first id wins
}

std::string_view tokenizer::piece(int64_t id) const {
  if (id < 0 || id >= size()) return {};
  return pieces_[static_cast<size_t>(id)];
}

int64_t tokenizer::find(std::string_view piece) const {
  const auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

float tokenizer::score(int64_t id) const { return id >= 0 && id < size() ? scores_[static_cast<size_t>(id)] : no_merge_score; }

int64_t tokenizer::byte_fallback(unsigned char byte) const {
  const int64_t id = int64_t{byte} + 3;
  return id < size() ? id : 0;
}

std::vector<int64_t> tokenizer::initial_ids(std::string_view text, bool add_bos) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size() + 2);
  if (add_bos) ids.push_back(bos_id_);
  if (!text.empty()) {
    const int64_t space = find(" ");
    ids.push_back(space >= 0 ? space : byte_fallback(' '));
  }
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  for (size_t i = 0; i < text.size();) {
    // A group is one byte plus the continuation bytes after it, at most 4 in all (llama2.c's rule,
    // which also decides how invalid sequences are cut).
    size_t len = 1;
    while (i + len < text.size() && len < 4 && (byte(i + len) & 0xC0) == 0x80) ++len;
    const int64_t id = find(text.substr(i, len));
    if (id >= 0) {
      ids.push_back(id);
    } else {
      for (size_t k = 0; k < len; ++k) ids.push_back(byte_fallback(byte(i + k)));
    }
    i += len;
  }
  return ids;
}

void tokenizer::merge_pairs(std::vector<int64_t>& ids) const {
  const size_t n = ids.size();
  if (n < 2) return;
  std::vector<size_t> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? none : i - 1;
    next[i] = i + 1 == n ? none : i + 1;
  }
  std::string joined;
  // Id of the piece that merging `left` with its right neighbour makes, or -1 when it cannot merge.
  const auto merged_id = [&](size_t left) -> int64_t {
    if (next[left] == none) return -1;
    joined.assign(piece(ids[left]));
    joined.append(piece(ids[next[left]]));
    const int64_t id = find(joined);
    return id >= 0 && score(id) > no_merge_score ? id : -1;
  };
  std::vector<merge_key> keys;
  keys.reserve(n);
  for (size_t i = 0; i + 1 < n; ++i)
    if (const int64_t id = merged_id(i); id >= 0) keys.push_back(make_key(score(id), i));
  std::priority_queue<merge_key> heap(std::less<merge_key>{}, std::move(keys));  // O(n) heapify

  // Invariant: every adjacent pair that can merge has its current key in the heap (plus stale keys).
  // The top key therefore belongs to the best current pair, unless it is stale: then the pair now at
  // its position scores differently (or is gone) and the key is dropped. A stale key whose position
  // now holds a pair of the same score names a current pair with exactly that key, so merging it is
  // the right choice too.
  while (!heap.empty()) {
    const merge_key key = heap.top();
    heap.pop();
    const size_t left = key_left(key);
    if (prev[left] == left) continue;  // node removed
    const int64_t id = merged_id(left);
    if (id < 0 || score_bits(score(id)) != key_score(key)) continue;
    const size_t right = next[left];
    ids[left] = id;
    next[left] = next[right];
    if (next[left] != none) prev[next[left]] = left;
    prev[right] = right;  // marks the node removed (no live node is its own predecessor)
    if (prev[left] != none)
      if (const int64_t m = merged_id(prev[left]); m >= 0) heap.push(make_key(score(m), prev[left]));
    if (const int64_t m = merged_id(left); m >= 0) heap.push(make_key(score(m), left));
  }
  // Node 0 is never removed (merges keep the left node), so the list starts there.
  size_t out = 0;
  for (size_t i = 0; i != none; i = next[i]) ids[out++] = ids[i];
  ids.resize(out);
}

std::vector<int64_t> tokenizer::encode(std::string_view text, bool add_bos, bool add_eos) const {
  std::vector<int64_t> ids = initial_ids(text, add_bos);
  merge_pairs(ids);
  if (add_eos) ids.push_back(eos_id_);
  return ids;
}

std::string tokenizer::decode_piece(int64_t prev_token, int64_t token) const {
  std::string_view p = piece(token);
  if (prev_token == bos_id_ && !p.empty() && p.front() == ' ') p.remove_prefix(1);
  if (p.size() == 6 && p.substr(0, 3) == "<0x" && p[5] == '>') {
    const int hi = hex_value(p[3]), lo = hex_value(p[4]);
    if (hi >= 0 && lo >= 0) return std::string(1, static_cast<char>(hi * 16 + lo));
  }
  return std::string(p);
}

std::string tokenizer::decode(std::span<const int64_t> ids) const {
  std::string out;
  int64_t prev = -1;
  for (const int64_t id : ids) {
    if (id != bos_id_ && id != eos_id_) out += decode_piece(prev, id);
    prev = id;
  }
  return out;
}


}  // namespace edgepack

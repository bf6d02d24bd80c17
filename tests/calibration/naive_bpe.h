// The obvious reference for tokenizer::encode: llama2.c's encoder transcribed literally (sorted
// lookup, full rescan of all adjacent pairs per merge, O(n²)). Shared by the unit tests and the
// tokenizer fuzz target, which compare the fast encoder against it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace edgepack::testing {

inline std::vector<int64_t> naive_encode(const vocabulary& v, std::string_view text, bool bos, bool eos) {
  std::map<std::string, int64_t> lookup;
  for (size_t i = 0; i < v.pieces.size(); ++i) lookup.emplace(v.pieces[i], static_cast<int64_t>(i));
  const auto find = [&](const std::string& s) -> int64_t {
    const auto it = lookup.find(s);
    return it == lookup.end() ? -1 : it->second;
  };
  const auto fallback = [&](unsigned char b) -> int64_t { return b + 3 < static_cast<int64_t>(v.pieces.size()) ? b + 3 : 0; };
  std::vector<int64_t> ids;
  if (bos) ids.push_back(v.bos_id);
  if (!text.empty()) ids.push_back(find(" ") >= 0 ? find(" ") : fallback(' '));
  std::string buffer;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) buffer.clear();
    buffer += static_cast<char>(c);
    if (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80 && buffer.size() < 4) continue;
    if (find(buffer) >= 0) {
      ids.push_back(find(buffer));
    } else {
      for (char b : buffer) ids.push_back(fallback(static_cast<unsigned char>(b)));
    }
    buffer.clear();
  }
  const auto piece = [&](int64_t id) { return id >= 0 && id < static_cast<int64_t>(v.pieces.size()) ? v.pieces[id] : std::string(); };
  while (true) {
    float best_score = -1e10f;
    int64_t best_id = -1;
    size_t best_index = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const int64_t id = find(piece(ids[i]) + piece(ids[i + 1]));
      if (id != -1 && v.scores[id] > best_score) {
        best_score = v.scores[id];
        best_id = id;
        best_index = i;
      }
    }
    if (best_id == -1) break;
    ids[best_index] = best_id;
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best_index) + 1);
  }
  if (eos) ids.push_back(v.eos_id);
  return ids;
}

}  // namespace edgepack::testing

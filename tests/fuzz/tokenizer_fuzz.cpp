// libFuzzer entry for the llama2.c tokenizer: the vocabulary reader on hostile bytes, then, when
// the vocabulary parses, encode of arbitrary text checked against the naive O(n²) reference
// (differential: hostile vocabularies bring ties, empty and duplicate pieces, odd scores) and a
// decode of the result.
//
// Input layout: byte 0 flags (bit 0 BOS, bit 1 EOS); bytes 1-2 vocab_size (u16 LE); byte 3 text
// length n; n bytes of text; the rest is the tokenizer file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "calibration/tokenizer.h"
#include "tests/calibration/naive_bpe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const bool bos = data[0] & 1, eos = data[0] & 2;
  const int64_t vocab_size = data[1] | (data[2] << 8);
  const size_t text_len = data[3];
  if (size - 4 < text_len) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 4), text_len);
  const auto file = std::as_bytes(std::span(data + 4 + text_len, size - 4 - text_len));
  const auto vocab = edgepack::read_llama2c_tokenizer_from_memory(file, vocab_size, "fuzz-input");
  if (!vocab.ok()) {
    if (vocab.status().code() != edgepack::error_code::bad_input) std::abort();
    return 0;
  }
  if (static_cast<int64_t>(vocab->pieces.size()) != vocab_size || vocab->scores.size() != vocab->pieces.size()) std::abort();
  const edgepack::tokenizer tok(*vocab);
  const auto ids = tok.encode(text, bos, eos);
  if (ids != edgepack::testing::naive_encode(*vocab, text, bos, eos)) std::abort();
  for (const int64_t id : ids)
    if ((id < 0 || id >= vocab_size) && id != vocab->bos_id && id != vocab->eos_id && id != 0) std::abort();
  (void)tok.decode(ids);
  return 0;
}

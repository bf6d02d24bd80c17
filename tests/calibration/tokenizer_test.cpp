// llama2.c tokenizer: vocabulary reader (correct and error cases), hand-checked encodes on tok512,
// the fast encoder against an obvious O(n²) transcription of llama2.c's loop, round trips, and the
// held-out ids llama.cpp evaluated (e2e on shared data).
#include "calibration/tokenizer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "tests/calibration/naive_bpe.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::naive_encode;
using testing::read_file;

std::filesystem::path tok512_path() {
  const auto bundled = testing::datasets_dir() / "stories260K" / "tok512.bin";
  if (std::filesystem::exists(bundled)) return bundled;
  return testing::shared_dir() / "models" / "stories260K" / "tok512.bin";
}
bool tok512_available() { return std::filesystem::exists(tok512_path()); }

vocabulary load_tok512() {
  auto v = read_llama2c_tokenizer(tok512_path().string(), 512);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? std::move(v).value() : vocabulary{};
}

#define EP_REQUIRE_TOK512() \
  if (!tok512_available()) EP_REQUIRE_SHARED()

std::string random_text(std::mt19937& rng, const std::vector<std::string>& alphabet, size_t length) {
  std::string out;
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  for (size_t i = 0; i < length; ++i) out += alphabet[pick(rng)];
  return out;
}

// A tiny vocabulary where most merges tie, to pin down the leftmost-wins rule.
vocabulary tie_vocab() {
  vocabulary v;
  v.pieces = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.pieces.push_back(name);
  }
  v.scores.assign(v.pieces.size(), 0.0f);
  const std::vector<std::pair<std::string, float>> extra = {{" ", -5}, {"a", -5}, {"b", -5}, {"c", -5}, {"ab", -1}, {"ba", -1},
                                                            {"aa", -1}, {"bb", -2}, {"abc", -1}, {"aab", 0}, {"cc", -1e11f},
                                                            {"bab", -1}, {"aaaa", -1}, {"é", -3}, {"aé", -1}};
  for (const auto& [p, s] : extra) {
    v.pieces.push_back(p);
    v.scores.push_back(s);
  }
  return v;
}

// ---- reader: correct ----

TEST(Llama2cTokenizerRead, Tok512) {
  EP_REQUIRE_TOK512();
  const vocabulary v = load_tok512();
  ASSERT_EQ(v.pieces.size(), 512u);
  ASSERT_EQ(v.scores.size(), 512u);
  EXPECT_EQ(v.pieces[0], "<unk>");
  EXPECT_EQ(v.pieces[1], "\n<s>\n");
  EXPECT_EQ(v.pieces[2], "\n</s>\n");
  EXPECT_EQ(v.pieces[3], "<0x00>");
  EXPECT_EQ(v.pieces[258], "<0xFF>");
  EXPECT_EQ(v.pieces[410], " ");
  EXPECT_EQ(v.scores[260], -1.0f);  // "he"
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
}

// ---- reader: error ----

std::string entry(float score, const std::string& piece, int32_t len_override = INT32_MIN) {
  std::string out(8, '\0');
  const int32_t len = len_override == INT32_MIN ? static_cast<int32_t>(piece.size()) : len_override;
  std::memcpy(out.data(), &score, 4);
  std::memcpy(out.data() + 4, &len, 4);
  return out + piece;
}
std::string i32(int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

::testing::AssertionResult vocab_fails_with(const std::string& bytes, int64_t vocab_size, const std::string& phrase) {
  const auto r = read_llama2c_tokenizer_from_memory(std::as_bytes(std::span(bytes.data(), bytes.size())), vocab_size, "tok.bin");
  if (r.ok()) return ::testing::AssertionFailure() << "read succeeded, expected '" << phrase << "'";
  if (r.status().code() != error_code::bad_input) return ::testing::AssertionFailure() << error_code_name(r.status().code());
  if (r.status().message().rfind("tok.bin: ", 0) != 0) return ::testing::AssertionFailure() << "no path prefix: " << r.status().message();
  if (r.status().message().find(phrase) == std::string::npos)
    return ::testing::AssertionFailure() << "message lacks '" << phrase << "': " << r.status().message();
  return ::testing::AssertionSuccess() << r.status().message();
}

TEST(Llama2cTokenizerError, Cases) {
  const std::string good = i32(2) + entry(0, "ab") + entry(-1, "c");
  ASSERT_TRUE(read_llama2c_tokenizer_from_memory(std::as_bytes(std::span(good.data(), good.size())), 2, "tok.bin").ok());
  EXPECT_TRUE(vocab_fails_with("", 2, "0 bytes, too short for the 4-byte max_token_length header"));
  EXPECT_TRUE(vocab_fails_with(good, 0, "vocab_size 0 is outside [1, 16777216]"));
  EXPECT_TRUE(vocab_fails_with(good, int64_t{1} << 40, "vocab_size 1099511627776 is outside"));
  EXPECT_TRUE(vocab_fails_with(i32(-1) + entry(0, "a"), 1, "max_token_length -1 is outside [0, 65536]"));
  EXPECT_TRUE(vocab_fails_with(good, 3, "token 2 of 3: truncated: its score and length need 8 bytes at offset 23 but the file is 23 bytes"));
  EXPECT_TRUE(vocab_fails_with(good.substr(0, 22), 2, "token 1 of 2: truncated: its 1-byte piece starts at offset 22 but the file is 22 bytes"));
  EXPECT_TRUE(vocab_fails_with(good.substr(0, 20), 2, "token 1 of 2: truncated: its score and length need 8 bytes at offset 14"));
  EXPECT_TRUE(vocab_fails_with(good, 1, "9 trailing bytes after 1 tokens"));
  EXPECT_TRUE(vocab_fails_with(i32(2) + entry(0, "abc"), 1, "token 0 of 1: length 3 exceeds the file's max_token_length 2"));
  EXPECT_TRUE(vocab_fails_with(i32(2) + entry(0, "", -4), 1, "token 0 of 1: negative length -4"));
  EXPECT_TRUE(vocab_fails_with(i32(2) + entry(std::nanf(""), "a"), 1, "token 0 of 1: score is NaN"));
  // A length that would read far past the end (and past any cap) is caught by max_token_length.
  EXPECT_TRUE(vocab_fails_with(i32(65536) + entry(0, "", 1 << 30), 1, "length 1073741824 exceeds"));
  EXPECT_TRUE(vocab_fails_with(i32(65536) + entry(0, "", 65536), 1, "truncated: its 65536-byte piece"));
}

TEST(Llama2cTokenizerError, MissingFileNamesPath) {
  const auto r = read_llama2c_tokenizer("/nonexistent/tok.bin", 512);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("/nonexistent/tok.bin: ", 0), 0u) << r.status().message();
}

// ---- encode / decode: hand-checked on tok512 ----

TEST(TokenizerTok512, OnceUponATime) {
  EP_REQUIRE_TOK512();
  const vocabulary v = load_tok512();
  const tokenizer tok(v);
  // Pieces read off the vocabulary: " Once" 403, " upon" 407, " a" 261, " time" 378; the dummy
  // prefix " " has merged into " Once".
  const std::vector<int64_t> ids = tok.encode("Once upon a time", true, false);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(tok.piece(403), " Once");
  EXPECT_EQ(tok.piece(378), " time");
  EXPECT_EQ(tok.encode("Once upon a time", false, true), (std::vector<int64_t>{403, 407, 261, 378, 2}));
  EXPECT_EQ(tok.decode(ids), "Once upon a time");
  EXPECT_EQ(tok.decode_piece(1, 403), "Once");  // leading space dropped after BOS
  EXPECT_EQ(tok.decode_piece(403, 407), " upon");
}

TEST(TokenizerTok512, ByteFallbackAndMultibyte) {
  EP_REQUIRE_TOK512();
  const tokenizer tok(load_tok512());
  // '{' (0x7B) is not a piece: byte fallback 0x7B + 3 = 126.
  EXPECT_EQ(tok.encode("x{z", true, false), (std::vector<int64_t>{1, 410, 444, 126, 451}));
  // 'é' (C3 A9) is a piece of its own (485); '☃' (E2 98 83) is not: three byte ids 229, 155, 134.
  EXPECT_EQ(tok.piece(485), "\xC3\xA9");
  const std::string text = "Lily saw a \xE2\x98\x83 and \xC3\xA9";
  const auto ids = tok.encode(text, true, false);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 317, 394, 261, 410, 229, 155, 134, 269, 410, 485}));
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.decode_piece(0, 229), "\xE2");
  EXPECT_EQ(tok.decode_piece(0, 126), "{");
  // Invalid UTF-8 is encoded byte by byte, never rejected: a stray continuation byte, a truncated
  // sequence, 0xFF.
  EXPECT_EQ(tok.encode("\x80\xE2\x98\xFF", false, false), (std::vector<int64_t>{410, 0x80 + 3, 0xE2 + 3, 0x98 + 3, 0xFF + 3}));
  // NUL is a byte like any other (id 3), unlike llama2.c's C strings; " a" is a piece (261).
  EXPECT_EQ(tok.encode(std::string_view("a\0b", 3), false, false), (std::vector<int64_t>{261, 3, 430}));
}

TEST(TokenizerTok512, EmptyAndControlTokens) {
  EP_REQUIRE_TOK512();
  const tokenizer tok(load_tok512());
  EXPECT_EQ(tok.encode("", false, false), std::vector<int64_t>{});
  EXPECT_EQ(tok.encode("", true, true), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(tok.decode(std::vector<int64_t>{1, 2}), "");
  EXPECT_EQ(tok.decode_piece(0, 1), "\n<s>\n");  // decode_piece prints control pieces as llama2.c does
  EXPECT_EQ(tok.decode_piece(0, 9999), "");
  EXPECT_EQ(tok.decode_piece(0, -1), "");
  EXPECT_EQ(tok.find(" the"), 265);
  EXPECT_EQ(tok.find("nope!"), -1);
}

TEST(TokenizerTok512, MatchesNaiveReferenceOnRandomText) {
  EP_REQUIRE_TOK512();
  const vocabulary v = load_tok512();
  const tokenizer tok(v);
  std::mt19937 rng(1234);
  const std::vector<std::string> words = {"the", " ", "a", "b", "e", "Lily", " was", "\n", ".", "\xC3\xA9", "\xE2\x98\x83", "{", "he", "ing"};
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, static_cast<char>(b)));
  for (int round = 0; round < 300; ++round) {
    const std::string text = random_text(rng, round % 2 ? words : bytes, 1 + round % 37);
    const bool bos = round % 3 != 0, eos = round % 5 == 0;
    const auto fast = tok.encode(text, bos, eos);
    ASSERT_EQ(fast, naive_encode(v, text, bos, eos)) << "round " << round;
    if (bos) {
      ASSERT_EQ(tok.decode(fast), text) << "round " << round;
    }
  }
}

TEST(TokenizerTies, LeftmostOfEqualScoresWins) {
  const vocabulary v = tie_vocab();
  const tokenizer tok(v);
  // Ids: " " 259, "a" 260, "b" 261, "ab" 263, "ba" 264. In [" ", a, b, a] the pairs "ab" and "ba"
  // tie at -1: the leftmost merges, giving [" ", ab, a] ("aba" is no piece); rightmost-first would
  // give [" ", a, ba].
  EXPECT_EQ(tok.encode("aba", false, false), (std::vector<int64_t>{259, 263, 260}));
  std::mt19937 rng(99);
  const std::vector<std::string> alphabet = {"a", "b", "c", " ", "\xC3\xA9", "\xA9", "d"};
  for (int round = 0; round < 2000; ++round) {
    const std::string text = random_text(rng, alphabet, 1 + round % 41);
    ASSERT_EQ(tok.encode(text, round % 2 == 0, false), naive_encode(v, text, round % 2 == 0, false)) << "text '" << text << "'";
  }
  // "cc" scores below llama2.c's -1e10 starting best, so it never merges.
  const auto cc = tok.encode("cc", false, false);
  EXPECT_EQ(cc.size(), 3u);
}

TEST(TokenizerTies, TinyVocabularyWithoutByteFallback) {
  vocabulary v;
  v.pieces = {"<unk>", "a", "b", "ab"};
  v.scores = {0, 0, 0, 1};
  const tokenizer tok(v);
  // No " " piece and no byte pieces: the dummy prefix and unknown bytes become <unk> (0).
  EXPECT_EQ(tok.encode("abz", false, false), (std::vector<int64_t>{0, 3, 0}));
  EXPECT_EQ(tok.encode("abz", false, false), naive_encode(v, "abz", false, false));
  const tokenizer empty{vocabulary{}};
  EXPECT_EQ(empty.encode("xy", true, true), (std::vector<int64_t>{1, 0, 0, 0, 2}));
  EXPECT_EQ(empty.decode(std::vector<int64_t>{1, 0, 5}), "");
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9\xE2\x98\x83\xF0\x9F\x98\x80"));
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));               // stray continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));           // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));       // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));       // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));   // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x98"));           // truncated
  EXPECT_FALSE(is_valid_utf8("\xE2\x98x"));          // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

// ---- e2e on the TinyStories validation text ----

std::string tinystories() { return read_file(testing::shared_dir() / "datasets" / "tinystories-valid" / "tinystories_val.txt"); }

// Byte offset where the last `count` code points of valid UTF-8 `text` begin.
size_t last_codepoints_offset(const std::string& text, size_t count) {
  size_t i = text.size();
  while (count > 0 && i > 0) {
    --i;
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) --count;
  }
  return i;
}

TEST(TokenizerTinyStories, SlicesMatchNaiveAndWholeFileRoundTrips) {
  EP_REQUIRE_SHARED();
  const vocabulary v = load_tok512();
  const tokenizer tok(v);
  const std::string text = tinystories();
  ASSERT_GT(text.size(), 700000u);
  ASSERT_TRUE(is_valid_utf8(text));
  // The naive encoder is quadratic: compare on 1.5 KB slices spread over the file (and cut at
  // arbitrary bytes, so some start inside a multi-byte character).
  for (size_t start = 0; start + 1500 < text.size(); start += 97'001) {
    const std::string_view slice = std::string_view(text).substr(start, 1500);
    ASSERT_EQ(tok.encode(slice, true, false), naive_encode(v, slice, true, false)) << "slice at " << start;
  }
  const auto ids = tok.encode(text, true, true);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_LT(ids.size(), text.size() / 2);  // merging actually happened
}

// llama.cpp's llama-perplexity evaluated these ids for "the last 60,000 characters": characters are
// Unicode code points (the text has 142 non-ASCII bytes there; by bytes the ids differ).
TEST(TokenizerTinyStories, HeldOutIdsMatchLlamaCpp) {
  EP_REQUIRE_SHARED();
  const tokenizer tok(load_tok512());
  const std::string text = tinystories();
  const auto json = nlohmann::json::parse(read_file(testing::shared_dir() / "peers" / "stories260K-heldout-ids.json"));
  const auto expected = json.at("ids").get<std::vector<int64_t>>();
  ASSERT_EQ(expected.size(), 30030u);

  const std::string held_out = text.substr(last_codepoints_offset(text, 60000));
  EXPECT_EQ(held_out.size(), 60085u);
  const auto ids = tok.encode(held_out, true, false);
  ASSERT_EQ(ids.size(), expected.size());
  EXPECT_EQ(ids, expected);

  const auto by_bytes = tok.encode(std::string_view(text).substr(text.size() - 60000), true, false);
  EXPECT_NE(by_bytes, expected);
}

}  // namespace
}  // namespace edgepack

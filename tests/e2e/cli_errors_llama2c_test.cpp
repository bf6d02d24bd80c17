// Corrupt llama2.c checkpoints through the real CLI: exit 3, the file and the problem named,
// nothing written. Each file is the bundled stories260K.bin with one thing broken.
#include <functional>

#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

// The 7 int32 header fields: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len.
constexpr size_t field_dim = 0, field_hidden = 1, field_layers = 2, field_heads = 3, field_kv_heads = 4, field_vocab = 5;

class CliLlama2c : public ::testing::Test {
 protected:
  // A copy of the bundled model with `edit` applied, in this test's temp dir.
  std::string crafted(const std::string& name, const std::function<void(std::string&)>& edit) {
    std::string bytes = read_file(bundled_model());
    edit(bytes);
    const auto path = (dir_ / name).string();
    write_file(path, bytes);
    return path;
  }
  static void set_field(std::string& bytes, size_t field, int32_t value) {
    put_le(bytes, 4 * field, static_cast<uint32_t>(value), 4);
  }
  temp_dir dir_;
};

// Control: the copying itself does not break anything, so the failures below are the edits'.
TEST_F(CliLlama2c, UnmodifiedCopyQuantizes) {
  const std::string path = crafted("copy.bin", [](std::string&) {});
  const auto r = run_cli({"-q", "quantize", path, "-o", (dir_ / "copy.epk").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "copy.epk"));
}

TEST_F(CliLlama2c, TruncatedMidTensor) {
  // 500,000 bytes cuts into layer 2's w1 (gate_proj); the message names that array.
  const std::string path = crafted("truncated.bin", [](std::string& b) { b.resize(500000); });
  expect_quantize_rejects(path, {3, path, "truncated: 'model.layers.2.mlp.gate_proj.weight'"});
}

TEST_F(CliLlama2c, HeaderFieldZero) {
  const std::string path = crafted("dim_zero.bin", [](std::string& b) { set_field(b, field_dim, 0); });
  expect_quantize_rejects(path, {3, path, "header field dim = 0 must be positive"});
}

TEST_F(CliLlama2c, HeaderFieldNegative) {
  const std::string path = crafted("hidden_negative.bin", [](std::string& b) { set_field(b, field_hidden, -172); });
  expect_quantize_rejects(path, {3, path, "header field hidden_dim = -172 must be positive"});
}

TEST_F(CliLlama2c, VocabSizeZero) {
  // vocab_size's sign only says whether the classifier is tied; zero is still invalid.
  const std::string path = crafted("vocab_zero.bin", [](std::string& b) { set_field(b, field_vocab, 0); });
  expect_quantize_rejects(path, {3, path, "header field vocab_size = 0 must be non-zero"});
}

TEST_F(CliLlama2c, HeaderFieldAboveCap) {
  const std::string path = crafted("dim_huge.bin", [](std::string& b) { set_field(b, field_dim, 0x7FFFFFFF); });
  expect_quantize_rejects(path, {3, path, "header field dim = 2147483647 exceeds the cap"});
}

TEST_F(CliLlama2c, DimsWhoseProductOverflowsInt64) {
  // Every field within the 2^20 cap, but layers x dim x dim x 4 bytes summed over the arrays
  // passes 2^64: the size computation must notice instead of wrapping to a small number.
  const std::string path = crafted("overflow.bin", [](std::string& b) {
    for (size_t f : {field_dim, field_hidden, field_layers, field_vocab}) set_field(b, f, 1 << 20);
    set_field(b, field_heads, 1 << 10);
    set_field(b, field_kv_heads, 1 << 10);
  });
  expect_quantize_rejects(path, {3, path, "implies a file size that overflows 64 bits"});
}

TEST_F(CliLlama2c, TrailingGarbage) {
  const std::string path = crafted("trailing.bin", [](std::string& b) { b += "junk"; });
  expect_quantize_rejects(path, {3, path, "(4 trailing bytes)"});
}

TEST_F(CliLlama2c, HeadsNotDividingDim) {
  const std::string path = crafted("heads.bin", [](std::string& b) { set_field(b, field_heads, 7); });
  expect_quantize_rejects(path, {3, path, "dim 64 is not divisible by n_heads 7"});
}

TEST_F(CliLlama2c, MissingFile) {
  const std::string path = (dir_ / "no_such_model.bin").string();
  expect_quantize_rejects(path, {3, path, "no such file or directory"});
}

TEST_F(CliLlama2c, CorruptTokenizerNamesTheTokenizer) {
  // A model file passed as the tokenizer: piece lengths read from float bytes exceed the cap.
  const std::string path = crafted("copy.bin", [](std::string&) {});
  expect_error({"run", path, "--prompt", "Once", "--tokenizer", path}, {3, path, "exceeds the file's max_token_length"});
}

}  // namespace
}  // namespace edgepack::testing

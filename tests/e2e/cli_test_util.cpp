#include "tests/e2e/cli_test_util.h"

#include <set>

#include "formats/llama2c.h"
#include "formats/safetensors.h"

namespace edgepack::testing {

std::string bundled_model() { return (datasets_dir() / "stories260K/stories260K.bin").string(); }
std::string bundled_tokenizer() { return (datasets_dir() / "stories260K/tok512.bin").string(); }
std::string bundled_text() { return (datasets_dir() / "tinystories/tinystories_val.txt").string(); }

void put_le(std::string& bytes, size_t offset, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) bytes.at(offset + i) = static_cast<char>((value >> (8 * i)) & 0xFF);
}

uint64_t get_le(const std::string& bytes, size_t offset, size_t width) {
  uint64_t value = 0;
  for (size_t i = width; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes.at(offset + i));
  return value;
}

safetensors_parts split_safetensors(const std::string& bytes) {
  const uint64_t length = get_le(bytes, 0, 8);
  safetensors_parts parts;
  parts.header = nlohmann::json::parse(bytes.substr(8, length));
  parts.data = bytes.substr(8 + length);
  return parts;
}

std::string join_safetensors(const nlohmann::json& header, const std::string& data) {
  const std::string text = header.dump();
  std::string out(8, '\0');
  put_le(out, 0, text.size(), 8);
  return out + text + data;
}

std::string bundled_weights_as_safetensors(const temp_dir& dir) {
  auto checkpoint = read_llama2c(bundled_model());
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status().message();
  const auto path = (dir / "bundled.safetensors").string();
  const Status written = write_safetensors(path, checkpoint->weights, {});
  EXPECT_TRUE(written.ok()) << written.message();
  return read_file(path);
}

nlohmann::json bundled_hf_config() {
  // stories260K as a Hugging Face Llama config (tied embeddings: no lm_head.weight).
  return {{"model_type", "llama"},       {"hidden_size", 64},          {"intermediate_size", 172},
          {"num_hidden_layers", 5},      {"num_attention_heads", 8},   {"num_key_value_heads", 4},
          {"vocab_size", 512},           {"max_position_embeddings", 512}, {"rms_norm_eps", 1e-5},
          {"tie_word_embeddings", true}, {"hidden_act", "silu"}};
}

std::filesystem::path make_hf_dir(const temp_dir& dir, const std::string& name, const nlohmann::json& config,
                                  const std::string& safetensors_bytes) {
  const auto path = dir / name;
  std::filesystem::create_directories(path);
  write_file(path / "config.json", config.dump(2));
  write_file(path / "model.safetensors", safetensors_bytes);
  return path;
}

command_result expect_error(const std::vector<std::string>& args, const expected_error& expected) {
  std::vector<std::string> quiet_args = {"-q"};
  quiet_args.insert(quiet_args.end(), args.begin(), args.end());
  command_result r = run_cli(quiet_args);
  EXPECT_EQ(r.exit_code, expected.exit_code) << "stderr: " << r.err;
  // With -q, stderr holds nothing but the error, in the documented form (docs/errors.md).
  EXPECT_EQ(r.err.rfind("edgepack: error: ", 0), 0u) << "stderr: " << r.err;
  if (!expected.file.empty()) {
    EXPECT_NE(r.err.find("edgepack: error: " + expected.file), std::string::npos) << "message does not start with the file; stderr: " << r.err;
  }
  EXPECT_NE(r.err.find(expected.phrase), std::string::npos) << "expected '" << expected.phrase << "' in stderr: " << r.err;
  return r;
}

static std::set<std::string> entries(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

void expect_error_keeps_output(const std::vector<std::string>& args, const expected_error& expected) {
  temp_dir out_dir;
  const auto out = out_dir / "out.epk";
  std::vector<std::string> with_output = args;
  with_output.insert(with_output.end(), {"-o", out.string()});
  {
    SCOPED_TRACE("output does not exist yet");
    const command_result r = expect_error(with_output, expected);
    EXPECT_TRUE(r.out.empty()) << "stdout: " << r.out;
    EXPECT_TRUE(entries(out_dir.path()).empty()) << "the failed command left files behind, e.g. " << *entries(out_dir.path()).begin();
  }
  {
    SCOPED_TRACE("output exists");
    const std::string previous = "previous contents of out.epk, not an .epk file\n";
    write_file(out, previous);
    expect_error(with_output, expected);
    EXPECT_EQ(read_file(out), previous) << "the existing output was modified";
    EXPECT_EQ(entries(out_dir.path()), std::set<std::string>{"out.epk"});
  }
}

void expect_quantize_rejects(const std::string& input, const expected_error& expected) {
  expect_error_keeps_output({"quantize", input, "--scheme", "w4g32"}, expected);
}

}  // namespace edgepack::testing

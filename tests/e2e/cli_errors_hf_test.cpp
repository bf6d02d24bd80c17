// Hugging Face directories that do not fit the model they claim to be, through the real CLI:
// exit 3, the config file or directory and the problem named, nothing written. The base is the
// bundled model's weights as model.safetensors beside a stories260K config.json.
#include <functional>

#include "formats/llama2c.h"
#include "formats/safetensors.h"
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

using nlohmann::json;

const std::string q_proj = "model.layers.0.self_attn.q_proj.weight";  // F32 [64, 64]

class CliHfDir : public ::testing::Test {
 protected:
  void SetUp() override { weights_ = bundled_weights_as_safetensors(dir_); }
  std::string dir_with_config(const std::string& name, const std::function<void(json&)>& edit) {
    json config = bundled_hf_config();
    edit(config);
    return make_hf_dir(dir_, name, config, weights_).string();
  }
  std::string dir_with_header(const std::string& name, const std::function<void(json&)>& edit) {
    safetensors_parts parts = split_safetensors(weights_);
    edit(parts.header);
    return make_hf_dir(dir_, name, bundled_hf_config(), join_safetensors(parts.header, parts.data)).string();
  }
  temp_dir dir_;
  std::string weights_;
};

// Control: the unmodified directory loads as a 5-layer llama, so each failure below is its edit's.
TEST_F(CliHfDir, UnmodifiedDirectoryQuantizes) {
  const std::string dir = dir_with_config("ok", [](json&) {});
  const auto r = run_cli({"-q", "quantize", dir, "-o", (dir_ / "ok.epk").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["tensors"].size(), 35u);  // 7 linear weights x 5 layers
}

TEST_F(CliHfDir, ConfigMissingField) {
  const std::string dir = dir_with_config("no_hidden_size", [](json& c) { c.erase("hidden_size"); });
  expect_quantize_rejects(dir, {3, dir + "/config.json", "missing required field 'hidden_size'"});
}

TEST_F(CliHfDir, ConfigNotJson) {
  const std::string dir = dir_with_config("bad_json", [](json&) {});
  write_file(std::filesystem::path(dir) / "config.json", "{\"model_type\": \"llama\",");
  expect_quantize_rejects(dir, {3, dir + "/config.json", "not valid JSON"});
}

TEST_F(CliHfDir, LinearRopeScalingIsRejected) {
  // Loading it as plain RoPE would give silently wrong logits past the original context.
  const std::string dir = dir_with_config("rope_linear", [](json& c) { c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; });
  expect_quantize_rejects(dir, {3, dir + "/config.json", "rope_scaling type 'linear' is not supported"});
}

TEST_F(CliHfDir, UnsupportedModelType) {
  const std::string dir = dir_with_config("gpt2", [](json& c) { c["model_type"] = "gpt2"; });
  expect_quantize_rejects(dir, {3, dir + "/config.json", "model_type 'gpt2' is not supported"});
}

TEST_F(CliHfDir, TensorMissingForConfig) {
  // Rewrite model.safetensors without one tensor (a valid file, just incomplete).
  auto checkpoint = read_llama2c(bundled_model());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().message();
  const std::string missing = "model.layers.3.mlp.up_proj.weight";
  ASSERT_EQ(checkpoint->weights.erase(missing), 1u);
  const std::string dir = dir_with_config("missing_tensor", [](json&) {});
  const Status written = write_safetensors(dir + "/model.safetensors", checkpoint->weights, {});
  ASSERT_TRUE(written.ok()) << written.message();
  expect_quantize_rejects(dir, {3, dir, "tensor '" + missing + "' required by the config is missing"});
}

TEST_F(CliHfDir, WrongShape) {
  // Same byte count, different shape: only a check against the config catches it.
  const std::string dir = dir_with_header("wrong_shape", [](json& h) { h[q_proj]["shape"] = {32, 128}; });
  expect_quantize_rejects(dir, {3, dir, "tensor '" + q_proj + "' has shape [32, 128], the config needs [64, 64]"});
}

TEST_F(CliHfDir, IntegerWeights) {
  // I32 has F32's size, so the file itself is well formed; the model cannot use it.
  const std::string dir = dir_with_header("i32", [](json& h) { h[q_proj]["dtype"] = "I32"; });
  expect_quantize_rejects(dir, {3, dir, "tensor '" + q_proj + "' has dtype I32, expected a float type"});
}

TEST_F(CliHfDir, CorruptSafetensorsNamesTheFile) {
  const std::string dir = dir_with_config("corrupt_weights", [](json&) {});
  write_file(std::filesystem::path(dir) / "model.safetensors", weights_.substr(0, weights_.size() - 1));
  expect_quantize_rejects(dir, {3, dir + "/model.safetensors", "is beyond the data section"});
}

TEST_F(CliHfDir, DirectoryWithoutWeights) {
  const std::string dir = dir_with_config("no_weights", [](json&) {});
  std::filesystem::remove(std::filesystem::path(dir) / "model.safetensors");
  expect_quantize_rejects(dir, {3, dir, "no model.safetensors or model.safetensors.index.json"});
}

}  // namespace
}  // namespace edgepack::testing

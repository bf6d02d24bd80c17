// Command-line mistakes (exit 2), unreadable text data (exit 3) and outputs that cannot be
// written (exit 4), through the real CLI. Corrupt model files: cli_errors_{llama2c,safetensors,
// hf,epk}_test.cpp.
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

// --- exit 2: the command line is wrong; nothing is read or written ---

TEST(CliUsage, UnknownSchemeBits) {
  expect_error_keeps_output({"quantize", bundled_model(), "--scheme", "w9"}, {2, "", "scheme 'w9': bits must be 2..8"});
}

TEST(CliUsage, UnknownSchemeZeroGroup) {
  expect_error_keeps_output({"quantize", bundled_model(), "--scheme", "w4g0"}, {2, "", "scheme 'w4g0': group size must be"});
}

TEST(CliUsage, SparsitySchemeInQuantize) {
  expect_error_keeps_output({"quantize", bundled_model(), "--scheme", "s2:4"}, {2, "", "scheme 's2:4': sparsity terms"});
}

TEST(CliUsage, SchemeWithTrailingText) {
  expect_error_keeps_output({"quantize", bundled_model(), "--scheme", "w4g32_fast"}, {2, "", "scheme 'w4g32_fast': unexpected '_fast'"});
}

TEST(CliUsage, UnknownMethod) {
  expect_error_keeps_output({"quantize", bundled_model(), "--method", "gptq9"}, {2, "", "--method 'gptq9' is not available"});
}

TEST(CliUsage, BadExcludeRegex) {
  expect_error_keeps_output({"quantize", bundled_model(), "--exclude", "(unclosed"},
                            {2, "", "--exclude '(unclosed' is not a valid regular expression"});
}

TEST(CliUsage, OutputIsTheInput) {
  // Writing over the model being read would destroy it; the existing bytes must survive.
  temp_dir dir;
  const auto model = dir / "model.bin";
  std::filesystem::copy_file(bundled_model(), model);
  expect_error({"quantize", model.string(), "-o", model.string()}, {2, "", "is the input model"});
  EXPECT_EQ(read_file(model), read_file(bundled_model()));
}

TEST(CliUsage, RangeWithoutColon) {
  expect_error({"eval", bundled_model(), "--data", bundled_text(), "--range", "100"}, {2, "", "--range '100' must look like BEGIN:END"});
}

TEST(CliUsage, RangeNotANumber) {
  expect_error({"eval", bundled_model(), "--data", bundled_text(), "--range", "1:x"}, {2, "", "--range '1:x': 'x' is not an integer"});
}

TEST(CliUsage, UnknownProtocol) {
  expect_error({"eval", bundled_model(), "--data", bundled_text(), "--protocol", "hellaswag"}, {2, "", "unknown protocol 'hellaswag'"});
}

TEST(CliUsage, RunWithoutPromptOrInput) {
  expect_error({"run", bundled_model()}, {2, "", "give either --prompt TEXT or --input NAME=FILE.npy"});
}

TEST(CliUsage, RunWithBothPromptAndInput) {
  expect_error({"run", bundled_model(), "--prompt", "Once", "--input", "input_ids=ids.npy"}, {2, "", "(one of them)"});
}

TEST(CliUsage, UnknownSubcommand) {
  const auto r = expect_error({"frobnicate", bundled_model()}, {2, "", "unknown command 'frobnicate'"});
  EXPECT_NE(r.err.find("inspect, quantize"), std::string::npos) << r.err;  // lists what exists
}

TEST(CliUsage, NoSubcommand) { expect_error({}, {2, "", "A subcommand is required"}); }

TEST(CliUsage, UnknownOption) {
  expect_error_keeps_output({"quantize", bundled_model(), "--bogus"}, {2, "", "--bogus"});
}

TEST(CliUsage, MissingRequiredOption) {
  expect_error({"eval", bundled_model()}, {2, "", "--data is required"});
}

TEST(CliUsage, VerifyWithoutThresholds) {
  expect_error({"verify", bundled_model(), "--against", bundled_model(), "--data", bundled_text()},
               {2, "", "verify needs at least one threshold"});
}

TEST(CliUsage, ThreadsOutOfRange) { expect_error({"--threads", "-1", "inspect", bundled_model()}, {2, "", "--threads"}); }

TEST(CliUsage, HelpIsNotAnError) {
  const auto r = run_cli({"quantize", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("w<bits>[g<group>][_asym]"), std::string::npos) << r.out;
}

// --- exit 3: data files that cannot be used ---

TEST(CliData, TextNotUtf8) {
  temp_dir dir;
  const std::string path = (dir / "latin1.txt").string();
  write_file(path, "Once upon a time, a caf\xe9 opened.\n");  // Latin-1 e-acute: a UTF-8 lead byte without its continuation
  expect_error({"eval", bundled_model(), "--data", path, "--max-windows", "1"}, {3, path, "not valid UTF-8"});
}

TEST(CliData, TextMissing) {
  temp_dir dir;
  const std::string path = (dir / "missing.txt").string();
  expect_error({"eval", bundled_model(), "--data", path}, {3, path, "cannot open text file"});
}

TEST(CliData, EmptyRange) {
  expect_error({"eval", bundled_model(), "--data", bundled_text(), "--range", "10:10"}, {3, bundled_text(), "the selected text is empty"});
}

TEST(CliData, DirectoryThatIsNotAModel) {
  temp_dir dir;
  expect_error_keeps_output({"quantize", dir.path().string()}, {3, dir.path().string(), "without config.json"});
}

// --- exit 4: the output cannot be written ---

TEST(CliOutput, NonexistentDirectory) {
  temp_dir dir;
  const auto missing_dir = dir / "no" / "such";
  const std::string out = (missing_dir / "model.epk").string();
  expect_error({"quantize", bundled_model(), "-o", out}, {4, out, "cannot create output file"});
  EXPECT_FALSE(std::filesystem::exists(dir / "no")) << "the failed write created directories";
}

TEST(CliOutput, OutputIsADirectory) {
  temp_dir dir;
  std::filesystem::create_directory(dir / "target.epk");
  const std::string out = (dir / "target.epk").string();
  expect_error({"quantize", bundled_model(), "-o", out}, {4, out, "is a directory"});
  EXPECT_TRUE(std::filesystem::is_empty(dir / "target.epk"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1) << "temp file left behind";
}

}  // namespace
}  // namespace edgepack::testing

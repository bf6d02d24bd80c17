// quantize --method gptq / --override: bad command lines and bad calibration data are rejected with
// the documented exit code and message, and nothing is written.
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

std::vector<std::string> gptq_args(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"quantize", bundled_model(), "--scheme", "w4g32", "--method", "gptq"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(CliErrorsGptq, GptqWithoutCalibrationData) {
  expect_error_keeps_output(gptq_args({}), {2, "", "--method gptq needs calibration data"});
}

TEST(CliErrorsGptq, CalibrationWithRtn) {
  expect_error_keeps_output({"quantize", bundled_model(), "--calib", bundled_text()}, {2, "", "need --method gptq"});
}

TEST(CliErrorsGptq, RefineAndFloatTargetsNeedGptq) {
  expect_error_keeps_output({"quantize", bundled_model(), "--refine", "2"}, {2, "", "--refine needs --method gptq"});
  expect_error_keeps_output({"quantize", bundled_model(), "--float-targets"}, {2, "", "--float-targets needs --method gptq"});
  expect_error_keeps_output({"quantize", bundled_model(), "--tune-epochs", "2"}, {2, "", "--tune-epochs needs --method gptq"});
}

TEST(CliErrorsGptq, UnknownMethod) {
  expect_error_keeps_output({"quantize", bundled_model(), "--method", "awq"}, {2, "", "--method 'awq' is not available (available: rtn, gptq)"});
}

TEST(CliErrorsGptq, EmptyCalibrationText) {
  temp_dir dir;
  write_file(dir / "empty.txt", "");
  const std::string path = (dir / "empty.txt").string();
  expect_error_keeps_output(gptq_args({"--calib", path}), {3, path, "the calibration text is empty"});
}

TEST(CliErrorsGptq, EmptyCalibrationRange) {
  expect_error_keeps_output(gptq_args({"--calib", bundled_text(), "--calib-range", "10:10"}), {3, bundled_text(), "the calibration text is empty"});
}

TEST(CliErrorsGptq, CalibrationTextShorterThanOneWindow) {
  temp_dir dir;
  write_file(dir / "short.txt", "Once upon a time there was a cat.");
  const std::string path = (dir / "short.txt").string();
  expect_error_keeps_output(gptq_args({"--calib", path, "--calib-seq", "256"}), {3, path, "fewer than one window of --calib-seq 256"});
}

TEST(CliErrorsGptq, CalibrationTextInvalidUtf8) {
  temp_dir dir;
  write_file(dir / "bad.txt", std::string("Once upon a time \xC3\x28 there was a cat.\n"));
  const std::string path = (dir / "bad.txt").string();
  expect_error_keeps_output(gptq_args({"--calib", path}), {3, path, "not valid UTF-8"});
}

TEST(CliErrorsGptq, ZeroCalibrationSamples) {
  expect_error_keeps_output(gptq_args({"--calib", bundled_text(), "--calib-samples", "0"}), {2, "", "--calib-samples"});
}

TEST(CliErrorsGptq, UnknownSampling) {
  expect_error_keeps_output(gptq_args({"--calib", bundled_text(), "--calib-sampling", "shuffled"}), {2, "", "--calib-sampling 'shuffled' is not known"});
}

TEST(CliErrorsGptq, BothCalibrationSources) {
  expect_error_keeps_output(gptq_args({"--calib", bundled_text(), "--calib-windows", bundled_text()}), {2, "", "either --calib or --calib-windows"});
}

TEST(CliErrorsGptq, CalibrationWindowsFileBad) {
  temp_dir dir;
  write_file(dir / "w.json", R"({"windows": [[1, 2, 3], [1, 2]]})");
  const std::string path = (dir / "w.json").string();
  expect_error_keeps_output(gptq_args({"--calib-windows", path}), {3, path, "window 1 has 2 ids, window 0 has 3"});
  write_file(dir / "w.json", R"({"windows": [[1, 2, 9999]]})");
  expect_error_keeps_output(gptq_args({"--calib-windows", path}), {3, path, "token id 9999 outside the vocabulary"});
  write_file(dir / "w.json", "[1, 2");
  expect_error_keeps_output(gptq_args({"--calib-windows", path}), {3, path, "not valid JSON"});
}

TEST(CliErrorsGptq, OverrideSyntax) {
  expect_error_keeps_output({"quantize", bundled_model(), "--override", "down_proj"}, {2, "", "--override 'down_proj' must look like REGEX=SCHEME"});
  expect_error_keeps_output({"quantize", bundled_model(), "--override", "=w8"}, {2, "", "must look like REGEX=SCHEME"});
  expect_error_keeps_output({"quantize", bundled_model(), "--override", "(down=w8"}, {2, "", "invalid regular expression '(down'"});
}

TEST(CliErrorsGptq, OverrideUnknownScheme) {
  expect_error_keeps_output({"quantize", bundled_model(), "--override", "down_proj=w9"}, {2, "", "--override 'down_proj=w9'"});
  expect_error_keeps_output(gptq_args({"--calib", bundled_text(), "--override", "down_proj=q4_0"}), {2, "", "--override 'down_proj=q4_0'"});
}

TEST(CliErrorsGptq, UnknownScheme) {
  expect_error_keeps_output({"quantize", bundled_model(), "--method", "gptq", "--calib", bundled_text(), "--scheme", "w4g32x"}, {2, "", "w4g32x"});
}

}  // namespace
}  // namespace edgepack::testing

// edgepack verify MODEL --against BASE.onnx --inputs DIR: float and quantized .epk files of the
// shared ONNX models against their originals on the ONNX Runtime golden inputs; exit codes 0-3.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "formats/epk.h"
#include "formats/model_loader.h"
#include "formats/npy.h"
#include "passes/quantize_rtn.h"
#include "passes/scheme.h"
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

namespace fs = std::filesystem;

fs::path mnist_dir() { return shared_dir() / "models" / "mnist-8"; }
fs::path ocr_dir() { return shared_dir() / "models" / "paddleocr"; }

// The ONNX model written as .epk; with a scheme, every float Conv weight (view: groups over input
// channels x taps) and 2-D MatMul B (transposed view) of >= 1024 elements is RTN-quantized.
// Test-local selection, so these tests do not depend on the quantize command's defaults.
fs::path make_epk(const fs::path& onnx, const fs::path& out, const std::string& scheme) {
  auto m = load_model(onnx.string(), {});
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return out;
  if (!scheme.empty()) {
    auto encoding = parse_weight_scheme(scheme);
    EXPECT_TRUE(encoding.ok());
    for (const node& n : m->g.nodes) {
      if (n.inputs.size() < 2 || (n.op_type != "Conv" && n.op_type != "MatMul")) continue;
      auto it = m->g.weights.find(n.inputs[1]);
      if (it == m->g.weights.end() || it->second.is_quantized() || it->second.type != dtype::f32 || it->second.numel() < 1024) continue;
      quantize_rtn_options options;
      options.encoding = *encoding;
      if (n.op_type == "Conv") options.encoding.col_axis = 1;
      else if (it->second.shape.size() == 2) options.encoding.transposed = true;
      else continue;
      auto q = quantize_tensor_rtn(it->second, options, nullptr);
      EXPECT_TRUE(q.ok()) << q.status().message();
      if (q.ok()) it->second = *q;
    }
  }
  const Status written = write_epk(out.string(), *m, {});
  EXPECT_TRUE(written.ok()) << written.message();
  return out;
}

nlohmann::json manifest_of(const fs::path& case_dir) { return nlohmann::json::parse(read_file(case_dir / "manifest.json")); }

nlohmann::json json_of(const command_result& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

TEST(VerifyOnnx, FloatEpkMatchesItsOnnxAndKeepsEveryClass) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = mnist_dir() / "mnist-8.onnx";
  const auto epk = make_epk(onnx, dir / "mnist.epk", "");
  const auto r = run_cli({"verify", epk.string(), "--against", onnx.string(), "--inputs", (mnist_dir() / "golden").string(), "--min-cosine", "0.999999",
                          "--max-nmse", "1e-10", "--task", "argmax", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = json_of(r);
  EXPECT_TRUE(j["passed"].get<bool>());
  ASSERT_EQ(j["cases"].size(), 4u);  // digit_0, digit_3, digit_7, noise
  for (const auto& c : j["cases"]) {
    const auto manifest = manifest_of(mnist_dir() / "golden" / c["case"].get<std::string>());
    EXPECT_EQ(c["tasks"][0]["model"], std::to_string(manifest["predicted_class"].get<int>())) << c["case"];
    EXPECT_GE(c["outputs"][0]["cosine"].get<double>(), 0.999999);
  }
  // The human report: a row per case and a verdict.
  const auto human = run_cli({"verify", epk.string(), "--against", onnx.string(), "--inputs", (mnist_dir() / "golden" / "digit_3").string(), "--min-cosine", "0.99"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Plus214_Output_0"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("verification passed"), std::string::npos) << human.out;
}

TEST(VerifyOnnx, UnreachableThresholdsExitOne) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = mnist_dir() / "mnist-8.onnx";
  const auto epk = make_epk(onnx, dir / "mnist.epk", "");
  const auto inputs = (mnist_dir() / "golden").string();
  const auto r = run_cli({"verify", epk.string(), "--against", onnx.string(), "--inputs", inputs, "--min-cosine", "1.0000001"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verification FAILED"), std::string::npos) << r.out;
  // 2-bit weights: the outputs move far from the float model's.
  const auto w2 = make_epk(onnx, dir / "mnist-w2.epk", "w2g32_asym");
  const auto bad = run_cli({"verify", w2.string(), "--against", onnx.string(), "--inputs", inputs, "--min-cosine", "0.9999", "--json"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  const auto j = json_of(bad);
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_LT(j["outputs"][0]["min_cosine"].get<double>(), 0.9999);
}

TEST(VerifyOnnx, UsageAndInputErrors) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = (mnist_dir() / "mnist-8.onnx").string();
  const auto inputs = (mnist_dir() / "golden").string();
  expect_error({"verify", onnx, "--against", onnx, "--inputs", inputs}, {2, "", "at least one check"});
  expect_error({"verify", onnx, "--against", onnx, "--inputs", inputs, "--min-cosine", "0.9", "--data", bundled_text()}, {2, "", "cannot be combined"});
  expect_error({"verify", onnx, "--against", onnx, "--min-cosine", "0.9"}, {2, "", "--min-cosine needs --inputs"});
  expect_error({"verify", onnx, "--against", onnx}, {2, "", "--data TEXT (language models) or --inputs DIR"});
  expect_error({"verify", onnx, "--against", onnx, "--inputs", inputs, "--task", "detect"}, {2, "", "--task 'detect' is not a task"});
  const auto missing = (dir / "no_such_dir").string();
  expect_error({"verify", onnx, "--against", onnx, "--inputs", missing, "--min-cosine", "0.9"}, {3, missing, "input folder not found"});

  // A file named after no graph input, a wrong dtype and a wrong shape: exit 3 naming the file.
  const tensor image = tensor::allocate(dtype::f32, {1, 1, 28, 28});
  fs::create_directories(dir / "unknown");
  ASSERT_TRUE(write_npy((dir / "unknown" / "Input3.npy").string(), image).ok());
  ASSERT_TRUE(write_npy((dir / "unknown" / "pixels.npy").string(), image).ok());
  const auto unknown_file = (dir / "unknown" / "pixels.npy").string();
  expect_error({"verify", onnx, "--against", onnx, "--inputs", (dir / "unknown").string(), "--min-cosine", "0.9"},
               {3, unknown_file, "'pixels' is not a graph input (inputs: Input3"});
  fs::create_directories(dir / "dtype");
  ASSERT_TRUE(write_npy((dir / "dtype" / "input_0.npy").string(), tensor::allocate(dtype::f64, {1, 1, 28, 28})).ok());
  expect_error({"verify", onnx, "--against", onnx, "--inputs", (dir / "dtype").string(), "--min-cosine", "0.9"},
               {3, (dir / "dtype" / "input_0.npy").string(), "dtype F64, but graph input 'Input3' is F32"});
  fs::create_directories(dir / "shape");
  ASSERT_TRUE(write_npy((dir / "shape" / "Input3.npy").string(), tensor::allocate(dtype::f32, {1, 28, 28})).ok());
  expect_error({"verify", onnx, "--against", onnx, "--inputs", (dir / "shape").string(), "--min-cosine", "0.9"},
               {3, (dir / "shape" / "Input3.npy").string(), "shape [1, 28, 28], but graph input 'Input3' is [1, 1, 28, 28]"});
  const auto no_keys = (dir / "keys.txt").string();
  expect_error({"verify", onnx, "--against", onnx, "--inputs", inputs, "--task", "ctc:" + no_keys}, {3, no_keys, "CTC keys file not found"});
}

TEST(VerifyOnnx, MnistW8KeepsItsClass) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = mnist_dir() / "mnist-8.onnx";
  const auto epk = make_epk(onnx, dir / "mnist-w8.epk", "w8");
  const auto r = run_cli({"verify", epk.string(), "--against", onnx.string(), "--inputs", (mnist_dir() / "golden").string(), "--min-cosine", "0.999",
                          "--task", "argmax", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = json_of(r);
  ASSERT_EQ(j["cases"].size(), 4u);
  int digits = 0;
  for (const auto& c : j["cases"]) {
    const auto manifest = manifest_of(mnist_dir() / "golden" / c["case"].get<std::string>());
    if (!manifest.contains("expected_digit")) continue;
    ++digits;
    EXPECT_EQ(c["tasks"][0]["model"], std::to_string(manifest["expected_digit"].get<int>())) << c["case"];
  }
  EXPECT_EQ(digits, 3);
}

TEST(VerifyOnnx, RecW8KeepsTheGoldenText) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = ocr_dir() / "ch_PP-OCRv4_rec_infer.onnx";
  const auto epk = make_epk(onnx, dir / "rec-w8.epk", "w8");
  fs::create_directories(dir / "rec");
  for (const char* name : {"rec_hello_2026", "rec_edge_device"}) fs::copy(ocr_dir() / "golden" / name, dir / "rec" / name);
  const auto keys = (ocr_dir() / "ppocr_keys_v1.txt").string();
  const auto r = run_cli({"verify", epk.string(), "--against", onnx.string(), "--inputs", (dir / "rec").string(), "--task", "ctc:" + keys, "--min-cosine",
                          "0.9", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = json_of(r);
  ASSERT_EQ(j["cases"].size(), 2u);
  for (const auto& c : j["cases"]) {
    const auto manifest = manifest_of(dir / "rec" / c["case"].get<std::string>());
    EXPECT_EQ(c["tasks"][0]["model"], manifest["decoded_text"]) << c["case"];
    EXPECT_EQ(c["tasks"][0]["against"], manifest["decoded_text"]) << c["case"];
    EXPECT_TRUE(c["tasks"][0]["kept"].get<bool>());
  }
}

TEST(VerifyOnnx, DetW8BinaryMapAgrees) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = ocr_dir() / "ch_PP-OCRv4_det_infer.onnx";
  const auto epk = make_epk(onnx, dir / "det-w8.epk", "w8");
  const auto r = run_cli({"verify", epk.string(), "--against", onnx.string(), "--inputs", (ocr_dir() / "golden" / "det_three_lines").string(), "--task",
                          "binary-map:0.3", "--min-map-agreement", "0.98", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const double agreement = json_of(r)["cases"][0]["tasks"][0]["agreement"].get<double>();
  EXPECT_GE(agreement, 0.98);
  EXPECT_LT(agreement, 1.0 + 1e-12);
}

}  // namespace
}  // namespace edgepack::testing

namespace edgepack::testing {
namespace {

TEST(VerifyOnnx, QuantizeCommandW8RecKeepsTheGoldenText) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = (ocr_dir() / "ch_PP-OCRv4_rec_infer.onnx").string();
  const auto epk = (dir / "rec-w8.epk").string();
  const auto q = run_cli({"-q", "quantize", onnx, "-o", epk, "--scheme", "w8"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const auto keys = (ocr_dir() / "ppocr_keys_v1.txt").string();
  for (const char* name : {"rec_hello_2026", "rec_edge_device"}) {
    const auto case_dir = ocr_dir() / "golden" / name;
    const auto r = run_cli({"-q", "verify", epk, "--against", onnx, "--inputs", case_dir.string(), "--task", "ctc:" + keys, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = json_of(r);
    EXPECT_EQ(j["cases"][0]["tasks"][0]["model"], manifest_of(case_dir)["decoded_text"]) << name;
  }
}

TEST(VerifyOnnx, StatefulStepsCarryEachModelsOwnState) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const auto onnx = shared_dir() / "models" / "silero-vad" / "silero_vad_legacy.onnx";
  const auto epk = make_epk(onnx, dir / "silero.epk", "");
  const auto r = run_cli({"-q", "verify", epk.string(), "--against", onnx.string(), "--inputs", (onnx.parent_path() / "golden").string(), "--min-cosine",
                          "0.999999", "--task", "binary-map:0.5", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = json_of(r);
  ASSERT_EQ(j["cases"].size(), 24u);  // 2 cases x 12 steps
  EXPECT_EQ(j["cases"][0]["case"], "legacy_noise");
  EXPECT_EQ(j["cases"][11]["step"], 11);
  EXPECT_EQ(j["outputs"].size(), 3u);  // output, hn, cn
}

}  // namespace
}  // namespace edgepack::testing

// edgepack quantize ONNX.onnx --method gptq --calib DIR: calibrated on deterministic perturbations
// of the golden inputs (noise, lowered contrast, shifts — never the golden inputs themselves),
// checked with verify on the golden inputs. GPTQ's output cosine must beat RTN's at w4g32; the
// --calib DIR errors are exit 3 naming the file, with nothing written.
#include <gtest/gtest.h>

#include <random>

#include "formats/npy.h"
#include "tests/e2e/cli_test_util.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

namespace fs = std::filesystem;

fs::path mnist_dir() { return shared_dir() / "models" / "mnist-8"; }
fs::path ocr_dir() { return shared_dir() / "models" / "paddleocr"; }

// input_0.npy [N, C, H, W] of `golden_case` -> OUT/<case>_<variant>/input_0.npy for three
// variants: Gaussian noise (sigma * range), contrast * 0.85, shift right by `shift` (zero fill).
void write_perturbed(const fs::path& golden_case, const fs::path& out, float sigma, int64_t shift, uint32_t seed) {
  auto x = read_npy((golden_case / "input_0.npy").string());
  ASSERT_TRUE(x.ok()) << x.status().message();
  const int64_t w = x->shape.back();
  const std::string name = golden_case.filename().string();
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  for (const char* variant : {"noise", "contrast", "shift"}) {
    tensor t = tensor::allocate(dtype::f32, x->shape);
    const float* src = x->data_as<float>();
    float* dst = t.mutable_data_as<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (std::string(variant) == "noise") dst[i] = src[i] + normal(rng);
      else if (std::string(variant) == "contrast") dst[i] = src[i] * 0.85f;
      else dst[i] = i % w >= shift ? src[i - shift] : 0.0f;
    }
    const fs::path dir = out / (name + "_" + variant);
    fs::create_directories(dir);
    ASSERT_TRUE(write_npy((dir / "input_0.npy").string(), t).ok());
  }
}

struct verify_result {
  double min_cosine = 0;
  std::vector<std::string> texts;  // ctc task: decoded text per case
  bool kept = true;
};

verify_result verify(const std::string& epk, const std::string& onnx, const std::string& inputs, const std::vector<std::string>& task) {
  std::vector<std::string> args = {"-q", "verify", epk, "--against", onnx, "--inputs", inputs, "--min-cosine", "-1", "--json"};
  args.insert(args.end(), task.begin(), task.end());
  const auto r = run_cli(args);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  verify_result v;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "verify printed no JSON: " << r.out << r.err;
    return v;
  }
  v.min_cosine = j["outputs"][0]["min_cosine"].get<double>();
  for (const auto& c : j["cases"])
    for (const auto& t : c["tasks"]) {
      if (t.contains("model") && t["model"].is_string()) v.texts.push_back(t["model"].get<std::string>());
      v.kept = v.kept && t["kept"].get<bool>();
    }
  return v;
}

std::string quantize(const std::string& onnx, const fs::path& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-q", "quantize", onnx, "-o", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out.string();
}

TEST(GptqOnnx, Mnist8W4g32BeatsRtn) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const std::string onnx = (mnist_dir() / "mnist-8.onnx").string();
  uint32_t seed = 1;
  for (const char* c : {"digit_0", "digit_3", "digit_7"}) write_perturbed(mnist_dir() / "golden" / c, dir / "calib", 24.0f, 2, seed++);
  const auto rtn = quantize(onnx, dir / "rtn.epk", {"--scheme", "w4g32"});
  const auto gptq = quantize(onnx, dir / "gptq.epk", {"--scheme", "w4g32", "--method", "gptq", "--calib", (dir / "calib").string()});
  const auto golden = (mnist_dir() / "golden").string();
  const verify_result r = verify(rtn, onnx, golden, {"--task", "argmax"});
  const verify_result g = verify(gptq, onnx, golden, {"--task", "argmax"});
  EXPECT_TRUE(g.kept);
  EXPECT_GT(g.min_cosine, r.min_cosine) << "GPTQ " << g.min_cosine << " vs RTN " << r.min_cosine;
  // The calibration is recorded, and the selected Conv is calibrated (not RTN).
  const auto info = run_cli({"-q", "inspect", gptq, "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << info.out;
  const auto& tensors = j["provenance"]["extra"]["pass"]["tensors"];
  ASSERT_EQ(tensors.size(), 1u);  // mnist-8's second Conv; the first is below --min-elements
  EXPECT_EQ(tensors[0]["method"], "gptq");
  EXPECT_EQ(j["provenance"]["extra"]["options"]["calibration"]["samples"], 9);
}

TEST(GptqOnnx, PaddleOcrV4RecW4g32BeatsRtn) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const std::string onnx = (ocr_dir() / "ch_PP-OCRv4_rec_infer.onnx").string();
  uint32_t seed = 1;
  for (const char* c : {"rec_hello_2026", "rec_edge_device"}) write_perturbed(ocr_dir() / "golden" / c, dir / "calib", 0.06f, 4, seed++);
  fs::create_directories(dir / "golden");
  for (const char* c : {"rec_hello_2026", "rec_edge_device"}) fs::copy(ocr_dir() / "golden" / c, dir / "golden" / c);
  const std::vector<std::string> task = {"--task", "ctc:" + (ocr_dir() / "ppocr_keys_v1.txt").string()};
  const auto rtn = quantize(onnx, dir / "rtn.epk", {"--scheme", "w4g32"});
  const auto gptq = quantize(onnx, dir / "gptq.epk", {"--scheme", "w4g32", "--method", "gptq", "--calib", (dir / "calib").string()});
  const verify_result r = verify(rtn, onnx, (dir / "golden").string(), task);
  const verify_result g = verify(gptq, onnx, (dir / "golden").string(), task);
  EXPECT_GT(g.min_cosine, r.min_cosine) << "GPTQ " << g.min_cosine << " vs RTN " << r.min_cosine;
  std::string texts;
  for (const auto& t : g.texts) texts += "'" + t + "' ";
  std::cout << "rec w4g32 min cosine: RTN " << r.min_cosine << ", GPTQ " << g.min_cosine << "; GPTQ text " << texts << (g.kept ? "(kept)" : "(lost)") << "\n";
}

TEST(GptqOnnx, CalibDirErrorsNameTheFile) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  const std::string onnx = (mnist_dir() / "mnist-8.onnx").string();
  fs::create_directories(dir / "empty");
  expect_error_keeps_output({"quantize", onnx, "--scheme", "w4g32", "--method", "gptq", "--calib", (dir / "empty").string()},
                            {3, (dir / "empty").string(), "no input sets"});
  fs::create_directories(dir / "unknown");
  write_file(dir / "unknown" / "pixels.npy", read_file(mnist_dir() / "golden" / "digit_0" / "input_0.npy"));
  expect_error_keeps_output({"quantize", onnx, "--scheme", "w4g32", "--method", "gptq", "--calib", (dir / "unknown").string()},
                            {3, (dir / "unknown" / "pixels.npy").string(), "is not a graph input"});
  fs::create_directories(dir / "shape");
  ASSERT_TRUE(write_npy((dir / "shape" / "input_0.npy").string(), tensor::allocate(dtype::f32, {1, 1, 27, 28})).ok());
  expect_error_keeps_output({"quantize", onnx, "--scheme", "w4g32", "--method", "gptq", "--calib", (dir / "shape").string()},
                            {3, (dir / "shape" / "input_0.npy").string(), "shape"});
  fs::create_directories(dir / "dtype");
  ASSERT_TRUE(write_npy((dir / "dtype" / "input_0.npy").string(), tensor::allocate(dtype::f64, {1, 1, 28, 28})).ok());
  expect_error_keeps_output({"quantize", onnx, "--scheme", "w4g32", "--method", "gptq", "--calib", (dir / "dtype").string()},
                            {3, (dir / "dtype" / "input_0.npy").string(), "dtype"});
  expect_error_keeps_output({"quantize", onnx, "--scheme", "w4g32", "--method", "gptq", "--calib", onnx}, {3, onnx, "must be a folder"});
}

}  // namespace
}  // namespace edgepack::testing

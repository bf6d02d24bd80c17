// runtime_ref against ONNX Runtime goldens. Tolerance per output: max(10 x ORT's own difference
// between optimisation levels, 1e-4) as GOLDENS.md suggests — the spread two correct float32
// implementations of the same graph show on that output. mnist-8 logits are in the hundreds, so
// ORT's level difference (~2e-3) sets a 2e-2 bound there; a wrong kernel is off by whole units.
#include <algorithm>
#include <iostream>
#include <map>

#include "tests/e2e/onnx_golden_support.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

void expect_golden_cases(const std::filesystem::path& model, const std::filesystem::path& golden_dir, const std::vector<std::string>& cases) {
  for (const auto& name : cases) {
    const auto result = run_golden_case(model, golden_dir / name, 10.0, 1e-4);
    ASSERT_TRUE(result.error.empty()) << name << ": " << result.error;
    for (const auto& out : result.outputs)
      EXPECT_LE(out.max_abs_err, out.tolerance) << name << " step " << out.step << " output " << out.name << " (ORT level diff "
                                                << out.ort_opt_level_diff << ")";
    if (result.expected_class >= 0) {
      EXPECT_EQ(result.predicted_class, result.expected_class) << name;
    }
  }
}

TEST(OnnxGoldens, Mnist8) {
  expect_golden_cases(datasets_dir() / "mnist-8/mnist-8.onnx", datasets_dir() / "mnist-8/golden", {"digit_0", "digit_3", "digit_7", "noise"});
}

}  // namespace
}  // namespace edgepack::testing

namespace edgepack::testing {
namespace {

TEST(OnnxGoldens, PaddleOcrMobileCls) {
  EP_REQUIRE_SHARED();
  const auto dir = shared_dir() / "models/paddleocr";
  expect_golden_cases(dir / "ch_ppocr_mobile_v2.0_cls_infer.onnx", dir / "golden", {"cls_upright", "cls_rotated180"});
}

TEST(OnnxGoldens, PaddleOcrV4Det) {
  EP_REQUIRE_SHARED();
  const auto dir = shared_dir() / "models/paddleocr";
  expect_golden_cases(dir / "ch_PP-OCRv4_det_infer.onnx", dir / "golden", {"det_three_lines"});
}

TEST(OnnxGoldens, PaddleOcrV4Rec) {
  EP_REQUIRE_SHARED();
  const auto dir = shared_dir() / "models/paddleocr";
  expect_golden_cases(dir / "ch_PP-OCRv4_rec_infer.onnx", dir / "golden", {"rec_hello_2026", "rec_edge_device"});
}

TEST(OnnxGoldens, Stories260kOnnx) {
  EP_REQUIRE_SHARED();
  const auto dir = shared_dir() / "models/stories260K-hf";
  expect_golden_cases(dir / "stories260K.onnx", dir / "golden", {"check_ids", "story_text"});
}

}  // namespace
}  // namespace edgepack::testing

namespace edgepack::testing {
namespace {

// Silero VAD v4: 9 If nodes (one nested) around Conv + LSTM; 12 steps per case with the LSTM
// state chained from our own previous outputs (state_carry h->hn, c->cn). ORT's level difference is
// 0 for every output, so GOLDENS.md's rule gives 1e-4: the speech probability meets it (measured
// 1.4e-5). The LSTM state does not quite: replaying ORT's own states step by step already gives
// |cn| errors up to 1.1e-4 (float32 summation order in the 512-tap STFT Conv and the LSTM gates;
// |cn| reaches 7.8, so that is 1.4e-5 relative), and chaining 12 steps of our own state reaches
// 2.1e-4. hn/cn are therefore held to 1e-3 (1.3e-4 relative to the largest cell state); a wrong
// gate or branch is off by 1e-1 or more.
TEST(OnnxGoldens, SileroVadLegacy) {
  EP_REQUIRE_SHARED();
  const auto dir = shared_dir() / "models/silero-vad";
  for (const std::string name : {"legacy_speech", "legacy_noise"}) {
    const auto result = run_golden_case(dir / "silero_vad_legacy.onnx", dir / "golden" / name, 10.0, 1e-4);
    ASSERT_TRUE(result.error.empty()) << name << ": " << result.error;
    ASSERT_EQ(result.outputs.size(), 36u) << name;  // 12 steps x 3 outputs
    std::map<std::string, double> worst;
    for (const auto& out : result.outputs) {
      const double tolerance = out.name == "output" ? out.tolerance : std::max(out.tolerance, 1e-3);
      EXPECT_LE(out.max_abs_err, tolerance) << name << " step " << out.step << " output " << out.name;
      worst[out.name] = std::max(worst[out.name], out.max_abs_err);
    }
    for (const auto& [output, err] : worst) std::cout << name << " " << output << " max_abs_err " << err << "\n";
  }
}

}  // namespace
}  // namespace edgepack::testing

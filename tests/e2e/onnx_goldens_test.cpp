// runtime_ref against ONNX Runtime goldens. Tolerance per output: max(10 x ORT's own difference
// between optimisation levels, 1e-4) as GOLDENS.md suggests — the spread two correct float32
// implementations of the same graph show on that output. mnist-8 logits are in the hundreds, so
// ORT's level difference (~2e-3) sets a 2e-2 bound there; a wrong kernel is off by whole units.
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

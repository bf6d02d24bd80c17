// `edgepack quantize` on real ONNX models (mnist-8, PP-OCRv4 rec/det, mobile cls): the .epk runs
// in runtime_ref straight from its encoded weights, stays close to ONNX Runtime's golden outputs
// and shrinks by the expected ratio. Bounds were measured (docs/quantization.md, "ONNX models")
// and sit a margin below what plain RTN gives; each says why it matters for the model's task.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "formats/model_loader.h"
#include "formats/npy.h"
#include "runtime_ref/interpreter.h"
#include "runtime_ref/metrics.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

struct case_output {
  std::vector<float> ours;
  std::vector<float> golden;
  std::vector<int64_t> shape;
  double cosine = 0;
};

// Runs the golden case `case_dir` (single step, one output) on the model at `model_path`.
case_output run_case(const model& m, const std::filesystem::path& case_dir) {
  case_output result;
  std::ifstream manifest_file(case_dir / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(manifest_file);
  auto interp = interpreter::create(m.g);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return result;
  tensor_map inputs;
  for (const auto& in : manifest["inputs"]) {
    auto t = read_npy((case_dir / in["file"].get<std::string>()).string());
    EXPECT_TRUE(t.ok());
    if (t.ok()) inputs[in["name"].get<std::string>()] = *t;
  }
  auto outputs = interp->run(inputs);
  EXPECT_TRUE(outputs.ok()) << outputs.status().message();
  if (!outputs.ok()) return result;
  const auto& out = manifest["outputs"][0];
  auto golden = read_npy((case_dir / out["file"].get<std::string>()).string());
  EXPECT_TRUE(golden.ok());
  if (!golden.ok()) return result;
  result.golden = *to_float_vector(*golden);
  result.shape = golden->shape;
  result.ours = *to_float_vector(outputs->at(out["name"].get<std::string>()));
  EXPECT_EQ(result.ours.size(), result.golden.size());
  if (result.ours.size() == result.golden.size()) result.cosine = cosine_similarity(result.ours, result.golden);
  return result;
}

struct quantized_model {
  model m;
  nlohmann::json summary;  // quantize --json
  uint64_t input_bytes = 0;
};

quantized_model quantize(const temp_dir& dir, const std::filesystem::path& onnx, const std::string& scheme) {
  quantized_model q;
  const auto out = dir / (onnx.stem().string() + "." + scheme + ".epk");
  const auto r = run_cli({"-q", "quantize", onnx.string(), "--scheme", scheme, "-o", out.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return q;
  q.summary = nlohmann::json::parse(r.out);
  q.input_bytes = std::filesystem::file_size(onnx);
  auto loaded = load_model(out.string(), {});
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  if (!loaded.ok()) return q;
  q.m = std::move(loaded).value();
  size_t quantized = 0;
  for (const auto& [name, w] : q.m.g.weights) quantized += w.is_quantized() ? 1 : 0;
  EXPECT_EQ(quantized, q.summary["tensors"].size());  // the .epk holds the encoded weights themselves
  EXPECT_GT(quantized, 0u);
  return q;
}

// Quantized bytes over float bytes of the selected tensors: 8 or 4 bits per weight plus one f16
// scale per row (w8) or per 32 weights (w4g32, tail groups add a little).
void expect_ratio(const quantized_model& q, double low, double high, const std::string& what) {
  const double before = q.summary["quantized_bytes_before"].get<double>();
  const double after = q.summary["quantized_bytes_after"].get<double>();
  EXPECT_GE(after / before, low) << what;
  EXPECT_LE(after / before, high) << what;
  std::cout << what << ": file " << q.summary["file_bytes"].get<uint64_t>() << " bytes (onnx " << q.input_bytes << "), quantized tensors "
            << q.summary["tensors"].size() << " " << before << " -> " << after << "\n";
}

// CTC greedy decoding of a [1, T, classes] probability map: argmax per step, repeats merged,
// blank (0) dropped.
std::vector<int64_t> ctc_indices(const case_output& c) {
  std::vector<int64_t> text;
  if (c.shape.size() != 3) return text;
  const int64_t steps = c.shape[1], classes = c.shape[2];
  int64_t previous = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t k = argmax(std::span<const float>(c.ours.data() + t * classes, static_cast<size_t>(classes)));
    if (k != 0 && k != previous) text.push_back(k);
    previous = k;
  }
  return text;
}

std::vector<int64_t> golden_ctc_indices(case_output c) {
  c.ours = c.golden;
  return ctc_indices(c);
}

TEST(OnnxQuantize, Mnist8KeepsItsPredictions) {
  const temp_dir dir;
  const auto onnx = datasets_dir() / "mnist-8/mnist-8.onnx";
  for (const std::string scheme : {"w8", "w4g32"}) {
    const auto q = quantize(dir, onnx, scheme);
    ASSERT_FALSE(q.summary.is_null());
    for (const std::string name : {"digit_0", "digit_3", "digit_7", "noise"}) {
      const auto c = run_case(q.m, datasets_dir() / "mnist-8/golden" / name);
      std::cout << "mnist-8 " << scheme << " " << name << " logits cosine " << c.cosine << "\n";
      EXPECT_EQ(argmax(c.ours), argmax(c.golden)) << scheme << " " << name;
      // Measured: w8 >= 0.99997; w4g32 >= 0.9987 on digits, 0.992 on noise.
      EXPECT_GE(c.cosine, scheme == "w8" ? 0.9999 : 0.985) << scheme << " " << name;
    }
    expect_ratio(q, scheme == "w8" ? 0.25 : 0.125, scheme == "w8" ? 0.27 : 0.16, "mnist-8 " + scheme);
  }
}

// The .epk runs through the CLI as well: `edgepack run out.epk --input Input3=...` writes the
// logits, which match the in-process run.
TEST(OnnxQuantize, Mnist8RunsFromTheEpkThroughTheCli) {
  const temp_dir dir;
  const auto epk = dir / "mnist.epk";
  const auto onnx = datasets_dir() / "mnist-8/mnist-8.onnx";
  ASSERT_EQ(run_cli({"-q", "quantize", onnx.string(), "--scheme", "w4g32", "-o", epk.string()}).exit_code, 0);
  const auto case_dir = datasets_dir() / "mnist-8/golden/digit_7";
  const auto r = run_cli({"-q", "run", epk.string(), "--input", "Input3=" + (case_dir / "input_0.npy").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto logits = read_npy((dir / "out" / "Plus214_Output_0.npy").string());
  ASSERT_TRUE(logits.ok()) << logits.status().message();
  auto golden = read_npy((case_dir / "output_0.npy").string());
  ASSERT_TRUE(golden.ok());
  EXPECT_EQ(argmax(*to_float_vector(*logits)), argmax(*to_float_vector(*golden)));
  const auto inspect = run_cli({"inspect", epk.string()});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  // Parameter87 is Conv2's weight [16, 8, 5, 5]; Conv1's [8, 1, 5, 5] is below --min-elements and
  // Parameter193 reaches its MatMul through a Reshape, so both stay float.
  EXPECT_NE(inspect.out.find("w4g32 (cols: dims 1-3)"), std::string::npos) << inspect.out;
  const auto json = run_cli({"inspect", "--json", epk.string()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json listing = nlohmann::json::parse(json.out);
  for (const auto& t : listing["tensors"]) {
    if (t["name"] == "Parameter87") {
      EXPECT_EQ(t["encoding"], "w4g32");
      EXPECT_EQ(t["col_axis"], 1);
      EXPECT_EQ(t["view"], "cols: dims 1-3");
    } else {
      EXPECT_FALSE(t.contains("col_axis")) << t.dump();
    }
  }
}

TEST(OnnxQuantize, PaddleOcrV4RecKeepsItsTextAtW8) {
  EP_REQUIRE_SHARED();
  const temp_dir dir;
  const auto models = shared_dir() / "models/paddleocr";
  for (const std::string scheme : {"w8", "w4g32"}) {
    const auto q = quantize(dir, models / "ch_PP-OCRv4_rec_infer.onnx", scheme);
    ASSERT_FALSE(q.summary.is_null());
    for (const std::string name : {"rec_hello_2026", "rec_edge_device"}) {
      const auto c = run_case(q.m, models / "golden" / name);
      const bool same_text = ctc_indices(c) == golden_ctc_indices(c);
      std::cout << "rec " << scheme << " " << name << " softmax cosine " << c.cosine << " same text " << same_text << "\n";
      if (scheme == "w8") {
        // Measured 0.99985 / 0.99974 (0.9968 / 0.967 with --min-elements 0). At w4g32 plain RTN
        // loses the text (cosine ~0.7), as ONNX Runtime does: nothing is asserted there.
        EXPECT_TRUE(same_text) << name;
        EXPECT_GE(c.cosine, 0.998) << name;
      }
    }
    expect_ratio(q, scheme == "w8" ? 0.25 : 0.125, scheme == "w8" ? 0.27 : 0.16, "rec " + scheme);
  }
}

TEST(OnnxQuantize, PaddleOcrV4DetKeepsItsTextMap) {
  EP_REQUIRE_SHARED();
  const temp_dir dir;
  const auto models = shared_dir() / "models/paddleocr";
  for (const std::string scheme : {"w8", "w4g32"}) {
    const auto q = quantize(dir, models / "ch_PP-OCRv4_det_infer.onnx", scheme);
    ASSERT_FALSE(q.summary.is_null());
    const auto c = run_case(q.m, models / "golden/det_three_lines");
    size_t agree = 0;
    for (size_t i = 0; i < c.ours.size(); ++i) agree += (c.ours[i] > 0.3f) == (c.golden[i] > 0.3f) ? 1 : 0;
    const double agreement = c.ours.empty() ? 0.0 : static_cast<double>(agree) / static_cast<double>(c.ours.size());
    std::cout << "det " << scheme << " probability cosine " << c.cosine << " binary map agreement " << agreement << "\n";
    // Measured: w8 agreement 0.987, cosine 0.953; w4g32 0.990, 0.963 (but 0.959 / 0.815 with
    // --min-elements 0: this map is sensitive, so w4g32 is held to ONNX Runtime's RTN range).
    EXPECT_GE(agreement, scheme == "w8" ? 0.98 : 0.95);
    EXPECT_GE(c.cosine, scheme == "w8" ? 0.93 : 0.9);
    expect_ratio(q, scheme == "w8" ? 0.25 : 0.125, scheme == "w8" ? 0.27 : 0.16, "det " + scheme);
  }
}

TEST(OnnxQuantize, PaddleOcrMobileClsKeepsItsClass) {
  EP_REQUIRE_SHARED();
  const temp_dir dir;
  const auto models = shared_dir() / "models/paddleocr";
  for (const std::string scheme : {"w8", "w4g32"}) {
    const auto q = quantize(dir, models / "ch_ppocr_mobile_v2.0_cls_infer.onnx", scheme);
    ASSERT_FALSE(q.summary.is_null());
    for (const std::string name : {"cls_upright", "cls_rotated180"}) {
      const auto c = run_case(q.m, models / "golden" / name);
      std::cout << "cls " << scheme << " " << name << " cosine " << c.cosine << "\n";
      EXPECT_EQ(argmax(c.ours), argmax(c.golden)) << scheme << " " << name;
      EXPECT_GE(c.cosine, 0.9999) << scheme << " " << name;  // measured 1.000000 at both
    }
    expect_ratio(q, scheme == "w8" ? 0.25 : 0.125, scheme == "w8" ? 0.27 : 0.16, "cls " + scheme);
  }
}

// Bad input for ONNX quantize: nothing quantizable, --include on a 1-D tensor.
TEST(OnnxQuantize, RejectsWhatCannotBeQuantized) {
  const temp_dir dir;
  const auto onnx = (datasets_dir() / "mnist-8/mnist-8.onnx").string();
  auto r = run_cli({"-q", "quantize", onnx, "-o", (dir / "a.epk").string(), "--min-elements", "100000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("edgepack: error: " + onnx + ": no tensor selected for quantization"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at least 100000 elements"), std::string::npos) << r.err;
  r = run_cli({"-q", "quantize", onnx, "-o", (dir / "b.epk").string(), "--exclude", "."});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no tensor selected for quantization"), std::string::npos) << r.err;
  // Parameter6 is Conv1's bias [8, 1, 1], added by an Add node.
  r = run_cli({"-q", "quantize", onnx, "-o", (dir / "c.epk").string(), "--include", "^Parameter6$"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--include matches 'Parameter6' (shape rank 3), which no MatMul, Gemm, Conv"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "a.epk") || std::filesystem::exists(dir / "b.epk") || std::filesystem::exists(dir / "c.epk"));
}

}  // namespace
}  // namespace edgepack::testing

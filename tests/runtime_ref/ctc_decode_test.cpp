// CTC greedy decoding: hand-made score matrices, the keys file, and ONNX Runtime's golden outputs
// of PP-OCRv4 rec decoded to the manifests' text.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/npy.h"
#include "runtime_ref/ctc_decode.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

// One-hot-ish rows: each time step puts 0.9 on `classes_per_step[t]` and 0.1/(C-1) elsewhere.
std::vector<float> scores_for(const std::vector<int64_t>& classes_per_step, int64_t classes) {
  std::vector<float> s;
  for (int64_t c : classes_per_step)
    for (int64_t k = 0; k < classes; ++k) s.push_back(k == c ? 0.9f : 0.1f / static_cast<float>(classes - 1));
  return s;
}

TEST(CtcDecode, CollapsesRepeatsDropsBlankAndMapsTheLastClassToSpace) {
  const ctc_charset charset = make_ctc_charset({"a", "b", "c"});  // 0 blank, 1 a, 2 b, 3 c, 4 space
  ASSERT_EQ(charset.classes(), 5);
  // a a | blank | a b b space c c blank  ->  "a" "a" "b" " " "c"
  const std::vector<int64_t> steps = {1, 1, 0, 1, 2, 2, 4, 3, 3, 0};
  const auto scores = scores_for(steps, 5);
  EXPECT_EQ(ctc_greedy_classes(scores, 10, 5), (std::vector<int64_t>{1, 1, 2, 4, 3}));
  auto text = ctc_greedy_text(scores, 10, 5, charset);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "aab c");
}

TEST(CtcDecode, AllBlankIsEmptyAndLogitsWorkLikeProbabilities) {
  const ctc_charset charset = make_ctc_charset({"x"});
  const std::vector<float> blank = {5, -1, -2, 3, 1, 0};  // 2 steps x 3 classes, argmax 0 both times
  EXPECT_EQ(*ctc_greedy_text(blank, 2, 3, charset), "");
  const std::vector<float> logits = {-3, 7, 1, -3, 7, 1, 0, -1, 9};  // x x space
  EXPECT_EQ(*ctc_greedy_text(logits, 3, 3, charset), "x ");
}

TEST(CtcDecode, ClassCountMustMatchTheKeys) {
  const ctc_charset charset = make_ctc_charset({"a", "b"});  // 4 classes
  const auto scores = scores_for({1, 2}, 5);
  auto text = ctc_greedy_text(scores, 2, 5, charset);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), error_code::bad_input);
  EXPECT_NE(text.status().message().find("5 classes"), std::string::npos) << text.status().message();
  EXPECT_NE(text.status().message().find("give 4"), std::string::npos) << text.status().message();
}

TEST(CtcDecode, KeysFileLinesAndErrors) {
  temp_dir dir;
  write_file(dir / "keys.txt", "a\r\n\xE4\xB8\x80\nb\n");  // CRLF, a CJK character, final newline
  auto charset = read_ctc_keys((dir / "keys.txt").string());
  ASSERT_TRUE(charset.ok()) << charset.status().message();
  EXPECT_EQ(charset->symbols, (std::vector<std::string>{"", "a", "\xE4\xB8\x80", "b", " "}));
  write_file(dir / "bad.txt", "a\n\xFF\n");
  auto bad = read_ctc_keys((dir / "bad.txt").string());
  EXPECT_EQ(bad.status().code(), error_code::bad_input);
  EXPECT_NE(bad.status().message().find("bad.txt"), std::string::npos);
  auto missing = read_ctc_keys((dir / "none.txt").string());
  EXPECT_EQ(missing.status().code(), error_code::bad_input);
  write_file(dir / "empty.txt", "");
  EXPECT_EQ(read_ctc_keys((dir / "empty.txt").string()).status().code(), error_code::bad_input);
}

TEST(CtcDecode, GoldenRecOutputsDecodeToTheManifestText) {
  EP_REQUIRE_SHARED();
  const auto ocr = shared_dir() / "models" / "paddleocr";
  auto charset = read_ctc_keys((ocr / "ppocr_keys_v1.txt").string());
  ASSERT_TRUE(charset.ok()) << charset.status().message();
  EXPECT_EQ(charset->classes(), 6625);
  for (const char* name : {"rec_hello_2026", "rec_edge_device"}) {
    const auto dir = ocr / "golden" / name;
    const auto manifest = nlohmann::json::parse(read_file(dir / "manifest.json"));
    auto out = read_npy((dir / "output_0.npy").string());
    ASSERT_TRUE(out.ok()) << out.status().message();
    ASSERT_EQ(out->shape.size(), 3u);
    auto values = to_float_vector(*out);
    ASSERT_TRUE(values.ok());
    auto text = ctc_greedy_text(*values, out->shape[1], out->shape[2], *charset);
    ASSERT_TRUE(text.ok()) << text.status().message();
    EXPECT_EQ(*text, manifest["decoded_text"].get<std::string>()) << name;
    EXPECT_EQ(*text, manifest["expected_text"].get<std::string>()) << name;
  }
}

}  // namespace
}  // namespace edgepack::testing

// Calibration windows: the documented cutting rule (BOS first, seeded starts, sequential order),
// reproducibility, and the errors for short text and malformed window files.
#include "calibration/calib_windows.h"

#include <random>

#include "calibration/tokenizer.h"
#include "formats/model_loader.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

vocabulary vocab() {
  auto m = load_model((datasets_dir() / "stories260K/stories260K.bin").string(), {});
  EXPECT_TRUE(m.ok());
  return m->vocab;
}

const std::string text =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. "
    "She wanted to play with it, but it was too high. Lily asked her mom for help, and her mom gave her a stick.";

TEST(CalibWindows, SequentialWindowsFollowTheStreamWithBosFirst) {
  const vocabulary v = vocab();
  const std::vector<int64_t> stream = tokenizer(v).encode(text, true, false);
  calib_window_options o;
  o.samples = 100;
  o.seq = 10;
  o.sampling = calib_sampling::sequential;
  auto w = make_calibration_windows(text, v, o, "t");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->stream_tokens, static_cast<int64_t>(stream.size()));
  ASSERT_EQ(w->windows.size(), stream.size() / 10);  // as many whole windows as the text has
  for (size_t k = 0; k < w->windows.size(); ++k) {
    ASSERT_EQ(w->windows[k].size(), 10u);
    EXPECT_EQ(w->windows[k][0], 1);
    for (size_t i = 1; i < 10; ++i) EXPECT_EQ(w->windows[k][i], stream[k * 10 + i]);
  }
}

TEST(CalibWindows, RandomStartsAreTheDocumentedMt19937Draws) {
  const vocabulary v = vocab();
  const std::vector<int64_t> stream = tokenizer(v).encode(text, true, false);
  calib_window_options o;
  o.samples = 7;
  o.seq = 12;
  o.seed = 42;
  auto a = make_calibration_windows(text, v, o, "t");
  auto b = make_calibration_windows(text, v, o, "t");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->windows, b->windows);
  std::mt19937_64 rng(42);
  for (const auto& w : a->windows) {
    const auto start = static_cast<size_t>(rng() % (stream.size() - 12 + 1));
    EXPECT_EQ(w[0], 1);
    for (size_t i = 1; i < 12; ++i) EXPECT_EQ(w[i], stream[start + i]);
  }
  o.seed = 43;
  auto c = make_calibration_windows(text, v, o, "t");
  EXPECT_NE(a->windows, c->windows);
}

TEST(CalibWindows, Errors) {
  const vocabulary v = vocab();
  calib_window_options o;
  o.seq = 1000;
  auto s = make_calibration_windows(text, v, o, "short.txt");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), error_code::bad_input);
  EXPECT_NE(s.status().message().find("short.txt: the calibration text gives"), std::string::npos) << s.status().message();
  auto e = make_calibration_windows("", v, {}, "empty.txt");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("empty.txt: the calibration text is empty"), std::string::npos);
  o.seq = 8;
  o.samples = 0;
  EXPECT_EQ(make_calibration_windows(text, v, o, "t").status().code(), error_code::bad_usage);
}

TEST(CalibWindows, JsonFile) {
  temp_dir dir;
  const auto path = (dir / "w.json").string();
  write_file(path, R"({"seed": 0, "windows": [[1, 5, 6], [1, 7, 8]]})");
  auto w = read_calibration_windows_json(path, 512);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->windows, (std::vector<std::vector<int64_t>>{{1, 5, 6}, {1, 7, 8}}));
  for (const char* bad : {"{}", R"({"windows": []})", R"({"windows": [[1, -1]]})", R"({"windows": [[1, 2.5]]})", R"({"windows": [[]]})", "nope"}) {
    write_file(path, bad);
    auto r = read_calibration_windows_json(path, 512);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), error_code::bad_input) << bad;
    EXPECT_EQ(r.status().message().rfind(path, 0), 0u) << r.status().message();
  }
}

TEST(CalibWindows, ReferenceWindowsFileReads) {
  EP_REQUIRE_SHARED();
  auto w = read_calibration_windows_json((shared_dir() / "peers/stories260K-calib-windows.json").string(), 512);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->windows.size(), 128u);
  for (const auto& win : w->windows) {
    EXPECT_EQ(win.size(), 256u);
    EXPECT_EQ(win[0], 1);
  }
}

}  // namespace
}  // namespace edgepack::testing

// `edgepack report` on a real quantized model (stories260K, w4g32 RTN): the JSON agrees with what
// quantize and inspect record; errors write nothing; and the HTML page, rendered by headless
// Chromium (Debian's `chromium`), is a non-blank screenshot with the chart colours, whose data-key
// numbers in the DOM equal the JSON values through the shared formatter. Without chromium the
// browser test skips, or fails when EDGEPACK_REQUIRE_SHARED=1 (CI).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "report/format.h"
#include "tests/e2e/cli_test_util.h"
#include "tests/e2e/png_image.h"

namespace edgepack::testing {
namespace {

namespace fs = std::filesystem;

std::string chromium_missing() { return std::system("command -v chromium >/dev/null 2>&1") == 0 ? "" : "chromium is not on PATH"; }

#define EP_REQUIRE_CHROMIUM()                                                                            \
  do {                                                                                                   \
    const std::string why = chromium_missing();                                                          \
    if (!why.empty()) {                                                                                  \
      const char* require = std::getenv("EDGEPACK_REQUIRE_SHARED");                                      \
      if (require != nullptr && std::string(require) == "1") FAIL() << "chromium is required: " << why; \
      GTEST_SKIP() << why << " (scripts/install_deps.sh installs Debian's chromium)";                   \
    }                                                                                                    \
  } while (0)

std::string shell_quoted(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Headless Chromium on a local file: `mode` is "--screenshot=PNG" or "--dump-dom" (DOM to `capture`).
int chromium(const temp_dir& dir, const fs::path& html, const std::string& mode, const fs::path& capture) {
  const std::string command = "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir=" +
                              shell_quoted((dir / "profile").string()) + " --window-size=1200,1600 " + shell_quoted(mode) + " " +
                              shell_quoted("file://" + fs::absolute(html).string()) + " >" + shell_quoted(capture.string()) + " 2>" + shell_quoted((dir / "chromium.err").string());
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

class ReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto q = run_cli({"-q", "quantize", bundled_model(), "--scheme", "w4g32", "-o", epk_.string(), "--json"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    const nlohmann::json stats = nlohmann::json::parse(q.out);
    for (const auto& t : stats["tensors"]) recorded_[t["name"].get<std::string>()] = t["relative_error"].get<double>();
    ASSERT_FALSE(recorded_.empty());
  }
  nlohmann::json make_report(const std::string& name) {
    const auto r = run_cli({"-q", "report", epk_.string(), "--base", bundled_model(), "-o", (dir_ / name).string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    return name.ends_with(".json") ? nlohmann::json::parse(read_file(dir_ / name)) : nlohmann::json();
  }
  temp_dir dir_;
  fs::path epk_ = dir_ / "q.epk";
  std::map<std::string, double> recorded_;  // quantize's own ||W - Q|| / ||W|| per tensor
};

TEST_F(ReportCli, JsonAgreesWithQuantizeAndInspect) {
  const nlohmann::json r = make_report("r.json");
  EXPECT_EQ(r["edgepack_report"], 1);
  EXPECT_EQ(r["input"]["format"], "llama2c");
  EXPECT_EQ(r["input"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(r["output"]["bytes"], fs::file_size(epk_));
  const auto inspect = nlohmann::json::parse(run_cli({"-q", "inspect", epk_.string(), "--json"}).out);
  std::map<std::string, uint64_t> inspected;
  for (const auto& t : inspect["tensors"])
    if (t["parameter"].get<bool>()) inspected[t["name"].get<std::string>()] = t["bytes"].get<uint64_t>();
  ASSERT_EQ(r["tensors"].size(), inspected.size());
  uint64_t after = 0, before = 0;
  size_t with_error = 0;
  for (const auto& t : r["tensors"]) {
    const std::string name = t["name"];
    EXPECT_EQ(t["bytes_after"], inspected[name]) << name;
    after += t["bytes_after"].get<uint64_t>();
    before += t["bytes_before"].get<uint64_t>();
    const auto it = recorded_.find(name);
    if (it != recorded_.end()) {
      // Two computations of one quantity: the quantize pass's and the report's decode-and-compare.
      EXPECT_NEAR(t["rel_error"].get<double>(), it->second, 1e-6 * it->second) << name;
      EXPECT_EQ(t["encoding"], "w4g32");
      ++with_error;
    } else {
      EXPECT_EQ(t["rel_error"], 0.0) << name << " stays float, decodes to the base exactly";
    }
    if (name == "model.layers.0.self_attn.q_proj.weight") {
      EXPECT_DOUBLE_EQ(t["bits_per_weight"].get<double>(), 4.5);  // 64 columns: 4-bit codes + f16 scale per 32
      EXPECT_EQ(t["kind"], "attention");
      EXPECT_EQ(t["bytes_before"], 64 * 64 * 4);
    }
    if (name == "model.embed_tokens.weight") {
      EXPECT_EQ(t["kind"], "embedding");
    }
  }
  EXPECT_EQ(with_error, recorded_.size());
  EXPECT_EQ(r["totals"]["bytes_after"], after);
  EXPECT_EQ(r["totals"]["bytes_before"], before);
  EXPECT_EQ(r["totals"]["bytes_before_basis"], "base");
  EXPECT_EQ(r["totals"]["bits_per_weight_before"], 32.0) << "stories260K.bin is float32";
  EXPECT_GT(r["totals"]["compression_ratio"].get<double>(), 1.0);
  // Without -o: Markdown on stdout, or the same JSON with --json.
  const auto md = run_cli({"-q", "report", epk_.string(), "--base", bundled_model()});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| bytes after | " + report::format_value(r["totals"]["bytes_after"]) + " |"), std::string::npos) << md.out;
  const auto js = run_cli({"-q", "report", epk_.string(), "--base", bundled_model(), "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  EXPECT_EQ(nlohmann::json::parse(js.out)["tensors"], r["tensors"]);
  // Without --base: the sizes, and the errors quantize recorded in the file (null for the rest).
  const auto bare_run = run_cli({"-q", "report", epk_.string(), "--json"});
  ASSERT_EQ(bare_run.exit_code, 0) << bare_run.err;
  const auto bare = nlohmann::json::parse(bare_run.out);
  EXPECT_EQ(bare["totals"]["bytes_after"], after);
  EXPECT_EQ(bare["totals"]["bytes_before_basis"], "dense");
  for (const auto& t : bare["tensors"]) {
    const auto it = recorded_.find(t["name"].get<std::string>());
    if (it == recorded_.end()) EXPECT_TRUE(t["rel_error"].is_null()) << t["name"];
    else EXPECT_EQ(t["rel_error"].get<double>(), it->second) << t["name"];
  }
}

TEST_F(ReportCli, ErrorsExitWithTheDocumentedCodeAndWriteNothing) {
  expect_error({"report", epk_.string(), "-o", (dir_ / "r.pdf").string()}, {2, (dir_ / "r.pdf").string(), "unknown report format"});
  expect_error({"report", bundled_model(), "-o", (dir_ / "r.json").string()}, {3, bundled_model(), ""});
  std::string bytes = read_file(epk_);
  bytes[bytes.size() / 2] ^= 0x5a;  // a flipped bit in a blob: checksum mismatch
  write_file(dir_ / "bad.epk", bytes);
  expect_error({"report", (dir_ / "bad.epk").string(), "-o", (dir_ / "r.html").string()}, {3, (dir_ / "bad.epk").string(), ""});
  expect_error({"report", epk_.string(), "--base", (dir_ / "bad.epk").string(), "-o", (dir_ / "r.md").string()}, {3, (dir_ / "bad.epk").string(), ""});
  // An existing report is left as it was when the command fails.
  write_file(dir_ / "keep.html", "previous report\n");
  expect_error({"report", (dir_ / "bad.epk").string(), "-o", (dir_ / "keep.html").string()}, {3, (dir_ / "bad.epk").string(), ""});
  EXPECT_EQ(read_file(dir_ / "keep.html"), "previous report\n");
  fs::remove(dir_ / "keep.html");
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_.path())) left.insert(e.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{"q.epk", "bad.epk"}));
}

TEST_F(ReportCli, HtmlRendersInChromiumWithTheJsonNumbers) {
  EP_REQUIRE_CHROMIUM();
  const nlohmann::json r = make_report("r.json");
  make_report("r.html");
  // The screenshot: decodes, is mostly not background, shows many colours and the chart colours.
  ASSERT_EQ(chromium(dir_, dir_ / "r.html", "--screenshot=" + (dir_ / "shot.png").string(), dir_ / "shot.out"), 0) << read_file(dir_ / "chromium.err");
  rgb_image img;
  ASSERT_EQ(decode_png(read_file(dir_ / "shot.png"), img), "");
  EXPECT_EQ(img.width, 1200u);
  std::set<uint32_t> colours;
  std::map<uint32_t, size_t> counts;
  size_t ink = 0;
  for (size_t p = 0; p < size_t(img.width) * img.height; ++p) {
    const uint32_t c = (uint32_t(img.rgb[3 * p]) << 16) | (uint32_t(img.rgb[3 * p + 1]) << 8) | img.rgb[3 * p + 2];
    colours.insert(c);
    ++counts[c];
    ink += c != 0xf6f7f9 && c != 0xffffff;  // page and card backgrounds
  }
  const double ink_fraction = double(ink) / double(size_t(img.width) * img.height);
  EXPECT_GT(ink_fraction, 0.03) << "the page looks blank";
  EXPECT_GT(colours.size(), 50u);
  for (uint32_t chart : {0xf28e2bu /*attention*/, 0x59a14fu /*mlp*/, 0x4e79a7u /*embedding*/})
    EXPECT_GT(counts[chart], 200u) << std::hex << chart << " (a chart colour) barely appears";
  // The DOM: every data-key element shows the JSON value through the shared formatter.
  ASSERT_EQ(chromium(dir_, dir_ / "r.html", "--dump-dom", dir_ / "dom.html"), 0) << read_file(dir_ / "chromium.err");
  const std::string dom = read_file(dir_ / "dom.html");
  const std::regex keyed("<span data-key=\"([^\"]+)\">([^<]*)</span>");
  std::set<std::string> keys;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), keyed); it != std::sregex_iterator(); ++it) {
    keys.insert((*it)[1]);
    EXPECT_EQ((*it)[2].str(), report::format_value(report::value_at(r, (*it)[1]))) << (*it)[1];
  }
  for (const char* k : {"totals.bytes_before", "totals.bytes_after", "totals.compression_ratio", "totals.bits_per_weight_after", "tensors.0.rel_error"})
    EXPECT_TRUE(keys.count(k)) << k << " is not shown";
  EXPECT_GE(keys.size(), 5 * r["tensors"].size());
}

}  // namespace
}  // namespace edgepack::testing

// Markdown and HTML renderers: hostile strings stay text, every optional section may be missing,
// the numbers shown are format_value of the JSON, quality thresholds give pass/fail.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "report/format.h"
#include "report/report.h"

namespace edgepack::report {
namespace {

using nlohmann::json;

const std::string hostile = "<script>alert(1)</script>|x\n# `y` \"q\" 'a' & [l](javascript:z) \x01";

json full_report() {
  return {{"edgepack_report", 1},
          {"tool", "edgepack 0.1.0"},
          {"input", {{"path", "in<b>.bin"}, {"format", "llama2c"}, {"sha256", "ab"}, {"bytes", 1200000}}},
          {"output", {{"path", "o.epk"}, {"bytes", 300000}}},
          {"recipe", {{"passes", json::array({{{"name", "quantize"}, {"note", "```</pre><script>x</script>"}}})}}},
          {"recipe_sha256", "cd"},
          {"totals",
           {{"weights", 1000},
            {"bytes_before", 4000},
            {"bytes_after", 600},
            {"bits_per_weight_before", 32.0},
            {"bits_per_weight_after", 4.8},
            {"compression_ratio", 4000.0 / 600.0}}},
          {"by_kind", json::array({{{"kind", "attention"}, {"weights", 600}, {"bytes_before", 2400}, {"bytes_after", 340}},
                                   {{"kind", "other"}, {"weights", 400}, {"bytes_before", 1600}, {"bytes_after", 260}}})},
          {"tensors", json::array({{{"name", hostile},
                                    {"kind", "attention"},
                                    {"shape", {20, 30}},
                                    {"encoding", "w4g32"},
                                    {"sparsity", 0.0},
                                    {"layout", "dense"},
                                    {"bytes_before", 2400},
                                    {"bytes_after", 340},
                                    {"bits_per_weight", 4.5333},
                                    {"rel_error", 0.0871}},
                                   {{"name", "bad\xff\xfe utf8"},
                                    {"kind", "other"},
                                    {"shape", {400}},
                                    {"encoding", "F32"},
                                    {"sparsity", 0.25},
                                    {"layout", "dense"},
                                    {"bytes_before", 1600},
                                    {"bytes_after", 260},
                                    {"bits_per_weight", 5.2},
                                    {"rel_error", nullptr}}})},
          {"passes", json::array({{{"name", "quantize"}, {"summary", "w4g32 <rtn>"}, {"seconds", 1.5}, {"peak_rss_bytes", 123456789}, {"stats", json::object()}}})},
          {"quality",
           {{"metrics", {{"kld", 0.0936}, {"ppl", 6.2467}, {"top1", 0.91}}},
            {"thresholds", {{"max_kld", 0.05}, {"min_top1", 0.9}, {"max_nmse", 0.1}}},
            {"passed", false}}}};
}

TEST(ReportRender, HtmlEscapesHostileStrings) {
  const std::string html = render(full_report(), report_format::html);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("in<b>"), std::string::npos);
  EXPECT_NE(html.find("in&lt;b&gt;.bin"), std::string::npos);
  EXPECT_NE(html.find("```&lt;/pre&gt;&lt;script&gt;x"), std::string::npos) << "the recipe cannot close its <pre>";
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;q&quot; &#39;a&#39; &amp;"), std::string::npos);
  EXPECT_NE(html.find("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8"), std::string::npos) << "invalid UTF-8 becomes U+FFFD";
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html.find("\xff"), std::string::npos);
  // Self-contained: no scripts, no external resources.
  EXPECT_EQ(html.find("http://www.w3.org/2000/svg"), html.find("http"));
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(ReportRender, MarkdownEscapesHostileStrings) {
  const std::string md = render(full_report(), report_format::markdown);
  // Outside the recipe's code fence (where text is literal) no raw HTML survives.
  EXPECT_EQ(md.substr(0, md.find("## Recipe")).find("<script"), std::string::npos);
  EXPECT_EQ(md.find("in<b>"), std::string::npos);
  EXPECT_NE(md.find("&lt;script&gt;alert\\(1\\)&lt;/script&gt;\\|x # \\`y\\`"), std::string::npos) << md;
  // The tensor row is one line with the right number of cells (the '|' and newline are defused).
  const size_t row = md.find("&lt;script&gt;");
  const std::string line = md.substr(md.rfind('\n', row) + 1, md.find('\n', row) - md.rfind('\n', row) - 1);
  size_t pipes = 0;
  for (size_t i = 0; i < line.size(); ++i) pipes += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
  EXPECT_EQ(pipes, 11u) << line;
  // The recipe fence is longer than the backtick run inside it.
  EXPECT_NE(md.find("````json\n"), std::string::npos);
  EXPECT_NE(md.find("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8"), std::string::npos);
}

TEST(ReportRender, QualityThresholdsGivePassFail) {
  const std::string md = render(full_report(), report_format::markdown);
  EXPECT_NE(md.find("| kld | 0.0936 | <= 0.05 | **FAIL** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| top1 | 0.91 | >= 0.9 | pass |"), std::string::npos);
  EXPECT_NE(md.find("| nmse | n/a | <= 0.1 |  |"), std::string::npos) << "a threshold without its metric is shown, undecided";
  EXPECT_NE(md.find("Result: **FAIL**"), std::string::npos);
  const std::string html = render(full_report(), report_format::html);
  EXPECT_NE(html.find(">FAIL<"), std::string::npos);
  EXPECT_NE(html.find("card fail"), std::string::npos);
}

TEST(ReportRender, EverySectionIsOptional) {
  for (const json& r : {json::object(), json{{"edgepack_report", 1}}, json{{"tensors", json::array()}}, json{{"quality", json::object()}},
                        json{{"totals", "not an object"}, {"by_kind", 3}, {"passes", json::array({1, "x"})}, {"quality", {{"metrics", 5}}}},
                        json{{"tensors", json::array({json::object(), 7})}, {"by_kind", json::array({json::object()})}}}) {
    const std::string md = render(r, report_format::markdown);
    const std::string html = render(r, report_format::html);
    EXPECT_NE(md.find("# edgepack compression report"), std::string::npos);
    EXPECT_NE(html.find("</html>"), std::string::npos);
    EXPECT_EQ(md.find("## Recipe"), std::string::npos);
    EXPECT_EQ(json::parse(render(r, report_format::json)), r);
  }
  const std::string no_error = render(json{{"tensors", json::array({{{"name", "a"}, {"rel_error", nullptr}}})}}, report_format::html);
  EXPECT_NE(no_error.find("No per-tensor error"), std::string::npos);
}

// Every data-key element shows exactly format_value(value_at(report, key)); the key numbers are marked.
TEST(ReportRender, HtmlDataKeysMatchTheJson) {
  const json r = full_report();
  const std::string html = render(r, report_format::html);
  const std::regex keyed("<span data-key=\"([^\"]+)\">([^<]*)</span>");
  std::set<std::string> keys;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), keyed); it != std::sregex_iterator(); ++it) {
    const std::string key = (*it)[1];
    keys.insert(key);
    EXPECT_EQ((*it)[2].str(), format_value(value_at(r, key))) << key;
    EXPECT_FALSE(value_at(r, key).is_null() && key != "tensors.1.rel_error") << key;
  }
  for (const char* k : {"totals.bytes_before", "totals.bytes_after", "totals.compression_ratio", "totals.bits_per_weight_after", "quality.metrics.kld",
                        "quality.passed", "tensors.0.rel_error", "tensors.1.bytes_after", "by_kind.1.bytes_after", "passes.0.peak_rss_bytes"})
    EXPECT_TRUE(keys.count(k)) << k;
  EXPECT_NE(html.find(">6.667</span>"), std::string::npos) << "compression ratio 4000/600";
  EXPECT_NE(html.find(">123,456,789</span>"), std::string::npos);
}

TEST(ReportRender, ChartsDrawOneBarPerErrorAndOneSegmentPerKind) {
  const std::string html = render(full_report(), report_format::html);
  EXPECT_NE(html.find("aria-label=\"relative error per tensor\""), std::string::npos);
  // One error bar (the other tensor has no error), full width as it is the largest: 620 px.
  EXPECT_NE(html.find("width=\"620.0\" height=\"12.0\" fill=\"#f28e2b\""), std::string::npos);
  // Size chart on one scale: before attention segment = 840 * 2400 / 4000 = 504 px; after = 840 * 340 / 4000 = 71.4 px.
  EXPECT_NE(html.find("width=\"504.0\" height=\"34.0\" fill=\"#f28e2b\""), std::string::npos);
  EXPECT_NE(html.find("width=\"71.4\" height=\"34.0\" fill=\"#f28e2b\""), std::string::npos);
}

TEST(ReportRender, SameReportSameBytes) {
  EXPECT_EQ(render(full_report(), report_format::html), render(full_report(), report_format::html));
  EXPECT_EQ(render(full_report(), report_format::markdown), render(full_report(), report_format::markdown));
}

}  // namespace
}  // namespace edgepack::report

// size_sections: per-tensor bytes, bits per weight and relative error against hand-computed values;
// totals and by-kind sums; the kind classifier; format_value and value_at; output format by extension.
#include <gtest/gtest.h>

#include <cmath>

#include "core/dtype.h"
#include "passes/quantize_rtn.h"
#include "passes/scheme.h"
#include "report/format.h"
#include "report/report.h"
#include "report/tensor_kind.h"
#include "tests/test_support.h"

namespace edgepack::report {
namespace {

tensor ramp(std::vector<int64_t> shape, float scale) {
  tensor t = tensor::allocate(dtype::f32, std::move(shape));
  float* v = t.mutable_data_as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = scale * static_cast<float>((i * 37) % 23 - 11);
  return t;
}

// Before: two f32 matrices and a norm vector. After: q_proj quantized w4g32 by the RTN pass code,
// the MLP matrix converted to f16, the norm unchanged.
struct fixture {
  model before, after;
  fixture() {
    before.g.weights["model.layers.0.self_attn.q_proj.weight"] = ramp({8, 64}, 0.01f);
    before.g.weights["model.layers.0.mlp.down_proj.weight"] = ramp({4, 6}, 0.5f);
    before.g.weights["model.norm.weight"] = ramp({8}, 1.0f);
    before.g.weights["rope.cos_cache"] = ramp({4, 2}, 1.0f);
    after = before;
    quantize_rtn_options options;
    options.encoding = *parse_weight_scheme("w4g32");
    after.g.weights["model.layers.0.self_attn.q_proj.weight"] = *quantize_tensor_rtn(before.g.weights["model.layers.0.self_attn.q_proj.weight"], options, nullptr);
    const tensor& down = before.g.weights["model.layers.0.mlp.down_proj.weight"];
    tensor half = tensor::allocate(dtype::f16, down.shape);
    for (int64_t i = 0; i < down.numel(); ++i) half.mutable_data_as<uint16_t>()[i] = f32_to_f16(down.data_as<float>()[i]);
    after.g.weights["model.layers.0.mlp.down_proj.weight"] = half;
  }
};

const nlohmann::json& tensor_named(const nlohmann::json& sections, const std::string& name) {
  for (const auto& t : sections["tensors"])
    if (t["name"] == name) return t;
  static const nlohmann::json none;
  ADD_FAILURE() << "no tensor " << name;
  return none;
}

TEST(ReportSizes, PerTensorBytesBitsAndError) {
  fixture f;
  const auto s = size_sections(&f.before, f.after);
  ASSERT_EQ(s["tensors"].size(), 3u) << "rope.* is a derived constant, not a parameter";
  const auto& q = tensor_named(s, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(q["kind"], "attention");
  EXPECT_EQ(q["encoding"], "w4g32");
  EXPECT_EQ(q["layout"], "dense");
  EXPECT_EQ(q["bytes_before"], 8 * 64 * 4);
  EXPECT_EQ(q["bytes_after"], 8 * 64 / 2 + 8 * 2 * 2);  // 4-bit codes + one f16 scale per 32-group
  EXPECT_DOUBLE_EQ(q["bits_per_weight"].get<double>(), 4.5);
  // Relative error recomputed here from the decoder's output.
  const auto decoded = *to_float_vector(f.after.g.weights["model.layers.0.self_attn.q_proj.weight"]);
  const tensor& w = f.before.g.weights["model.layers.0.self_attn.q_proj.weight"];
  double diff = 0, norm = 0;
  for (size_t i = 0; i < decoded.size(); ++i) {
    diff += std::pow(double(decoded[i]) - w.data_as<float>()[i], 2);
    norm += std::pow(double(w.data_as<float>()[i]), 2);
  }
  EXPECT_NEAR(q["rel_error"].get<double>(), std::sqrt(diff / norm), 1e-12);
  EXPECT_GT(q["rel_error"].get<double>(), 0.0);
  const auto& d = tensor_named(s, "model.layers.0.mlp.down_proj.weight");
  EXPECT_EQ(d["kind"], "mlp");
  EXPECT_EQ(d["bytes_before"], 24 * 4);
  EXPECT_EQ(d["bytes_after"], 24 * 2);
  EXPECT_EQ(d["rel_error"], 0.0) << "multiples of 0.5 are exact in f16";
  const auto& n = tensor_named(s, "model.norm.weight");
  EXPECT_EQ(n["kind"], "norm");
  EXPECT_EQ(n["rel_error"], 0.0);
  EXPECT_NEAR(n["sparsity"].get<double>(), 0.0, 0.0);
}

TEST(ReportSizes, TotalsAndByKindAddUp) {
  fixture f;
  const auto s = size_sections(&f.before, f.after);
  const auto& totals = s["totals"];
  uint64_t weights = 0, before = 0, after = 0;
  for (const auto& t : s["tensors"]) {
    uint64_t n = 1;
    for (const auto& d : t["shape"]) n *= d.get<uint64_t>();
    weights += n;
    before += t["bytes_before"].get<uint64_t>();
    after += t["bytes_after"].get<uint64_t>();
  }
  EXPECT_EQ(totals["weights"], 8 * 64 + 24 + 8);
  EXPECT_EQ(totals["weights"], weights);
  EXPECT_EQ(totals["bytes_before"], before);
  EXPECT_EQ(totals["bytes_after"], after);
  EXPECT_EQ(totals["bytes_after"], 256 + 32 + 48 + 32);
  EXPECT_DOUBLE_EQ(totals["compression_ratio"].get<double>(), double(before) / double(after));
  EXPECT_DOUBLE_EQ(totals["bits_per_weight_after"].get<double>(), 8.0 * double(after) / double(weights));
  EXPECT_DOUBLE_EQ(totals["bits_per_weight_before"].get<double>(), 32.0);
  EXPECT_EQ(totals["bytes_before_basis"], "base");
  // by_kind: report order, sums per kind, the same grand totals.
  ASSERT_EQ(s["by_kind"].size(), 3u);
  EXPECT_EQ(s["by_kind"][0]["kind"], "attention");
  EXPECT_EQ(s["by_kind"][1]["kind"], "mlp");
  EXPECT_EQ(s["by_kind"][2]["kind"], "norm");
  uint64_t kind_after = 0;
  for (const auto& k : s["by_kind"]) kind_after += k["bytes_after"].get<uint64_t>();
  EXPECT_EQ(kind_after, after);
}

TEST(ReportSizes, WithoutBaseBytesBeforeAreTheDecodedDenseSize) {
  fixture f;
  const auto s = size_sections(nullptr, f.after);
  EXPECT_EQ(s["totals"]["bytes_before_basis"], "dense");
  EXPECT_EQ(tensor_named(s, "model.layers.0.self_attn.q_proj.weight")["bytes_before"], 8 * 64 * 4);  // decodes to f32
  EXPECT_EQ(tensor_named(s, "model.layers.0.mlp.down_proj.weight")["bytes_before"], 24 * 2);          // stays f16
  for (const auto& t : s["tensors"]) EXPECT_TRUE(t["rel_error"].is_null());
}

TEST(ReportKinds, GraphUseThenNames) {
  graph g;
  g.nodes.push_back({"c", "Conv", "", {"x", "w_conv", "b_conv"}, {"y"}, {}});
  g.nodes.push_back({"e", "Gather", "", {"table", "ids"}, {"e_out"}, {}});
  g.nodes.push_back({"n", "LayerNormalization", "", {"y", "ln_scale", "ln_bias"}, {"z"}, {}});
  g.nodes.push_back({"m", "MatMul", "", {"z", "fc"}, {"fc_out"}, {}});
  g.nodes.push_back({"a", "Add", "", {"fc_out", "fc_bias"}, {"logits"}, {}});
  g.outputs.push_back({"logits", dtype::f32, {}});
  EXPECT_EQ(tensor_kind(g, "w_conv"), "conv");
  EXPECT_EQ(tensor_kind(g, "b_conv"), "conv");
  EXPECT_EQ(tensor_kind(g, "table"), "embedding");
  EXPECT_EQ(tensor_kind(g, "ln_scale"), "norm");
  EXPECT_EQ(tensor_kind(g, "fc"), "output");
  EXPECT_EQ(tensor_kind(g, "fc_bias"), "other");
  const graph empty;
  EXPECT_EQ(tensor_kind(empty, "model.embed_tokens.weight"), "embedding");
  EXPECT_EQ(tensor_kind(empty, "lm_head.weight"), "output");
  EXPECT_EQ(tensor_kind(empty, "layers.3.attention.wq.weight"), "attention");
  EXPECT_EQ(tensor_kind(empty, "layers.3.feed_forward.w2.weight"), "mlp");
  EXPECT_EQ(tensor_kind(empty, "blk.0.ffn_down.weight"), "mlp");
  EXPECT_EQ(tensor_kind(empty, "model.layers.0.input_layernorm.weight"), "norm");
  EXPECT_EQ(tensor_kind(empty, "weird"), "other");
}

TEST(ReportFormat, OneFormatterForEveryNumber) {
  using nlohmann::json;
  EXPECT_EQ(format_value(json(0)), "0");
  EXPECT_EQ(format_value(json(999)), "999");
  EXPECT_EQ(format_value(json(1234567)), "1,234,567");
  EXPECT_EQ(format_value(json(-1234)), "-1,234");
  EXPECT_EQ(format_value(json(uint64_t{18446744073709551615u})), "18,446,744,073,709,551,615");
  EXPECT_EQ(format_value(json(5.81674)), "5.817");
  EXPECT_EQ(format_value(json(0.000823)), "0.000823");
  EXPECT_EQ(format_value(json(1.25e-5)), "1.25e-05");
  EXPECT_EQ(format_value(json(4.5)), "4.5");
  EXPECT_EQ(format_value(json(12345.67)), "12,345.7");
  EXPECT_EQ(format_value(json(-0.0)), "0");
  EXPECT_EQ(format_value(json(std::nan(""))), "nan");
  EXPECT_EQ(format_value(json(nullptr)), "n/a");
  EXPECT_EQ(format_value(json(true)), "yes");
  const json r = {{"totals", {{"bytes_after", 7}}}, {"tensors", json::array({{{"rel_error", 0.5}}})}};
  EXPECT_EQ(value_at(r, "totals.bytes_after"), 7);
  EXPECT_EQ(value_at(r, "tensors.0.rel_error"), 0.5);
  EXPECT_TRUE(value_at(r, "tensors.1.rel_error").is_null());
  EXPECT_TRUE(value_at(r, "tensors.x").is_null());
  EXPECT_TRUE(value_at(r, "totals.bytes_after.more").is_null());
}

TEST(ReportFormat, OutputFormatByExtension) {
  EXPECT_EQ(*report_format_for_path("a/r.json"), report_format::json);
  EXPECT_EQ(*report_format_for_path("r.MD"), report_format::markdown);
  EXPECT_EQ(*report_format_for_path("r.html"), report_format::html);
  const auto bad = report_format_for_path("dir/r.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), error_code::bad_usage);
  EXPECT_NE(bad.status().message().find("dir/r.txt"), std::string::npos);
  EXPECT_FALSE(report_format_for_path("noext").ok());
}

TEST(ReportWrite, AtomicAndNothingForUnknownFormats) {
  testing::temp_dir dir;
  const nlohmann::json r = {{"edgepack_report", 1}, {"totals", {{"weights", 3}}}};
  ASSERT_TRUE(write_report(r, dir / "r.json").ok());
  EXPECT_EQ(nlohmann::json::parse(testing::read_file(dir / "r.json")), r);
  const Status bad = write_report(r, dir / "r.pdf");
  EXPECT_EQ(bad.code(), error_code::bad_usage);
  EXPECT_FALSE(std::filesystem::exists(dir / "r.pdf"));
  const Status no_dir = write_report(r, dir / "missing" / "r.md");
  EXPECT_EQ(no_dir.code(), error_code::io_failure);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "no temp files left behind";
}

}  // namespace
}  // namespace edgepack::report

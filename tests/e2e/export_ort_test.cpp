// `edgepack export` checked by real ONNX Runtime (scripts/ort, onnxruntime-node) on the golden inputs.
//  (a) float: ORT on the exported model must give the same bits as ORT on the original .onnx.
//  (b) quantized (w8 per channel, w4g32, w3g32_asym): weights quantized in the test with
//      quantize_tensor_rtn in each reader's matrix view (MatMul B transposed, Gemm B, Conv col_axis 1),
//      saved as .epk; ORT (graph optimisations disabled, as the goldens are made) on the exported model
//      against `edgepack run` on the .epk. Both decode the
//      same codes x scales bit for bit, so they differ only by kernel arithmetic order. Bound per
//      output: max(10 x ORT's own disagreement between its optimisation levels on that output (from
//      the golden manifest), 1e-4) -- the rule onnx_goldens_test uses for two correct float32
//      implementations -- and cosine >= 0.99999.
// Needs node and scripts/ort/node_modules (scripts/install_ort.sh); with EDGEPACK_REQUIRE_SHARED=1 a
// missing install fails instead of skipping.
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/quant_codes.h"
#include "formats/epk.h"
#include "formats/model_loader.h"
#include "formats/npy.h"
#include "formats/onnx_writer.h"
#include "passes/quantize_rtn.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int shell(const std::vector<std::string>& argv, std::string* err) {
  temp_dir capture;
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + quote(a);
  command += " >" + quote((capture / "out").string()) + " 2>" + quote((capture / "err").string());
  const int status = std::system(command.c_str());
  if (err) *err = read_file(capture / "err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

fs::path ort_script() { return source_dir() / "scripts/ort/ort_run.js"; }

std::string ort_missing() {
  if (std::system("command -v node >/dev/null 2>&1") != 0) return "node is not on PATH";
  if (!fs::exists(source_dir() / "scripts/ort/node_modules/onnxruntime-node")) return "scripts/ort/node_modules lacks onnxruntime-node";
  return "";
}

#define EP_REQUIRE_ORT()                                                                                     \
  do {                                                                                                       \
    const std::string why = ort_missing();                                                                   \
    if (!why.empty()) {                                                                                      \
      const char* require = std::getenv("EDGEPACK_REQUIRE_SHARED");                                          \
      if (require != nullptr && std::string(require) == "1") FAIL() << "ONNX Runtime is required: " << why; \
      GTEST_SKIP() << why << " (run scripts/install_ort.sh)";                                                \
    }                                                                                                        \
  } while (0)

struct golden_case {
  std::vector<std::pair<std::string, fs::path>> inputs;
  std::vector<std::pair<std::string, double>> outputs;  // name, ORT optimisation-level difference
};

golden_case read_case(const fs::path& dir) {
  std::ifstream f(dir / "manifest.json");
  const auto j = nlohmann::json::parse(f);
  golden_case c;
  for (const auto& in : j["inputs"]) c.inputs.emplace_back(in["name"].get<std::string>(), dir / in["file"].get<std::string>());
  for (const auto& out : j["outputs"]) c.outputs.emplace_back(out["name"].get<std::string>(), out.value("max_abs_diff_opt_levels", 0.0));
  return c;
}

std::string file_name_of(const std::string& output) {
  std::string s = output;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') ch = '_';
  return s + ".npy";
}

void run_ort(const fs::path& model, const golden_case& c, const fs::path& out, const std::string& opt = "all") {
  std::vector<std::string> argv{"node", ort_script().string(), model.string(), "-o", out.string(), "--opt", opt};
  for (const auto& [name, file] : c.inputs) argv.insert(argv.end(), {"--input", name + "=" + file.string()});
  std::string err;
  ASSERT_EQ(shell(argv, &err), 0) << "ORT on " << model << ": " << err;
}

void run_edgepack(const fs::path& model, const golden_case& c, const fs::path& out) {
  std::vector<std::string> args{"run", model.string(), "-o", out.string()};
  for (const auto& [name, file] : c.inputs) args.insert(args.end(), {"--input", name + "=" + file.string()});
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::vector<float> load_floats(const fs::path& path) {
  auto t = read_npy(path.string());
  EXPECT_TRUE(t.ok()) << path << ": " << t.status().message();
  if (!t.ok()) return {};
  auto v = to_float_vector(*t);
  return v.ok() ? *v : std::vector<float>{};
}

struct difference {
  double max_abs = 0;
  double cosine = 1;
  double range = 0;
};

difference compare(const std::vector<float>& a, const std::vector<float>& b) {
  difference d;
  EXPECT_EQ(a.size(), b.size());
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    d.max_abs = std::max(d.max_abs, std::fabs(static_cast<double>(a[i]) - b[i]));
    d.range = std::max(d.range, std::fabs(static_cast<double>(a[i])));
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  d.cosine = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
  return d;
}

// (a) float round trip: the exported graph must give ORT's bits exactly.
void expect_float_round_trip(const fs::path& model, const std::vector<fs::path>& cases) {
  temp_dir dir;
  const auto exported = dir / "float.onnx";
  const auto r = run_cli({"export", model.string(), "-o", exported.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& case_dir : cases) {
    const golden_case c = read_case(case_dir);
    const auto a = dir / ("orig_" + case_dir.filename().string()), b = dir / ("exp_" + case_dir.filename().string());
    run_ort(model, c, a);
    run_ort(exported, c, b);
    for (const auto& [name, level_diff] : c.outputs) {
      const difference d = compare(load_floats(a / file_name_of(name)), load_floats(b / file_name_of(name)));
      std::cout << "float " << model.filename().string() << " " << case_dir.filename().string() << " " << name << " max_abs " << d.max_abs << "\n";
      EXPECT_EQ(d.max_abs, 0.0) << case_dir.filename() << " " << name;
    }
  }
  std::cout << "float " << model.filename().string() << " bytes " << fs::file_size(model) << " -> " << fs::file_size(exported) << "\n";
}

// The views the quantize CLI uses (docs/quantization.md): quantize each weight its one reader reads
// as a weight operand, in that reader's view; at least 1024 elements.
model quantize_for_test(const model& in, const quant_encoding& scheme) {
  std::map<std::string, std::vector<std::pair<const node*, size_t>>> readers;
  for (const auto& n : in.g.nodes)
    for (size_t i = 0; i < n.inputs.size(); ++i) readers[n.inputs[i]].emplace_back(&n, i);
  model out = in;
  for (auto& [name, w] : out.g.weights) {
    const auto it = readers.find(name);
    if (it == readers.end() || it->second.size() != 1 || !dtype_is_float(w.type) || w.is_quantized() || w.numel() < 1024) continue;
    const auto [n, slot] = it->second.front();
    quant_encoding enc = scheme;
    if (n->op_type == "MatMul" && slot == 1 && w.shape.size() == 2) {
      enc.transposed = true;
    } else if (n->op_type == "Gemm" && slot == 1 && w.shape.size() == 2) {
      enc.transposed = n->int_attr("transB", 0) == 0;
    } else if ((n->op_type == "Conv" || n->op_type == "ConvTranspose") && slot == 1 && w.shape.size() >= 3) {
      enc.col_axis = 1;
    } else {
      continue;
    }
    quantize_rtn_options options;
    options.encoding = enc;
    auto q = quantize_tensor_rtn(w, options, nullptr);
    EXPECT_TRUE(q.ok()) << name << ": " << q.status().message();
    if (q.ok()) w = std::move(*q);
  }
  return out;
}

// (b) quantized: ORT on the export vs edgepack run on the .epk.
void expect_quantized_match(const fs::path& model_path, const std::vector<fs::path>& cases, const std::string& scheme_name, const quant_encoding& scheme) {
  temp_dir dir;
  auto m = load_model(model_path.string(), {});
  ASSERT_TRUE(m.ok()) << m.status().message();
  const model q = quantize_for_test(*m, scheme);
  int quantized = 0;
  for (const auto& [name, w] : q.g.weights) quantized += w.is_quantized();
  ASSERT_GT(quantized, 0);
  const auto epk = dir / "q.epk", onnx = dir / "q.onnx", float_onnx = dir / "f.onnx";
  ASSERT_TRUE(write_epk(epk.string(), q, {}).ok());
  const auto r = run_cli({"export", epk.string(), "-o", onnx.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_cli({"export", model_path.string(), "-o", float_onnx.string()}).exit_code, 0);
  std::cout << scheme_name << " " << model_path.filename().string() << " " << quantized << " weights; bytes: float export " << fs::file_size(float_onnx)
            << ", epk " << fs::file_size(epk) << ", onnx " << fs::file_size(onnx) << "\n";
  EXPECT_LT(fs::file_size(onnx), fs::file_size(float_onnx));
  // The same graph with every quantized weight replaced by our decoder's f32 values, at the same
  // opset, fed through an Identity so that, like DequantizeLinear's output, it is not a constant
  // initializer to the reading op (ORT prepacks constant MatMul weights, which changes its GEMM
  // path). ORT must then give identical bits on both: W.q/scale/zero_point/DQL reproduce the
  // reference decoder exactly inside ORT (no tolerance).
  model decoded = q;
  std::vector<node> feeds;
  for (const auto& [name, w] : q.g.weights) {
    if (!w.is_quantized()) continue;
    auto values = to_float_vector(w);
    ASSERT_TRUE(values.ok()) << name;
    decoded.g.weights.erase(name);
    decoded.g.weights.emplace(name + ".decoded", tensor::from_values<float>(dtype::f32, w.shape, *values));
    feeds.push_back({name + ".identity", "Identity", "", {name + ".decoded"}, {name}, {}});
  }
  decoded.g.nodes.insert(decoded.g.nodes.begin(), feeds.begin(), feeds.end());
  const auto decoded_onnx = dir / "decoded.onnx";
  onnx_write_options decoded_options;
  decoded_options.min_opset = 21;
  ASSERT_TRUE(write_onnx(decoded_onnx.string(), decoded, decoded_options, nullptr).ok());
  for (const auto& case_dir : cases) {
    const golden_case c = read_case(case_dir);
    const auto a = dir / ("ort_" + case_dir.filename().string()), b = dir / ("ep_" + case_dir.filename().string()),
               full = dir / ("ort_all_" + case_dir.filename().string());
    // ORT with graph optimisations disabled, as the goldens are made: it runs DequantizeLinear then
    // the float op. At "extended"/"all" ORT fuses DequantizeLinear + MatMul into its MatMulNBits
    // kernel, which computes differently (reported below, not bounded).
    run_ort(onnx, c, a, "disabled");
    run_ort(onnx, c, full, "all");
    const auto same = dir / ("ort_decoded_" + case_dir.filename().string());
    run_ort(decoded_onnx, c, same, "disabled");
    run_edgepack(epk, c, b);
    for (const auto& [name, level_diff] : c.outputs) {
      const std::vector<float> ours = load_floats(b / (name + ".npy"));
      const difference d = compare(load_floats(a / file_name_of(name)), ours);
      const difference fused = compare(load_floats(full / file_name_of(name)), ours);
      const difference exact = compare(load_floats(a / file_name_of(name)), load_floats(same / file_name_of(name)));
      EXPECT_EQ(exact.max_abs, 0.0) << "ORT on DequantizeLinear vs ORT on our decoded weights: " << case_dir.filename() << " " << name;
      // w8 and w4g32: the goldens' rule. 3-bit models are worse conditioned (rec's text is already lost
      // at 4 bits), so they get 1e-3 absolute; the exact check above already proves the weights equal.
      const double bound = std::max(10.0 * level_diff, scheme.bits < 4 ? 1e-3 : 1e-4);
      std::cout << scheme_name << " " << model_path.filename().string() << " " << case_dir.filename().string() << " " << name << " max_abs "
                << d.max_abs << " (bound " << bound << ", |max| " << d.range << ") cosine " << d.cosine << "; vs ORT opt all: max_abs "
                << fused.max_abs << " cosine " << fused.cosine << "; ORT DQL vs decoded weights max_abs " << exact.max_abs << "\n";
      EXPECT_LE(d.max_abs, bound) << case_dir.filename() << " " << name;
      EXPECT_GE(d.cosine, 0.99999) << case_dir.filename() << " " << name;
    }
  }
}

quant_encoding scheme(int bits, int64_t group, bool symmetric) {
  quant_encoding e;
  e.bits = bits;
  e.group_size = group;
  e.symmetric = symmetric;
  return e;
}

void expect_all(const fs::path& model, const std::vector<fs::path>& cases) {
  expect_float_round_trip(model, cases);
  expect_quantized_match(model, cases, "w8", scheme(8, 0, true));
  expect_quantized_match(model, cases, "w4g32", scheme(4, 32, true));
  expect_quantized_match(model, cases, "w3g32_asym", scheme(3, 32, false));
}

TEST(ExportOrt, Mnist8) {
  EP_REQUIRE_ORT();
  const auto dir = datasets_dir() / "mnist-8";
  expect_all(dir / "mnist-8.onnx", {dir / "golden/digit_0", dir / "golden/digit_7"});
}

TEST(ExportOrt, PaddleOcrMobileCls) {
  EP_REQUIRE_SHARED();
  EP_REQUIRE_ORT();
  const auto dir = shared_dir() / "models/paddleocr";
  expect_all(dir / "ch_ppocr_mobile_v2.0_cls_infer.onnx", {dir / "golden/cls_upright"});
}

TEST(ExportOrt, PaddleOcrV4Rec) {
  EP_REQUIRE_SHARED();
  EP_REQUIRE_ORT();
  const auto dir = shared_dir() / "models/paddleocr";
  expect_all(dir / "ch_PP-OCRv4_rec_infer.onnx", {dir / "golden/rec_hello_2026"});
}

TEST(ExportOrt, PaddleOcrV4Det) {
  EP_REQUIRE_SHARED();
  EP_REQUIRE_ORT();
  const auto dir = shared_dir() / "models/paddleocr";
  expect_all(dir / "ch_PP-OCRv4_det_infer.onnx", {dir / "golden/det_three_lines"});
}

TEST(ExportOrt, Stories260kOnnx) {
  EP_REQUIRE_SHARED();
  EP_REQUIRE_ORT();
  const auto dir = shared_dir() / "models/stories260K-hf";
  expect_all(dir / "stories260K.onnx", {dir / "golden/check_ids"});
}

// Silero VAD v4 (opset 16, If bodies holding the LSTM weights): the float round trip gives ORT's bits
// (weights only a body reads go back into that body, as in the source). Steps are independent
// cases here (each step's stored inputs, ORT's own states).
TEST(ExportOrt, SileroVadLegacyFloat) {
  EP_REQUIRE_SHARED();
  EP_REQUIRE_ORT();
  const auto dir = shared_dir() / "models/silero-vad";
  temp_dir work;
  const auto exported = work / "silero.onnx";
  const auto r = run_cli({"export", (dir / "silero_vad_legacy.onnx").string(), "-o", exported.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string step : {"step_0", "step_5"}) {
    const auto s = dir / "golden/legacy_speech" / step;
    golden_case c;
    c.inputs = {{"input", s / "input_0.npy"}, {"sr", s / "input_1.npy"}, {"h", s / "input_2.npy"}, {"c", s / "input_3.npy"}};
    run_ort(dir / "silero_vad_legacy.onnx", c, work / ("a_" + step));
    run_ort(exported, c, work / ("b_" + step));
    for (const std::string out : {"output", "hn", "cn"}) {
      const difference d = compare(load_floats(work / ("a_" + step) / (out + ".npy")), load_floats(work / ("b_" + step) / (out + ".npy")));
      EXPECT_EQ(d.max_abs, 0.0) << step << " " << out;
    }
  }
}

// The llama2.c lowering (opset-23 RMSNormalization, RotaryEmbedding, Attention with an empty past
// KV cache) exported float and w4g32 (Gemm transB = 1: default view, 172-column ffn_down tail
// groups): ORT (optimisations disabled) against `edgepack run` on the same ids. Bound: the
// stories260K goldens' rule, max(10 x ORT's level difference 1.34e-5, 1e-4).
TEST(ExportOrt, Stories260kLlama2cOpset23) {
  EP_REQUIRE_SHARED();
  EP_REQUIRE_ORT();
  temp_dir dir;
  const auto bin = shared_dir() / "models/stories260K/stories260K.bin";
  const auto ids = shared_dir() / "models/stories260K-hf/golden/check_ids/input_0.npy";
  auto m = load_model(bin.string(), {});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(m->llm.has_value());
  const int64_t seq = 11;
  std::vector<int64_t> positions(seq);
  for (int64_t i = 0; i < seq; ++i) positions[static_cast<size_t>(i)] = i;
  ASSERT_TRUE(write_npy((dir / "pos.npy").string(), tensor::from_values<int64_t>(dtype::i64, {1, seq}, positions)).ok());
  ASSERT_TRUE(write_npy((dir / "past.npy").string(), tensor::allocate(dtype::f32, {1, m->llm->kv_heads, 0, m->llm->head_dim})).ok());
  golden_case c;
  c.inputs = {{"input_ids", ids}, {"position_ids", dir / "pos.npy"}};
  for (int64_t l = 0; l < m->llm->layers; ++l)
    for (const char* kind : {"key", "value"}) c.inputs.emplace_back("past_key_values." + std::to_string(l) + "." + kind, dir / "past.npy");
  golden_case ours;
  ours.inputs = {{"input_ids", ids}};
  const auto q = dir / "q.epk";
  ASSERT_EQ(run_cli({"quantize", bin.string(), "--scheme", "w4g32", "-o", q.string()}).exit_code, 0);
  for (const auto& model_path : {bin, q}) {
    const auto onnx = dir / (model_path.stem().string() + ".onnx");
    const auto r = run_cli({"export", model_path.string(), "-o", onnx.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto a = dir / ("ort_" + model_path.stem().string()), b = dir / ("ep_" + model_path.stem().string());
    run_ort(onnx, c, a, "disabled");
    run_edgepack(model_path, ours, b);
    const difference d = compare(load_floats(a / "logits.npy"), load_floats(b / "logits.npy"));
    std::cout << "llama2c " << model_path.filename().string() << " -> " << fs::file_size(onnx) << " bytes; logits max_abs " << d.max_abs << " (|max| "
              << d.range << ") cosine " << d.cosine << "\n";
    EXPECT_LE(d.max_abs, 1.34e-4) << model_path;
    EXPECT_GE(d.cosine, 0.99999) << model_path;
  }
}

// Zeroes (sets to the zero-point code) the 2 smallest-magnitude codes of every group of 4 view
// columns (a tail group of t columns keeps floor(2t/4)) of each symmetric quantized weight, so the
// weight satisfies 2:4 in its own matrix view. Returns how many weights it pruned.
int prune_codes_two_four(model& m) {
  int pruned = 0;
  for (auto& [name, w] : m.g.weights) {
    if (!w.is_quantized() || !w.quant.symmetric) continue;
    const int64_t rows = w.rows(), cols = w.cols();
    const auto zero = static_cast<uint8_t>(1u << (w.quant.bits - 1));
    std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = read_code(w.data.data, w.quant.bits, i);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_rows(w, r, r + 1, row.data());
      for (int64_t begin = 0; begin < cols; begin += 4) {
        const int64_t width = std::min<int64_t>(4, cols - begin), keep = width == 4 ? 2 : 2 * width / 4;
        std::vector<int64_t> order(static_cast<size_t>(width));
        for (int64_t j = 0; j < width; ++j) order[static_cast<size_t>(j)] = begin + j;
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          return std::fabs(row[static_cast<size_t>(a)]) > std::fabs(row[static_cast<size_t>(b)]);
        });
        for (size_t j = static_cast<size_t>(keep); j < order.size(); ++j) codes[static_cast<size_t>(r * cols + order[j])] = zero;
      }
    }
    std::vector<std::byte> packed(packed_code_bytes(w.quant.bits, codes.size()));
    pack_codes(codes, w.quant.bits, packed);
    w.data = make_owned_view(std::move(packed));
    ++pruned;
  }
  return pruned;
}

// A packed 2:4 + w4g32 .epk (edgepack quantize, 2:4 on the codes, edgepack pack) exports as dense
// DequantizeLinear weights: ORT on that export gives exactly the bits of ORT on the export of the
// same weights unpacked, and matches `edgepack run` on the packed .epk (which decodes the sparse
// layout, and runs the packed kernels where they apply) within the goldens' rule.
TEST(ExportOrt, Mnist8Packed2of4W4g32) {
  EP_REQUIRE_ORT();
  temp_dir dir;
  const auto data = datasets_dir() / "mnist-8";
  const auto q = dir / "q.epk", pruned = dir / "pruned.epk", packed = dir / "packed.epk";
  auto r = run_cli({"quantize", (data / "mnist-8.onnx").string(), "--scheme", "w4g32", "--min-elements", "0", "-o", q.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = read_epk(q.string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  const int weights = prune_codes_two_four(*m);
  ASSERT_GT(weights, 0);
  ASSERT_TRUE(write_epk(pruned.string(), *m, {}).ok());
  r = run_cli({"pack", pruned.string(), "--pattern", "2:4", "--min-elements", "0", "--json", "-o", packed.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stats = nlohmann::json::parse(r.out);
  EXPECT_EQ(stats["packed_tensors"].get<int>(), weights) << r.out;
  // Weight bytes shrink (the file may not: 64-byte alignment of one more blob per weight dominates
  // on mnist-8's two small weights).
  EXPECT_LT(stats["bytes_after"].get<uint64_t>(), stats["bytes_before"].get<uint64_t>()) << r.out;
  auto back = read_epk(packed.string());
  ASSERT_TRUE(back.ok()) << back.status().message();
  int sparse = 0;
  for (const auto& [name, w] : back->g.weights) sparse += w.is_sparse() && w.is_quantized() && w.sparsity.n == 2 && w.sparsity.m == 4;
  EXPECT_EQ(sparse, weights);

  const auto packed_onnx = dir / "packed.onnx", pruned_onnx = dir / "pruned.onnx";
  r = run_cli({"export", packed.string(), "-o", packed_onnx.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_cli({"export", pruned.string(), "-o", pruned_onnx.string()}).exit_code, 0);
  EXPECT_NE(read_file(packed_onnx).find("DequantizeLinear"), std::string::npos) << "packed weights export as DequantizeLinear";
  for (const char* digit : {"digit_0", "digit_7"}) {
    const golden_case c = read_case(data / "golden" / digit);
    const auto a = dir / (std::string("ort_packed_") + digit), b = dir / (std::string("ort_pruned_") + digit),
               ours = dir / (std::string("ep_") + digit);
    run_ort(packed_onnx, c, a, "disabled");
    run_ort(pruned_onnx, c, b, "disabled");
    run_edgepack(packed, c, ours);
    for (const auto& [name, level_diff] : c.outputs) {
      const std::vector<float> ort = load_floats(a / file_name_of(name));
      ASSERT_FALSE(ort.empty());
      EXPECT_EQ(compare(ort, load_floats(b / file_name_of(name))).max_abs, 0.0) << digit << " " << name << ": packed vs unpacked export";
      const difference d = compare(ort, load_floats(ours / (name + ".npy")));
      const double bound = std::max(10.0 * level_diff, 1e-4);
      std::cout << "s2:4+w4g32 mnist-8 " << digit << " " << name << " " << weights << " packed weights; max_abs " << d.max_abs << " (bound " << bound
                << ", |max| " << d.range << ") cosine " << d.cosine << "; bytes pruned " << fs::file_size(pruned) << " packed "
                << fs::file_size(packed) << " onnx " << fs::file_size(packed_onnx) << "\n";
      EXPECT_LE(d.max_abs, bound) << digit << " " << name;
      EXPECT_GE(d.cosine, 0.99999) << digit << " " << name;
    }
  }
}

// Bad input: nothing is written and the exit code says why.
TEST(ExportCli, RefusesNonModelsAndMissingDirectories) {
  temp_dir dir;
  write_file(dir / "junk.onnx", "not a model at all");
  const auto out = dir / "out.onnx";
  auto r = run_cli({"export", (dir / "junk.onnx").string(), "-o", out.string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_FALSE(fs::exists(out));
  r = run_cli({"export", (datasets_dir() / "mnist-8/mnist-8.onnx").string(), "-o", (dir / "missing/out.onnx").string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = run_cli({"export", (datasets_dir() / "mnist-8/mnist-8.onnx").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(fs::directory_iterator(dir.path()) != fs::directory_iterator() && !fs::exists(out));
}

}  // namespace
}  // namespace edgepack::testing

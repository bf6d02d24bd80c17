// Pruning on real stories260K layers with real activations: the model runs (runtime_ref
// interpreter) on token windows of tinystories_val.txt (tok512), and the input of each linear layer
// is captured by exposing the Gemm's input as a graph output. Calibration windows come from the
// first 200,000 characters, held-out windows from the last 60,000 (DESIGN.md §5 split). Checks the
// issue's requirement, layer reconstruction error ||X W^T - X W_hat^T|| / ||X W^T|| on held-out
// activations: SparseGPT < Wanda < magnitude at 50 % and at 2:4 with per-row comparison groups for
// all three, and at 50 % with per-tensor groups for all three (N:M is per row by construction).
#include <gtest/gtest.h>

#include "calibration/hessian.h"
#include "calibration/text_source.h"
#include "calibration/tokenizer.h"
#include "formats/model_loader.h"
#include "passes/prune_magnitude.h"
#include "passes/prune_wanda.h"
#include "passes/sparsegpt.h"
#include "runtime_ref/interpreter.h"
#include "runtime_ref/llm_session.h"
#include "tests/passes/prune_test_util.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

constexpr int64_t window = 128;

std::vector<std::vector<int64_t>> windows_of(const std::string& text, const tokenizer& tok, int64_t count) {
  const std::vector<int64_t> ids = tok.encode(text, false, false);
  std::vector<std::vector<int64_t>> out;
  const int64_t stride = (static_cast<int64_t>(ids.size()) - window) / count;
  for (int64_t i = 0; i < count; ++i) {
    std::vector<int64_t> w{tok.bos_id()};
    w.insert(w.end(), ids.begin() + i * stride, ids.begin() + i * stride + window - 1);
    out.push_back(std::move(w));
  }
  return out;
}

struct layer_data {
  std::string name;
  std::vector<float> weight;
  int64_t rows = 0, cols = 0;
  std::vector<float> calib, held;  // [n, cols]
};

// Runs the model on the windows and appends the inputs of the Gemms reading `names`.
void capture(const model& base, std::vector<layer_data>& layers, const std::vector<std::vector<int64_t>>& windows, bool calibration) {
  model m = base;
  std::vector<std::string> inputs;
  for (const layer_data& l : layers) {
    std::string input;
    for (const node& n : m.g.nodes)
      if (n.op_type == "Gemm" && n.inputs.size() > 1 && n.inputs[1] == l.name) input = n.inputs[0];
    ASSERT_FALSE(input.empty()) << l.name;
    inputs.push_back(input);
    m.g.outputs.push_back({input, dtype::f32, {}});
  }
  auto interp = interpreter::create(m.g);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  for (const auto& ids : windows) {
    tensor_map in;
    in["input_ids"] = tensor::from_values<int64_t>(dtype::i64, {1, static_cast<int64_t>(ids.size())}, std::span<const int64_t>(ids));
    ASSERT_TRUE(fill_llm_default_inputs(m, in).ok());
    auto out = interp->run(in);
    ASSERT_TRUE(out.ok()) << out.status().message();
    for (size_t i = 0; i < layers.size(); ++i) {
      auto values = to_float_vector(out->at(inputs[i]));
      ASSERT_TRUE(values.ok());
      auto& dest = calibration ? layers[i].calib : layers[i].held;
      dest.insert(dest.end(), values->begin(), values->end());
    }
  }
}

TEST(PruneStories260k, SparseGptBeatsWandaBeatsMagnitudeOnRealLayers) {
  const auto dir = testing::datasets_dir();
  auto m = load_model((dir / "stories260K/stories260K.bin").string(), {});
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto vocab = read_llama2c_tokenizer((dir / "stories260K/tok512.bin").string(), m->llm->vocab_size);
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  const tokenizer tok(*vocab);
  const auto text_path = (dir / "tinystories/tinystories_val.txt").string();
  auto calib_text = read_text_file(text_path, char_range{":200000"});
  auto held_text = read_text_file(text_path, char_range{"-60000:"});
  ASSERT_TRUE(calib_text.ok() && held_text.ok());

  std::vector<layer_data> layers;
  for (const char* suffix : {"self_attn.q_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.down_proj"}) {
    layer_data l;
    l.name = std::string("model.layers.2.") + suffix + ".weight";
    const tensor* t = m->g.find_weight(l.name);
    ASSERT_NE(t, nullptr) << l.name;
    auto values = to_float_vector(*t);
    ASSERT_TRUE(values.ok());
    l.weight = std::move(*values);
    l.rows = t->shape[0];
    l.cols = t->shape[1];
    layers.push_back(std::move(l));
  }
  capture(*m, layers, windows_of(*calib_text, tok, 24), true);
  capture(*m, layers, windows_of(*held_text, tok, 8), false);
  if (HasFatalFailure()) return;

  for (const layer_data& l : layers) {
    hessian_accumulator acc(l.cols, hessian_options{.threads = 2});
    const int64_t n = static_cast<int64_t>(l.calib.size()) / l.cols;
    ASSERT_TRUE(acc.add_rows(l.calib.data(), n).ok());
    const std::vector<double> h = acc.hessian();
    auto norms = activation_norms_from_hessian(h, l.cols, n);
    ASSERT_TRUE(norms.ok());
    for (const sparsity_pattern& p : {sparsity_pattern::unstructured(0.5), sparsity_pattern::n_of_m(2, 4)})
      for (const mask_scope scope : {mask_scope::per_row, mask_scope::per_tensor}) {
        if (p.kind == sparsity_kind::n_of_m && scope == mask_scope::per_tensor) continue;  // N:M: per row by construction
        // The same comparison group for all three methods: every row prunes the same count, or one
        // count over the tensor.
        auto s = sparsegpt_prune(l.weight, l.rows, l.cols, h, sparsegpt_options{.pattern = p, .scope = scope, .threads = 2});
        auto wa = prune_wanda(l.weight, l.rows, l.cols, *norms, wanda_options{.pattern = p, .scope = scope, .threads = 2});
        auto mg = prune_magnitude(l.weight, l.rows, l.cols, magnitude_options{.pattern = p, .scope = scope, .threads = 2});
        ASSERT_TRUE(s.ok() && wa.ok() && mg.ok());
        EXPECT_TRUE(s->stats.warnings.empty());
        const double es = prune_test::output_error(l.held, l.weight, s->pruned.values, l.rows, l.cols);
        const double ew = prune_test::output_error(l.held, l.weight, wa->values, l.rows, l.cols);
        const double em = prune_test::output_error(l.held, l.weight, mg->values, l.rows, l.cols);
        const char* scope_name = scope == mask_scope::per_row ? "per row" : "per tensor";
        std::printf("[%s %s %s, %lld calibration / %lld held-out rows] held-out error SparseGPT %.4f Wanda %.4f magnitude %.4f\n", l.name.c_str(),
                    sparsity_pattern_name(p).c_str(), scope_name, static_cast<long long>(n), static_cast<long long>(l.held.size() / l.cols), es, ew, em);
        EXPECT_LT(es, ew) << l.name << " " << sparsity_pattern_name(p) << " " << scope_name;
        EXPECT_LT(ew, em) << l.name << " " << sparsity_pattern_name(p) << " " << scope_name;
      }
  }
}

}  // namespace
}  // namespace edgepack

// End-to-end tuning of a quantized model (passes/quant_tune.h) on a random tiny Llama quantized
// RTN w3g8 (odd hidden size 11: tail groups). The KL divergence is computed here independently
// (float and quantized models run by the interpreter, log-softmax in double).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/quant_codes.h"
#include "passes/quant_tune.h"
#include "passes/quantize_rtn.h"
#include "tests/tiny_llama.h"

namespace edgepack {
namespace {

struct fixture {
  model float_model;
  std::map<std::string, tensor> quantized;
  std::vector<tensor_map> windows;
};

fixture make_fixture() {
  fixture f;
  testing::tiny_llama_options o;
  o.dim = 16;
  o.seed = 21;
  f.float_model = testing::tiny_llama(o);
  quantize_rtn_options rtn;
  rtn.encoding.bits = 3;
  rtn.encoding.group_size = 8;
  for (const auto& [name, t] : f.float_model.g.weights) {
    if (name.find("_proj.weight") == std::string::npos) continue;
    auto q = quantize_tensor_rtn(t, rtn, nullptr);
    EXPECT_TRUE(q.ok()) << q.status().message();
    f.quantized[name] = *q;
  }
  std::mt19937 rng(5);
  std::uniform_int_distribution<int64_t> token(0, o.vocab - 1);
  for (int w = 0; w < 6; ++w) {
    std::vector<int64_t> ids(10);
    for (auto& id : ids) id = token(rng);
    f.windows.push_back(testing::tiny_llama_inputs(f.float_model, ids));
  }
  return f;
}

// Mean KL(float || model with `replaced`) per position over the windows.
double mean_kl(const fixture& f, const std::map<std::string, tensor>& replaced) {
  graph q = f.float_model.g;
  for (const auto& [name, t] : replaced) q.weights[name] = t;
  auto teacher = interpreter::create(f.float_model.g);
  auto student = interpreter::create(q);
  EXPECT_TRUE(teacher.ok() && student.ok());
  double kl = 0;
  int64_t positions = 0;
  for (const auto& w : f.windows) {
    const tensor a = teacher->run(w)->at("logits"), b = student->run(w)->at("logits");
    const int64_t vocab = a.shape.back();
    for (int64_t p = 0; p < a.numel() / vocab; ++p, ++positions) {
      auto log_probs = [&](const tensor& t) {
        std::vector<double> l(static_cast<size_t>(vocab));
        double best = -1e300, sum = 0;
        for (int64_t i = 0; i < vocab; ++i) best = std::max(best, static_cast<double>(t.data_as<float>()[p * vocab + i]));
        for (int64_t i = 0; i < vocab; ++i) sum += std::exp(t.data_as<float>()[p * vocab + i] - best);
        for (int64_t i = 0; i < vocab; ++i) l[static_cast<size_t>(i)] = t.data_as<float>()[p * vocab + i] - best - std::log(sum);
        return l;
      };
      const auto lt = log_probs(a), ls = log_probs(b);
      for (size_t i = 0; i < lt.size(); ++i) kl += std::exp(lt[i]) * (lt[i] - ls[i]);
    }
  }
  return kl / static_cast<double>(positions);
}

// 30 epochs of 2 steps at a rate of 0.01: enough for this model to move clearly.
Expected<quant_tune_result> tune_thirty_epochs(const fixture& f, bool codes) {
  quant_tune_options o;
  o.epochs = 30;
  o.batch_windows = 3;
  o.learning_rate = 1e-2;
  o.code_rate_factor = codes ? 10.0 : 0.0;
  return tune_quantized_model(f.float_model, f.quantized, f.windows, o);
}

std::string blob(const byte_view& v) { return std::string(reinterpret_cast<const char*>(v.data), v.size); }

TEST(QuantTune, LowersTheKlKeepsCodesAndSize) {
  const fixture f = make_fixture();
  auto r = tune_thirty_epochs(f, false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->steps, 60);
  EXPECT_EQ(r->gains, 16 * 5);  // 2 blocks x 2 norms + the final norm
  const double before = mean_kl(f, f.quantized), after = mean_kl(f, r->weights);
  EXPECT_LT(after, 0.8 * before) << before << " -> " << after;
  EXPECT_LT(r->kl_last_epoch, r->kl_first_epoch);
  int64_t scales_changed = 0;
  for (const auto& [name, q] : f.quantized) {
    const tensor& t = r->weights.at(name);
    EXPECT_EQ(blob(t.data), blob(q.data)) << name << ": codes must not change";
    EXPECT_EQ(t.stored_bytes(), q.stored_bytes()) << name;
    EXPECT_EQ(t.quant, q.quant) << name;
    scales_changed += blob(t.scales) != blob(q.scales);
  }
  EXPECT_EQ(scales_changed, static_cast<int64_t>(f.quantized.size()));
  EXPECT_EQ(r->weights.at("model.norm.weight").type, dtype::f32);
}

// Adam's first step is -lr sign(g) on every log-scale: each scale must move against the sign of
// the KL's derivative, which is measured here by central differences of the f16 scale.
TEST(QuantTune, FirstStepMovesEachScaleAgainstItsMeasuredDerivative) {
  const fixture f = make_fixture();
  quant_tune_options o;
  o.epochs = 1;
  o.batch_windows = static_cast<int64_t>(f.windows.size());
  o.learning_rate = 2e-2;
  o.norms = false;
  o.code_rate_factor = 0;
  auto r = tune_quantized_model(f.float_model, f.quantized, f.windows, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int64_t checked = 0, agreed = 0, strong = 0, strong_agreed = 0;
  for (const std::string name : {"model.layers.0.mlp.down_proj.weight", "model.layers.1.self_attn.q_proj.weight"}) {
    const tensor& q = f.quantized.at(name);
    const auto* old_bits = reinterpret_cast<const uint16_t*>(q.scales.data);
    const auto* new_bits = reinterpret_cast<const uint16_t*>(r->weights.at(name).scales.data);
    const int64_t count = static_cast<int64_t>(q.scales.size / 2);
    std::vector<double> derivative(static_cast<size_t>(count));
    double largest = 0;
    for (int64_t i = 0; i < count; ++i) {
      double kl[2];
      for (int side = 0; side < 2; ++side) {
        std::vector<uint16_t> bits(old_bits, old_bits + count);
        bits[static_cast<size_t>(i)] = f32_to_f16(f16_to_f32(old_bits[i]) * (side == 0 ? 1.01f : 0.99f));
        tensor moved = q;
        moved.scales = make_owned_view(std::vector<std::byte>(reinterpret_cast<const std::byte*>(bits.data()),
                                                              reinterpret_cast<const std::byte*>(bits.data() + count)));
        auto replaced = f.quantized;
        replaced[name] = moved;
        kl[side] = mean_kl(f, replaced);
      }
      derivative[static_cast<size_t>(i)] = kl[0] - kl[1];
      largest = std::max(largest, std::abs(derivative[static_cast<size_t>(i)]));
    }
    for (int64_t i = 0; i < count; ++i) {
      // Scales may be negative (RTN picks the sign that reaches the wider code end); both the step
      // and the measured derivative are relative (s -> s (1 + e)), so compare the ratio.
      const double moved = f16_to_f32(new_bits[i]) / f16_to_f32(old_bits[i]) - 1.0;
      ASSERT_NE(moved, 0.0) << name << " scale " << i;
      const bool agrees = (moved > 0) == (derivative[static_cast<size_t>(i)] < 0);
      ++checked, agreed += agrees;
      if (std::abs(derivative[static_cast<size_t>(i)]) > 0.1 * largest) {
        ++strong, strong_agreed += agrees;
        EXPECT_TRUE(agrees) << name << " scale " << i << ": moved " << moved << ", measured derivative " << derivative[static_cast<size_t>(i)];
      }
    }
  }
  EXPECT_GT(strong, 20);
  EXPECT_EQ(strong_agreed, strong);
  EXPECT_GE(agreed, checked * 9 / 10) << agreed << " of " << checked;
}

TEST(QuantTune, CodesMoveWithinTheirRangeAndTheKlDrops) {
  const fixture f = make_fixture();
  auto r = tune_thirty_epochs(f, true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int64_t changed = 0;
  for (const auto& [name, q] : f.quantized) {
    const tensor& t = r->weights.at(name);
    EXPECT_EQ(t.stored_bytes(), q.stored_bytes());
    for (int64_t i = 0; i < q.numel(); ++i) changed += read_code(t.data.data, 3, static_cast<uint64_t>(i)) != read_code(q.data.data, 3, static_cast<uint64_t>(i));
  }
  EXPECT_GT(changed, 0);
  EXPECT_LT(mean_kl(f, r->weights), 0.8 * mean_kl(f, f.quantized));
}

// Thread count and whether the float logits are cached or recomputed change nothing.
TEST(QuantTune, SameBytesAtOneAndTwoThreadsCachedOrNot) {
  const fixture f = make_fixture();
  quant_tune_options o;
  o.epochs = 3;
  o.batch_windows = 4;  // codes move at the default rate
  std::map<std::string, tensor> results[3];
  for (int run = 0; run < 3; ++run) {
    o.threads = run == 0 ? 1 : 2;
    o.teacher_cache_bytes = run == 2 ? 0 : uint64_t{1} << 30;
    auto r = tune_quantized_model(f.float_model, f.quantized, f.windows, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    results[run] = r->weights;
  }
  for (const auto& [name, t] : results[0])
    for (int run = 1; run < 3; ++run) {
      const tensor& other = results[run].at(name);
      EXPECT_EQ(blob(t.data), blob(other.data)) << name << " run " << run;
      EXPECT_EQ(blob(t.scales), blob(other.scales)) << name << " run " << run;
    }
}

TEST(QuantTuneErrors, GraphWithoutLogitsOrWindows) {
  const fixture f = make_fixture();
  model no_logits = f.float_model;
  no_logits.g.outputs.erase(no_logits.g.outputs.begin());
  quant_tune_options o;
  o.epochs = 1;
  auto r = tune_quantized_model(no_logits, f.quantized, f.windows, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), error_code::bad_usage);
  EXPECT_NE(r.status().message().find("needs a language model"), std::string::npos);
  auto none = tune_quantized_model(f.float_model, f.quantized, {}, o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("calibration windows"), std::string::npos);
}

}  // namespace
}  // namespace edgepack

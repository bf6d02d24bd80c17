// LSTM against a direct double-precision reference written from the ONNX equations, on odd
// shapes, both directions, with peepholes and initial states; plus a 1-unit hand golden.
#include <cmath>
#include <random>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

TEST(LstmKernel, OneUnitOneStepHandGolden) {
  // x = 1, all weights 1 and biases 0, h0 = c0 = 0: every gate pre-activation is 1.
  // c = σ(1)·tanh(1), h = σ(1)·tanh(c).
  const tensor x = f32({1, 1, 1}, {1});
  const tensor w = f32({1, 4, 1}, {1, 1, 1, 1});
  const tensor r = f32({1, 4, 1}, {1, 1, 1, 1});
  auto out = run_op("LSTM", {&x, &w, &r}, {{"hidden_size", int64_t{1}}}, 3);
  ASSERT_TRUE(out.status.ok()) << out.status.message();
  const double c = sig(1) * std::tanh(1.0);
  const double h = sig(1) * std::tanh(c);
  expect_near_all(values_of(out.outputs[0]), {static_cast<float>(h)}, 1e-6f);
  expect_near_all(values_of(out.outputs[1]), {static_cast<float>(h)}, 1e-6f);
  expect_near_all(values_of(out.outputs[2]), {static_cast<float>(c)}, 1e-6f);
}

TEST(LstmKernel, MatchesDirectReferenceBidirectionalWithPeepholes) {
  const int64_t seq = 5, batch = 3, in = 7, hid = 4, dirs = 2;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-0.8f, 0.8f);
  std::vector<float> xv(seq * batch * in), wv(dirs * 4 * hid * in), rv(dirs * 4 * hid * hid), bv(dirs * 8 * hid), h0(dirs * batch * hid),
      c0(dirs * batch * hid), pv(dirs * 3 * hid);
  for (auto* v : {&xv, &wv, &rv, &bv, &h0, &c0, &pv})
    for (float& e : *v) e = dist(rng);
  const tensor x = f32({seq, batch, in}, xv), w = f32({dirs, 4 * hid, in}, wv), r = f32({dirs, 4 * hid, hid}, rv), b = f32({dirs, 8 * hid}, bv);
  const tensor ih = f32({dirs, batch, hid}, h0), ic = f32({dirs, batch, hid}, c0), p = f32({dirs, 3 * hid}, pv);
  const tensor lens = i64({batch}, {seq, seq, seq});
  auto out = run_op("LSTM", {&x, &w, &r, &b, &lens, &ih, &ic, &p}, {{"hidden_size", hid}, {"direction", std::string("bidirectional")}}, 3);
  ASSERT_TRUE(out.status.ok()) << out.status.message();
  ASSERT_EQ(out.outputs[0].shape, (std::vector<int64_t>{seq, dirs, batch, hid}));
  const auto y = values_of(out.outputs[0]);
  const auto yc = values_of(out.outputs[2]);
  float max_abs = 0;
  for (int64_t d = 0; d < dirs; ++d) {
    for (int64_t bi = 0; bi < batch; ++bi) {
      std::vector<double> h(hid), c(hid);
      for (int64_t k = 0; k < hid; ++k) h[k] = h0[(d * batch + bi) * hid + k], c[k] = c0[(d * batch + bi) * hid + k];
      for (int64_t step = 0; step < seq; ++step) {
        const int64_t t = d == 0 ? step : seq - 1 - step;
        // Pre-activations per gate block g (0 i, 1 o, 2 f, 3 c).
        auto pre = [&](int64_t g, int64_t k) {
          const int64_t row = g * hid + k;
          double a = bv[d * 8 * hid + row] + bv[d * 8 * hid + 4 * hid + row];
          for (int64_t j = 0; j < in; ++j) a += double(xv[(t * batch + bi) * in + j]) * wv[(d * 4 * hid + row) * in + j];
          for (int64_t j = 0; j < hid; ++j) a += h[j] * rv[(d * 4 * hid + row) * hid + j];
          return a;
        };
        std::vector<double> nh(hid), nc(hid);
        for (int64_t k = 0; k < hid; ++k) {
          const double pi = pv[d * 3 * hid + k], po = pv[d * 3 * hid + hid + k], pf = pv[d * 3 * hid + 2 * hid + k];
          const double i = sig(pre(0, k) + pi * c[k]);
          const double f = sig(pre(2, k) + pf * c[k]);
          nc[k] = f * c[k] + i * std::tanh(pre(3, k));
          const double o = sig(pre(1, k) + po * nc[k]);
          nh[k] = o * std::tanh(nc[k]);
        }
        h = nh;
        c = nc;
        for (int64_t k = 0; k < hid; ++k)
          max_abs = std::max(max_abs, std::fabs(y[((t * dirs + d) * batch + bi) * hid + k] - static_cast<float>(h[k])));
      }
      for (int64_t k = 0; k < hid; ++k) max_abs = std::max(max_abs, std::fabs(yc[(d * batch + bi) * hid + k] - static_cast<float>(c[k])));
    }
  }
  EXPECT_LT(max_abs, 1e-5f);
}

TEST(LstmKernel, HostileInputsFail) {
  const tensor x = f32({2, 1, 3}, std::vector<float>(6, 1));
  const tensor w = f32({1, 8, 3}, std::vector<float>(24, 1));
  const tensor r = f32({1, 8, 2}, std::vector<float>(16, 1));
  EXPECT_TRUE(run_op("LSTM", {&x, &w, &r}, {{"hidden_size", int64_t{2}}}, 3).status.ok());
  EXPECT_EQ(run_op("LSTM", {&x, &w, &r}, {{"hidden_size", int64_t{3}}}, 3).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("LSTM", {&x, &w, &r}, {{"hidden_size", int64_t{2}}, {"direction", std::string("bidirectional")}}, 3).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("LSTM", {&x, &w, &r}, {{"hidden_size", int64_t{2}}, {"clip", 1.0}}, 3).status.code(), error_code::bad_input);
  EXPECT_EQ(run_op("LSTM", {&x, &w, &r}, {{"hidden_size", int64_t{2}}, {"layout", int64_t{1}}}, 3).status.code(), error_code::bad_input);
  const tensor lens = i64({1}, {1});
  EXPECT_EQ(run_op("LSTM", {&x, &w, &r, nullptr, &lens}, {{"hidden_size", int64_t{2}}}, 3).status.code(), error_code::bad_input);
  const tensor bad_b = f32({1, 4}, {0, 0, 0, 0});
  EXPECT_EQ(run_op("LSTM", {&x, &w, &r, &bad_b}, {{"hidden_size", int64_t{2}}}, 3).status.code(), error_code::bad_input);
  const tensor flat = f32({3}, {1, 2, 3});
  EXPECT_EQ(run_op("LSTM", {&flat, &w, &r}, {{"hidden_size", int64_t{2}}}, 3).status.code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

#include "passes/rtn_quantizer.h"

#include <algorithm>
#include <cmath>

#include "core/dtype.h"

namespace edgepack {

namespace {

// Squared error of x against scale * (round(x / scale) clamped to [lo, hi]).
double rounding_error(const float* x, int64_t n, float scale, int lo, int hi) {
  if (scale == 0.0f) {
    double err = 0;
    for (int64_t i = 0; i < n; ++i) err += static_cast<double>(x[i]) * x[i];
    return err;
  }
  const float inv = 1.0f / scale;
  double err = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float l = std::clamp(std::nearbyint(x[i] * inv), static_cast<float>(lo), static_cast<float>(hi));
    const double d = static_cast<double>(x[i]) - static_cast<double>(scale) * l;
    err += d * d;
  }
  return err;
}

// Least-squares scale for the codes that `scale` rounds to: argmin_s sum (x - s*l)^2.
float refit_scale(const float* x, int64_t n, float scale, int lo, int hi) {
  const float inv = 1.0f / scale;
  double xl = 0, ll = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float l = std::clamp(std::nearbyint(x[i] * inv), static_cast<float>(lo), static_cast<float>(hi));
    xl += static_cast<double>(x[i]) * l;
    ll += static_cast<double>(l) * l;
  }
  return ll > 0 ? static_cast<float>(xl / ll) : scale;
}

float symmetric_scale(const float* x, int64_t n, int bits, int search_steps) {
  float extreme = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(extreme)) extreme = x[i];
  if (extreme == 0.0f) return 0.0f;
  const int zero = 1 << (bits - 1);
  const int lo = -zero, hi = zero - 1;
  float best = extreme / static_cast<float>(-zero);
  if (search_steps <= 0) return best;
  double best_err = rounding_error(x, n, f16_to_f32(f32_to_f16(best)), lo, hi);
  // Steps of a tenth of a level around the base divisor, as a small grid over clipping ratios.
  for (int step = -search_steps; step <= search_steps; ++step) {
    const float divisor = static_cast<float>(-zero) - 0.1f * static_cast<float>(step);
    if (divisor == 0.0f) continue;
    float candidate = refit_scale(x, n, extreme / divisor, lo, hi);
    if (candidate != 0.0f) candidate = refit_scale(x, n, candidate, lo, hi);
    const float stored = f16_to_f32(f32_to_f16(candidate));
    if (stored == 0.0f || !std::isfinite(stored)) continue;
    const double err = rounding_error(x, n, stored, lo, hi);
    if (err < best_err) {
      best_err = err;
      best = candidate;
    }
  }
  return best;
}

}  // namespace

void quantize_row_rtn(const float* row, int64_t cols, const quant_encoding& enc, const rtn_row_options& options, uint8_t* codes,
                      uint16_t* scales, uint8_t* zeros) {
  const int64_t groups = enc.groups_per_row(cols);
  const int64_t group = enc.effective_group(cols);
  const int levels = 1 << enc.bits;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t begin = g * group;
    const int64_t n = std::min(cols, begin + group) - begin;
    const float* x = row + begin;
    uint8_t* q = codes + begin;
    if (enc.symmetric) {
      const int zero = levels / 2;
      const uint16_t stored = f32_to_f16(symmetric_scale(x, n, enc.bits, options.scale_search_steps));
      scales[g] = stored;
      const float scale = f16_to_f32(stored);
      const float inv = scale == 0.0f ? 0.0f : 1.0f / scale;
      for (int64_t i = 0; i < n; ++i)
        q[i] = static_cast<uint8_t>(std::clamp(static_cast<int>(std::nearbyint(x[i] * inv)) + zero, 0, levels - 1));
    } else {
      float lo = 0.0f, hi = 0.0f;  // the range always contains 0 so zero is exactly representable
      for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
      }
      const uint16_t stored = f32_to_f16((hi - lo) / static_cast<float>(levels - 1));
      scales[g] = stored;
      const float scale = f16_to_f32(stored);
      if (scale == 0.0f) {
        zeros[g] = 0;
        std::fill(q, q + n, uint8_t{0});
        continue;
      }
      const int z = std::clamp(static_cast<int>(std::nearbyint(-lo / scale)), 0, levels - 1);
      zeros[g] = static_cast<uint8_t>(z);
      const float inv = 1.0f / scale;
      for (int64_t i = 0; i < n; ++i)
        q[i] = static_cast<uint8_t>(std::clamp(static_cast<int>(std::nearbyint(x[i] * inv)) + z, 0, levels - 1));
    }
  }
}

}  // namespace edgepack

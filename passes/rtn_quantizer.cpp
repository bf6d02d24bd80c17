#include "passes/rtn_quantizer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dtype.h"
#include "passes/rtn_group_kernels.h"

namespace edgepack {

namespace {

float symmetric_scale(const float* x, int64_t padded, float extreme, int bits, int search_steps) {
  const float base = extreme / static_cast<float>(-(1 << (bits - 1)));
  if (search_steps <= 0) return base;
  const float best = rtn_best_symmetric_scale(x, padded, extreme, bits, search_steps);
  return best == 0.0f ? base : best;
}

}  // namespace

rtn_row_result quantize_row_rtn(const float* row, int64_t cols, const quant_encoding& enc, const rtn_row_options& options, uint8_t* codes,
                                uint16_t* scales, uint8_t* zeros) {
  const int64_t groups = enc.groups_per_row(cols);
  const int64_t group = enc.effective_group(cols);
  const int levels = 1 << enc.bits;
  // Zero-padded copies of one group and its codes, so the kernels always see whole lanes of 8.
  thread_local std::vector<float> padded;
  thread_local std::vector<uint8_t> padded_codes;
  padded.assign(static_cast<size_t>((group + 7) / 8 * 8), 0.0f);
  padded_codes.resize(padded.size());
  rtn_row_result result;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t begin = g * group;
    const int64_t n = std::min(cols, begin + group) - begin;
    const int64_t n8 = (n + 7) / 8 * 8;
    const float* x = row + begin;
    std::copy(x, x + n, padded.begin());
    std::fill(padded.begin() + n, padded.begin() + n8, 0.0f);
    const group_range range = rtn_group_range(padded.data(), n8);
    if (!range.finite) {
      result.finite = false;
      return result;
    }
    const float extreme = range.extreme(), lo = range.min, hi = range.max;
    const double sum_sq = range.sum_sq;
    result.squared_norm += sum_sq;
    int zero;
    uint16_t stored;
    if (enc.symmetric) {
      zero = levels / 2;
      stored = extreme == 0.0f ? uint16_t{0} : f32_to_f16(symmetric_scale(padded.data(), n8, extreme, enc.bits, options.scale_search_steps));
    } else {
      // The range always contains 0, so 0 is exactly representable.
      stored = f32_to_f16((hi - lo) / static_cast<float>(levels - 1));
      const float s = f16_to_f32(stored);
      zero = s == 0.0f ? 0 : std::clamp(static_cast<int>(std::nearbyint(-lo / s)), 0, levels - 1);
      zeros[g] = static_cast<uint8_t>(zero);
    }
    scales[g] = stored;
    const float scale = f16_to_f32(stored);
    const float inv = scale == 0.0f ? 0.0f : 1.0f / scale;
    result.squared_error += rtn_quantize_group(padded.data(), n8, inv, scale, zero, levels, padded_codes.data());
    std::copy(padded_codes.begin(), padded_codes.begin() + n, codes + begin);
  }
  return result;
}

}  // namespace edgepack

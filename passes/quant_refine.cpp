#include "passes/quant_refine.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/parallel.h"
#include "core/quant_codes.h"

namespace edgepack {

namespace {

struct quant_refine_plan {
  int64_t rows = 0, cols = 0, groups = 0, group = 0;
  quant_encoding enc;
  int levels = 0;
  const quant_refine_options* options = nullptr;
  std::vector<double> h;  // damped Hessian [cols, cols]
};

// The state of one row; q, e = w - q and he = H e are kept consistent.
struct quant_refine_row {
  std::vector<double> w, q, e, he;
  std::vector<int> codes;
  std::vector<uint16_t> scale_bits;
  std::vector<int> zeros;
  double f = 0;
};

double refine_scale_of(const quant_refine_row& s, int64_t g) { return static_cast<double>(f16_to_f32(s.scale_bits[static_cast<size_t>(g)])); }

// q, e, he and f from codes and scales (O(cols^2)).
void refine_recompute(const quant_refine_plan& p, quant_refine_row& s) {
  const int64_t cols = p.cols;
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t g = j / p.group;
    s.q[j] = refine_scale_of(s, g) * (s.codes[j] - s.zeros[g]);
    s.e[j] = s.w[j] - s.q[j];
  }
  double f = 0;
  for (int64_t k = 0; k < cols; ++k) {
    const double* hk = &p.h[static_cast<size_t>(k * cols)];
    double acc = 0;
    for (int64_t j = 0; j < cols; ++j) acc += hk[j] * s.e[j];
    s.he[k] = acc;
    f += s.e[k] * acc;
  }
  s.f = f;
}

// H-weighted least-squares scales for the current codes; kept only when f goes down.
void refine_refit_scales(const quant_refine_plan& p, quant_refine_row& s) {
  const int64_t cols = p.cols, groups = p.groups;
  std::vector<int64_t> active;  // group -> index in the system, -1 when all codes sit at the zero point
  std::vector<int64_t> slot(static_cast<size_t>(groups), -1);
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t end = std::min(cols, (g + 1) * p.group);
    for (int64_t j = g * p.group; j < end; ++j)
      if (s.codes[j] != s.zeros[g]) {
        slot[g] = static_cast<int64_t>(active.size());
        active.push_back(g);
        break;
      }
  }
  const int64_t n = static_cast<int64_t>(active.size());
  if (n == 0) return;
  // ha = H A [cols, n]; M = A^T H A; b = A^T H w = (H A)^T w.
  Eigen::MatrixXd ha = Eigen::MatrixXd::Zero(cols, n);
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t g = j / p.group;
    const double a = s.codes[j] - s.zeros[g];
    if (a == 0 || slot[g] < 0) continue;
    const double* hj = &p.h[static_cast<size_t>(j * cols)];  // column j = row j (symmetric)
    for (int64_t k = 0; k < cols; ++k) ha(k, slot[g]) += hj[k] * a;
  }
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n, n);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  for (int64_t k = 0; k < cols; ++k) {
    const int64_t g = k / p.group;
    const double a = s.codes[k] - s.zeros[g];
    for (int64_t c = 0; c < n; ++c) b(c) += ha(k, c) * s.w[k];
    if (a == 0 || slot[g] < 0) continue;
    for (int64_t c = 0; c < n; ++c) m(slot[g], c) += a * ha(k, c);
  }
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(m);
  if (ldlt.info() != Eigen::Success) return;
  const Eigen::VectorXd solution = ldlt.solve(b);
  const std::vector<uint16_t> old_bits = s.scale_bits;
  const std::vector<double> old_q = s.q, old_e = s.e, old_he = s.he;
  const double old_f = s.f;
  for (int64_t c = 0; c < n; ++c) {
    const float value = static_cast<float>(solution(c));
    const uint16_t bits = f32_to_f16(value);
    if (!std::isfinite(solution(c)) || !std::isfinite(f16_to_f32(bits)) || f16_to_f32(bits) == 0.0f) {
      s.scale_bits = old_bits;
      return;
    }
    s.scale_bits[static_cast<size_t>(active[static_cast<size_t>(c)])] = bits;
  }
  refine_recompute(p, s);
  if (!(s.f < old_f)) {
    s.scale_bits = old_bits;
    s.q = old_q;
    s.e = old_e;
    s.he = old_he;
    s.f = old_f;
  }
}

// One coordinate-descent pass over the codes in column order.
void refine_sweep_codes(const quant_refine_plan& p, quant_refine_row& s) {
  const int64_t cols = p.cols;
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t g = j / p.group;
    const double scale = refine_scale_of(s, g);
    const double hjj = p.h[static_cast<size_t>(j * cols + j)];
    if (scale == 0 || !(hjj > 0)) continue;
    const double target = s.q[j] + s.he[j] / hjj;
    const double rounded = std::nearbyint(target / scale) + s.zeros[g];
    const int code = static_cast<int>(std::clamp(rounded, 0.0, static_cast<double>(p.levels - 1)));
    if (code == s.codes[j]) continue;
    const double d = scale * (code - s.codes[j]);
    const double delta = -2 * d * s.he[j] + d * d * hjj;
    if (!(delta < 0)) continue;
    s.codes[j] = code;
    s.q[j] += d;
    s.e[j] -= d;
    const double* hj = &p.h[static_cast<size_t>(j * cols)];
    for (int64_t k = 0; k < cols; ++k) s.he[k] -= d * hj[k];
    s.f += delta;
  }
  refine_recompute(p, s);  // drop the drift of the incremental updates
}

}  // namespace

Expected<quant_refine_result> refine_quantized_weight(std::span<const float> weight, int64_t rows, int64_t cols,
                                                      std::span<const double> hessian, const tensor& quantized,
                                                      const quant_refine_options& options) {
  if (!quantized.is_quantized()) return bad_usage("refinement needs a quantized tensor");
  const quant_encoding& enc = quantized.quant;
  if (enc.col_axis != -1 || enc.transposed || quantized.shape.size() != 2 || quantized.shape[0] != rows || quantized.shape[1] != cols)
    return bad_usage("refinement works on a plain [rows, cols] matrix view");
  if (rows <= 0 || cols <= 0) return bad_usage("refinement needs a non-empty weight");
  if (static_cast<int64_t>(weight.size()) != rows * cols) return bad_usage("weight size does not match rows x cols");
  if (static_cast<int64_t>(hessian.size()) != cols * cols) return bad_usage("Hessian is not [cols, cols] for this weight");
  if (options.damp < 0 || !std::isfinite(options.damp)) return bad_usage("damping must be a non-negative number");
  if (options.sweeps < 0) return bad_usage("sweeps must be >= 0");

  quant_refine_plan p;
  p.rows = rows;
  p.cols = cols;
  p.enc = enc;
  p.groups = enc.groups_per_row(cols);
  p.group = enc.effective_group(cols);
  p.levels = 1 << enc.bits;
  p.options = &options;
  p.h.assign(hessian.begin(), hessian.end());
  std::vector<bool> dead(static_cast<size_t>(cols), false);
  double mean_diag = 0;
  for (int64_t i = 0; i < cols; ++i) {
    double& d = p.h[static_cast<size_t>(i * cols + i)];
    if (d == 0.0) {
      dead[static_cast<size_t>(i)] = true;
      d = 1.0;  // as GPTQ: an unused input, any value is free; keep the diagonal positive
    }
    mean_diag += d;
  }
  const double lambda = options.damp * mean_diag / static_cast<double>(cols);
  for (int64_t i = 0; i < cols; ++i) p.h[static_cast<size_t>(i * cols + i)] += lambda;

  std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));
  std::vector<uint16_t> scales(static_cast<size_t>(rows * p.groups));
  std::vector<uint8_t> zeros(enc.symmetric ? 0 : static_cast<size_t>(rows * p.groups));
  std::vector<double> before(static_cast<size_t>(rows)), after(static_cast<size_t>(rows));
  std::vector<int64_t> changed_codes(static_cast<size_t>(rows)), changed_scales(static_cast<size_t>(rows));
  const auto* in_scales = reinterpret_cast<const uint16_t*>(quantized.scales.data);

  parallel_for(rows, options.threads, [&](int64_t begin, int64_t end) {
    quant_refine_row s;
    s.w.resize(static_cast<size_t>(cols));
    s.q.resize(static_cast<size_t>(cols));
    s.e.resize(static_cast<size_t>(cols));
    s.he.resize(static_cast<size_t>(cols));
    s.codes.resize(static_cast<size_t>(cols));
    s.scale_bits.resize(static_cast<size_t>(p.groups));
    s.zeros.resize(static_cast<size_t>(p.groups));
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t j = 0; j < cols; ++j) {
        s.w[j] = dead[static_cast<size_t>(j)] ? 0.0 : static_cast<double>(weight[static_cast<size_t>(r * cols + j)]);
        s.codes[j] = read_code(quantized.data.data, enc.bits, static_cast<uint64_t>(r * cols + j));
      }
      for (int64_t g = 0; g < p.groups; ++g) {
        const uint64_t index = static_cast<uint64_t>(r * p.groups + g);
        std::memcpy(&s.scale_bits[g], in_scales + index, sizeof(uint16_t));
        s.zeros[g] = enc.symmetric ? static_cast<int>(enc.implicit_zero()) : read_code(quantized.zeros.data, enc.bits, index);
      }
      refine_recompute(p, s);
      before[static_cast<size_t>(r)] = s.f;
      if (options.refit_scales) refine_refit_scales(p, s);
      for (int i = 0; i < options.sweeps; ++i) {
        refine_sweep_codes(p, s);
        if (options.refit_scales) refine_refit_scales(p, s);
      }
      after[static_cast<size_t>(r)] = s.f;
      int64_t nc = 0, ns = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const size_t index = static_cast<size_t>(r * cols + j);
        nc += read_code(quantized.data.data, enc.bits, index) != s.codes[j];
        codes[index] = static_cast<uint8_t>(s.codes[j]);
      }
      for (int64_t g = 0; g < p.groups; ++g) {
        const size_t index = static_cast<size_t>(r * p.groups + g);
        uint16_t old_bits = 0;
        std::memcpy(&old_bits, in_scales + index, sizeof(uint16_t));
        ns += old_bits != s.scale_bits[g];
        scales[index] = s.scale_bits[g];
        if (!enc.symmetric) zeros[index] = static_cast<uint8_t>(s.zeros[g]);
      }
      changed_codes[static_cast<size_t>(r)] = nc;
      changed_scales[static_cast<size_t>(r)] = ns;
    }
  });

  quant_refine_result result;
  for (int64_t r = 0; r < rows; ++r) {
    result.stats.error_before += before[static_cast<size_t>(r)];
    result.stats.error_after += after[static_cast<size_t>(r)];
    result.stats.codes_changed += changed_codes[static_cast<size_t>(r)];
    result.stats.scales_changed += changed_scales[static_cast<size_t>(r)];
  }
  result.weight = make_quantized_tensor(quantized.shape, enc, codes, scales, zeros);
  return result;
}

}  // namespace edgepack

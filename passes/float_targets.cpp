#include "passes/float_targets.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"

namespace edgepack {

Expected<tensor> paired_activation(const gptq_observer& observer, const tensor& quantized_input, const tensor& float_input) {
  const tensor& a = quantized_input;
  const tensor& b = float_input;
  if (a.type != dtype::f32 || b.type != dtype::f32 || a.is_encoded() || b.is_encoded() || a.shape != b.shape || a.shape.empty())
    return bad_input("float targets: input '" + observer.activation + "' of the quantized model is " + shape_to_string(a.shape) +
                     ", of the float model " + shape_to_string(b.shape) + "; expected two dense f32 tensors of one shape");
  const size_t axis = observer.kind == gptq_reader_kind::conv ? 1 : a.shape.size() - 1;
  if (axis >= a.shape.size()) return bad_input("float targets: input '" + observer.activation + "' has no channel axis");
  int64_t outer = 1, block = 1;
  for (size_t d = 0; d < axis; ++d) outer *= a.shape[d];
  for (size_t d = axis; d < a.shape.size(); ++d) block *= a.shape[d];
  std::vector<int64_t> shape = a.shape;
  shape[axis] *= 2;
  tensor out = tensor::allocate(dtype::f32, shape);
  float* dst = out.mutable_data_as<float>();
  const size_t bytes = static_cast<size_t>(block) * sizeof(float);
  for (int64_t o = 0; o < outer; ++o) {
    if (bytes == 0) break;
    std::memcpy(dst + (2 * o) * block, a.data_as<float>() + o * block, bytes);
    std::memcpy(dst + (2 * o + 1) * block, b.data_as<float>() + o * block, bytes);
  }
  return out;
}

gptq_observer paired_observer(const gptq_observer& observer) {
  gptq_observer o = observer;
  o.dim = 2 * observer.dim;
  return o;
}

split_hessian split_paired_hessian(std::span<const double> paired, int64_t dim) {
  split_hessian s;
  s.h.resize(static_cast<size_t>(dim * dim));
  s.cross.resize(static_cast<size_t>(dim * dim));
  const int64_t n = 2 * dim;
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = 0; j < dim; ++j) {
      s.h[static_cast<size_t>(i * dim + j)] = paired[static_cast<size_t>(i * n + j)];
      s.cross[static_cast<size_t>(i * dim + j)] = paired[static_cast<size_t>((dim + i) * n + j)];
    }
  return s;
}

Expected<std::vector<float>> float_target_weight(std::span<const float> w, int64_t rows, int64_t cols, std::span<const double> h,
                                                 std::span<const double> cross, double damp) {
  if (rows <= 0 || cols <= 0 || static_cast<int64_t>(w.size()) != rows * cols) return bad_usage("float targets: weight is not [rows, cols]");
  if (static_cast<int64_t>(h.size()) != cols * cols || static_cast<int64_t>(cross.size()) != cols * cols)
    return bad_usage("float targets: Hessian or cross term is not [cols, cols]");
  if (damp < 0 || !std::isfinite(damp)) return bad_usage("damping must be a non-negative number");
  using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  matrix hd = Eigen::Map<const matrix>(h.data(), cols, cols);
  const Eigen::Map<const matrix> c(cross.data(), cols, cols);
  const matrix diff = c - hd;
  double mean = 0;
  for (int64_t i = 0; i < cols; ++i) {
    if (hd(i, i) == 0.0) hd(i, i) = 1.0;
    mean += hd(i, i);
  }
  const double lambda = damp * mean / static_cast<double>(cols);
  // A positive ridge is what keeps W' bounded when H is singular; without damping use a tiny one.
  const double ridge = lambda > 0 ? lambda : 1e-10 * mean / static_cast<double>(cols);
  for (int64_t i = 0; i < cols; ++i) hd(i, i) += ridge;
  matrix wm(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) wm.data()[i] = w[static_cast<size_t>(i)];
  const matrix m = wm * diff;  // W (C - H)
  const Eigen::LDLT<matrix> ldlt(hd);
  if (ldlt.info() != Eigen::Success) return internal_error("float targets: damped Hessian is not positive definite");
  const matrix correction = ldlt.solve(m.transpose()).transpose();  // (H + lambda I) symmetric
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) {
    const double v = wm.data()[i] + correction.data()[i];
    if (!std::isfinite(v)) return bad_input("float targets: the corrected weight is not finite (calibration inputs out of range?)");
    out[static_cast<size_t>(i)] = static_cast<float>(v);
  }
  return out;
}

}  // namespace edgepack

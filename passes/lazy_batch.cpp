#include "passes/lazy_batch.h"

#include <Eigen/Core>

#include "runtime_ref/gemm_kernels.h"

namespace edgepack {

float lazy_row::pending(int64_t j, int64_t k) const {
  float v = x_[j];
  if (j >= i2_)
    for (int64_t c = i1_; c < k; ++c) v -= e_[c - i1_] * u_[c * cols_ + j];
  return v;
}

float lazy_row::settle(int64_t k, float kept) {
  const float e_k = (x_[k] - kept) / u_[k * cols_ + k];
  e_[k - i1_] = e_k;
  const int64_t rest = i2_ - k - 1;
  // In-block update, one multiply and one subtract per element (the same bits however Eigen
  // vectorises it). A zero error changes nothing.
  if (rest > 0 && e_k != 0.0f)
    Eigen::Map<Eigen::VectorXf>(x_ + k + 1, rest) -= e_k * Eigen::Map<const Eigen::VectorXf>(u_ + k * cols_ + k + 1, rest);
  return e_k;
}

void pending_group_params(const lazy_row& x, int64_t k, int64_t n, const quant_encoding& enc, const rtn_row_options& rtn, uint16_t* scale,
                          uint8_t* zero) {
  thread_local std::vector<float> values;
  thread_local std::vector<uint8_t> codes;
  values.resize(static_cast<size_t>(n));
  codes.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) values[static_cast<size_t>(j)] = x.pending(k + j, k);
  quant_encoding single = enc;
  single.group_size = 0;
  *zero = static_cast<uint8_t>(enc.implicit_zero());
  (void)quantize_row_rtn(values.data(), n, single, rtn, codes.data(), scale, zero);
}

void lazy_batch_sweep::apply_block(float* x, int64_t t, int64_t i1, int64_t i2) const {
  if (i2 >= cols_) return;
  gemm_f32(t, cols_ - i2, i2 - i1, gemm_view{err_.data(), block_, 1}, gemm_view{u_ + i1 * cols_ + i2, cols_, 1}, x + i2, cols_,
           gemm_update::subtract);
}

}  // namespace edgepack

// Gemm: Y = alpha * op(A) * op(B) + beta * C, with C unidirectionally broadcast to [M, N].
// The product runs through gemm_f32 (runtime_ref/gemm_kernels.h) in fixed column blocks (blocked_product); gemm_naive is the definition.
#include <Eigen/Core>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernel.h"
#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/sparse_linear.h"

namespace edgepack {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Status kernel_gemm(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& a = *io.input(0);
  const tensor& b = *io.input(1);
  // A packed sparse weight (left packed by the interpreter only for transB = 1 readers).
  const bool packed = b.is_sparse() && sparse_linear_supported(b) && io.op.int_attr("transB", 0) != 0;
  if (!packed) EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  if (b.is_encoded() && !packed) return io.fail("B is an encoded weight this kernel cannot read");
  if (a.shape.size() != 2 || b.shape.size() != 2)
    return io.fail("A and B must be 2-D, got " + shape_to_string(a.shape) + " and " + shape_to_string(b.shape));
  const bool trans_a = io.op.int_attr("transA", 0) != 0;
  const bool trans_b = io.op.int_attr("transB", 0) != 0;
  const float alpha = static_cast<float>(io.op.float_attr("alpha", 1.0));
  const float beta = static_cast<float>(io.op.float_attr("beta", 1.0));
  const int64_t m = trans_a ? a.shape[1] : a.shape[0];
  const int64_t k = trans_a ? a.shape[0] : a.shape[1];
  const int64_t kb = trans_b ? b.shape[1] : b.shape[0];
  const int64_t n = trans_b ? b.shape[0] : b.shape[1];
  if (k != kb) return io.fail("inner dimensions differ: A " + shape_to_string(a.shape) + ", B " + shape_to_string(b.shape));
  Eigen::Map<const row_major> ma(a.data_as<float>(), a.shape[0], a.shape[1]);
  Eigen::Map<const row_major> mb(b.data_as<float>(), b.shape[0], b.shape[1]);
  tensor out = tensor::allocate(dtype::f32, {m, n});
  Eigen::Map<row_major> y(out.mutable_data_as<float>(), m, n);
  if (packed) {
    if (trans_a) {
      const row_major at = ma.transpose();
      sparse_linear(b, at.data(), m, out.mutable_data_as<float>());
    } else {
      sparse_linear(b, a.data_as<float>(), m, out.mutable_data_as<float>());
    }
  } else if (trans_a && trans_b) blocked_product(y, ma.transpose(), mb.transpose());
  else if (trans_a) blocked_product(y, ma.transpose(), mb);
  else if (trans_b) blocked_product(y, ma, mb.transpose());
  else blocked_product(y, ma, mb);
  if (alpha != 1.0f) y *= alpha;
  if (const tensor* c = io.input(2); c != nullptr && beta != 0.0f) {
    EP_RETURN_IF_ERROR(io.require_type(2, dtype::f32));
    auto shape = broadcast_shape(c->shape, {m, n});
    if (!shape || *shape != std::vector<int64_t>{m, n}) return io.fail("C of shape " + shape_to_string(c->shape) + " does not broadcast to [M, N]");
    const auto strides = broadcast_strides(c->shape, {m, n});
    const float* pc = c->data_as<float>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) y(i, j) += beta * pc[i * strides[0] + j * strides[1]];
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

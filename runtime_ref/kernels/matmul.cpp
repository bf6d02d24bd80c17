// MatMul with numpy semantics: 1-D operands are promoted, batch dims broadcast.
// Fast path: gemm_f32 (runtime_ref/gemm_kernels.h) in fixed column blocks (blocked_product); matmul_naive is the definition.
#include <Eigen/Core>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernel.h"
#include "runtime_ref/kernel_threads.h"

namespace edgepack {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Status kernel_matmul(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  std::vector<int64_t> sa = io.input(0)->shape;
  std::vector<int64_t> sb = io.input(1)->shape;
  if (sa.empty() || sb.empty()) return io.fail("operands must have rank >= 1");
  const bool a_vector = sa.size() == 1;
  const bool b_vector = sb.size() == 1;
  if (a_vector) sa.insert(sa.begin(), 1);
  if (b_vector) sb.push_back(1);
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  if (sb[sb.size() - 2] != k) return io.fail("inner dimensions differ: " + shape_to_string(io.input(0)->shape) + " x " + shape_to_string(io.input(1)->shape));
  const std::vector<int64_t> batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  auto batch = broadcast_shape(batch_a, batch_b);
  if (!batch) return io.fail("batch dimensions do not broadcast");
  std::vector<int64_t> out_shape = *batch;
  if (!a_vector) out_shape.push_back(m);
  if (!b_vector) out_shape.push_back(n);
  tensor out = tensor::allocate(dtype::f32, out_shape);
  int64_t batches = 1;
  for (int64_t d : *batch) batches *= d;
  const auto stride_a = broadcast_strides(batch_a, *batch);
  const auto stride_b = broadcast_strides(batch_b, *batch);
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t rem = bi, offset_a = 0, offset_b = 0;
    for (size_t d = batch->size(); d-- > 0;) {
      const int64_t idx = rem % (*batch)[d];
      rem /= (*batch)[d];
      offset_a += idx * stride_a[d];
      offset_b += idx * stride_b[d];
    }
    Eigen::Map<const row_major> ma(io.input(0)->data_as<float>() + offset_a * m * k, m, k);
    Eigen::Map<const row_major> mb(io.input(1)->data_as<float>() + offset_b * k * n, k, n);
    Eigen::Map<row_major> y(out.mutable_data_as<float>() + bi * m * n, m, n);
    blocked_product(y, ma, mb);
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

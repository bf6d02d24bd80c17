// VJPs of the dense ops (runtime_ref/backward_ops.h). Products run on the default GEMM kernels;
// reductions (RMSNormalization, broadcast sums) accumulate in double like the forward kernels.
#include "runtime_ref/backward_ops.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/gemm_kernels.h"

namespace edgepack {

Status vjp_io::fail(const std::string& message) const {
  return bad_input("node '" + op.name + "' (" + op.op_type + "): gradient: " + message);
}

namespace {

tensor zeros_like(const tensor& t) { return tensor::allocate(dtype::f32, t.shape); }

tensor transposed(const tensor& t) {  // 2-D
  const int64_t r = t.shape[0], c = t.shape[1];
  tensor out = tensor::allocate(dtype::f32, {c, r});
  const float* p = t.data_as<float>();
  float* q = out.mutable_data_as<float>();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) q[j * r + i] = p[i * c + j];
  return out;
}

void scale_in_place(tensor& t, double factor) {
  if (factor == 1.0) return;
  float* p = t.mutable_data_as<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(p[i] * factor);
}

// sum of `values` (laid out as `out`, the broadcast shape) over the dims `in` was broadcast along,
// times the broadcast `factor` tensor when given (Mul): the gradient of an operand of shape `in`.
tensor reduce_to(const tensor& dy, const tensor* factor, const std::vector<int64_t>& in) {
  const std::vector<int64_t> in_strides = broadcast_strides(in, dy.shape);
  const std::vector<int64_t> factor_strides = factor != nullptr ? broadcast_strides(factor->shape, dy.shape) : std::vector<int64_t>{};
  int64_t count = 1;
  for (const int64_t d : in) count *= d;
  std::vector<double> sums(static_cast<size_t>(count), 0.0);
  const size_t rank = dy.shape.size();
  std::vector<int64_t> index(rank, 0);
  const float* g = dy.data_as<float>();
  for (int64_t flat = 0; flat < dy.numel(); ++flat) {
    int64_t target = 0, source = 0;
    for (size_t d = 0; d < rank; ++d) {
      target += index[d] * in_strides[d];
      if (factor != nullptr) source += index[d] * factor_strides[d];
    }
    sums[static_cast<size_t>(target)] += factor != nullptr ? static_cast<double>(g[flat]) * factor->data_as<float>()[source] : g[flat];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < dy.shape[d]) break;
      index[d] = 0;
    }
  }
  tensor out = tensor::allocate(dtype::f32, in);
  for (size_t i = 0; i < sums.size(); ++i) out.mutable_data_as<float>()[i] = static_cast<float>(sums[i]);
  return out;
}

Status require_f32(const vjp_io& io, size_t input) {
  if (io.inputs[input] == nullptr || io.inputs[input]->type != dtype::f32) return io.fail("input " + std::to_string(input) + " must be f32");
  return Status::ok_status();
}

// Gradients of C[m, n] = A[m, k] · B[k, n] (row-major, plain): dA = dC Bᵀ, dB = Aᵀ dC.
void matrix_product_grads(const float* a, const float* b, const float* dc, int64_t m, int64_t k, int64_t n, float* da, float* db) {
  if (da != nullptr) gemm_f32(m, k, n, gemm_view{dc, n, 1}, gemm_view{b, 1, n}, da, k);
  if (db != nullptr) gemm_f32(k, n, m, gemm_view{a, 1, k}, gemm_view{dc, n, 1}, db, n);
}

}  // namespace

// Y = alpha A' B' + beta C with A' = transA ? Aᵀ : A, B' likewise.
Status vjp_gemm(vjp_io& io) {
  EP_RETURN_IF_ERROR(require_f32(io, 0));
  EP_RETURN_IF_ERROR(require_f32(io, 1));
  const tensor& a = *io.inputs[0];
  const tensor& b = *io.inputs[1];
  const tensor* dy = io.grad(0);
  if (a.shape.size() != 2 || b.shape.size() != 2) return io.fail("A and B must be 2-D");
  const bool trans_a = io.op.int_attr("transA", 0) != 0, trans_b = io.op.int_attr("transB", 0) != 0;
  const double alpha = io.op.float_attr("alpha", 1.0), beta = io.op.float_attr("beta", 1.0);
  // Plain row-major operands: A' [m, k] and B' [k, n] (transposed copies where stored transposed).
  const tensor a_plain = trans_a ? transposed(a) : a;
  const tensor b_plain = trans_b ? transposed(b) : b;
  const int64_t m = a_plain.shape[0], k = a_plain.shape[1], n = b_plain.shape[1];
  if (dy->shape != std::vector<int64_t>{m, n}) return io.fail("output gradient has shape " + shape_to_string(dy->shape));
  if (io.wants(0)) {
    tensor da = tensor::allocate(dtype::f32, {m, k});
    matrix_product_grads(a_plain.data_as<float>(), b_plain.data_as<float>(), dy->data_as<float>(), m, k, n, da.mutable_data_as<float>(), nullptr);
    scale_in_place(da, alpha);
    io.input_grads[0] = trans_a ? transposed(da) : std::move(da);
  }
  if (io.wants(1)) {
    tensor db = tensor::allocate(dtype::f32, {k, n});
    matrix_product_grads(a_plain.data_as<float>(), b_plain.data_as<float>(), dy->data_as<float>(), m, k, n, nullptr, db.mutable_data_as<float>());
    scale_in_place(db, alpha);
    io.input_grads[1] = trans_b ? transposed(db) : std::move(db);
  }
  if (io.wants(2)) {
    const tensor& c = *io.inputs[2];
    if (c.shape.size() > 2) return io.fail("C must have rank at most 2");
    io.input_grads[2] = reduce_to(*dy, nullptr, c.shape);
    scale_in_place(io.input_grads[2], beta);
  }
  return Status::ok_status();
}

// A [..., m, k] · B [k, n] (B 2-D): the rows of A are independent.
Status vjp_matmul(vjp_io& io) {
  EP_RETURN_IF_ERROR(require_f32(io, 0));
  EP_RETURN_IF_ERROR(require_f32(io, 1));
  const tensor& a = *io.inputs[0];
  const tensor& b = *io.inputs[1];
  if (a.shape.size() < 2 || b.shape.size() != 2 || a.shape.back() != b.shape[0])
    return io.fail("only A [..., m, k] times a 2-D B [k, n] is supported, got " + shape_to_string(a.shape) + " and " + shape_to_string(b.shape));
  const int64_t k = b.shape[0], n = b.shape[1], m = a.numel() / k;
  const tensor* dy = io.grad(0);
  if (io.wants(0)) io.input_grads[0] = zeros_like(a);
  if (io.wants(1)) io.input_grads[1] = zeros_like(b);
  matrix_product_grads(a.data_as<float>(), b.data_as<float>(), dy->data_as<float>(), m, k, n,
                       io.wants(0) ? io.input_grads[0].mutable_data_as<float>() : nullptr, io.wants(1) ? io.input_grads[1].mutable_data_as<float>() : nullptr);
  return Status::ok_status();
}

Status vjp_add(vjp_io& io) {
  for (size_t i = 0; i < 2; ++i) {
    EP_RETURN_IF_ERROR(require_f32(io, i));
    if (io.wants(i)) io.input_grads[i] = reduce_to(*io.grad(0), nullptr, io.inputs[i]->shape);
  }
  return Status::ok_status();
}

Status vjp_mul(vjp_io& io) {
  for (size_t i = 0; i < 2; ++i) {
    EP_RETURN_IF_ERROR(require_f32(io, i));
    if (io.wants(i)) io.input_grads[i] = reduce_to(*io.grad(0), io.inputs[1 - i], io.inputs[i]->shape);
  }
  return Status::ok_status();
}

Status vjp_sigmoid(vjp_io& io) {
  EP_RETURN_IF_ERROR(require_f32(io, 0));
  const tensor& y = *io.outputs[0];
  const tensor& dy = *io.grad(0);
  tensor dx = zeros_like(*io.inputs[0]);
  for (int64_t i = 0; i < dx.numel(); ++i) {
    const float s = y.data_as<float>()[i];
    dx.mutable_data_as<float>()[i] = dy.data_as<float>()[i] * s * (1.0f - s);
  }
  io.input_grads[0] = std::move(dx);
  return Status::ok_status();
}

Status vjp_reshape(vjp_io& io) {
  if (io.wants(1)) return io.fail("the shape input has no gradient");
  const tensor& dy = *io.grad(0);
  io.input_grads[0] = tensor::from_values<float>(dtype::f32, io.inputs[0]->shape, std::span<const float>(dy.data_as<float>(), static_cast<size_t>(dy.numel())));
  return Status::ok_status();
}

// Gather along axis 0 (an embedding lookup): scatter-add into the rows of data.
Status vjp_gather(vjp_io& io) {
  if (io.wants(1)) return io.fail("indices have no gradient");
  const tensor& data = *io.inputs[0];
  const tensor& indices = *io.inputs[1];
  if (io.op.int_attr("axis", 0) != 0 || data.shape.empty() || indices.type != dtype::i64) return io.fail("only axis 0 with int64 indices is supported");
  const int64_t rows = data.shape[0], row = data.numel() / std::max<int64_t>(rows, 1);
  tensor dd = zeros_like(data);
  const float* g = io.grad(0)->data_as<float>();
  for (int64_t i = 0; i < indices.numel(); ++i) {
    int64_t r = indices.data_as<int64_t>()[i];
    if (r < 0) r += rows;
    if (r < 0 || r >= rows) return io.fail("index out of range");
    for (int64_t c = 0; c < row; ++c) dd.mutable_data_as<float>()[r * row + c] += g[i * row + c];
  }
  io.input_grads[0] = std::move(dd);
  return Status::ok_status();
}

// y = x r s with r = 1 / sqrt(mean(x²) + eps) per normalized row: dx = r u - x r³ (x·u) / n with
// u = s ⊙ dy; ds = Σ_rows dy ⊙ x r.
Status vjp_rms_normalization(vjp_io& io) {
  EP_RETURN_IF_ERROR(require_f32(io, 0));
  EP_RETURN_IF_ERROR(require_f32(io, 1));
  const tensor& x = *io.inputs[0];
  const tensor& s = *io.inputs[1];
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = io.op.int_attr("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return io.fail("axis out of range");
  int64_t inner = 1;
  for (int64_t d = axis; d < rank; ++d) inner *= x.shape[static_cast<size_t>(d)];
  if (s.numel() != inner || inner == 0) return io.fail("scale size does not match the normalized size");
  const double epsilon = io.op.float_attr("epsilon", 1e-5);
  const int64_t outer = x.numel() / inner;
  const float* px = x.data_as<float>();
  const float* ps = s.data_as<float>();
  const float* g = io.grad(0)->data_as<float>();
  tensor dx = zeros_like(x);
  std::vector<double> ds(static_cast<size_t>(inner), 0.0);
  for (int64_t r = 0; r < outer; ++r) {
    const float* xr = px + r * inner;
    const float* gr = g + r * inner;
    double sum = 0.0, dot = 0.0;
    for (int64_t i = 0; i < inner; ++i) {
      sum += static_cast<double>(xr[i]) * xr[i];
      dot += static_cast<double>(xr[i]) * ps[i] * gr[i];
    }
    const double inv = 1.0 / std::sqrt(sum / static_cast<double>(inner) + epsilon);
    const double correction = inv * inv * inv * dot / static_cast<double>(inner);
    for (int64_t i = 0; i < inner; ++i) {
      dx.mutable_data_as<float>()[r * inner + i] = static_cast<float>(inv * ps[i] * gr[i] - xr[i] * correction);
      ds[static_cast<size_t>(i)] += static_cast<double>(gr[i]) * xr[i] * inv;
    }
  }
  if (io.wants(0)) io.input_grads[0] = std::move(dx);
  if (io.wants(1)) {
    tensor dscale = zeros_like(s);
    for (int64_t i = 0; i < inner; ++i) dscale.mutable_data_as<float>()[i] = static_cast<float>(ds[static_cast<size_t>(i)]);
    io.input_grads[1] = std::move(dscale);
  }
  return Status::ok_status();
}

vjp_function find_vjp(const std::string& domain, const std::string& op_type) {
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  static const std::map<std::string, vjp_function> table = {
      {"Gemm", vjp_gemm},         {"MatMul", vjp_matmul},   {"Add", vjp_add},       {"Mul", vjp_mul},
      {"Sigmoid", vjp_sigmoid},   {"Reshape", vjp_reshape}, {"Gather", vjp_gather}, {"RMSNormalization", vjp_rms_normalization},
      {"RotaryEmbedding", vjp_rotary_embedding}, {"Attention", vjp_attention}};
  auto it = table.find(op_type);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace edgepack

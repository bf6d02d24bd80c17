#include "runtime_ref/naive_kernels.h"

#include <algorithm>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

Status matmul_naive(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  std::vector<int64_t> sa = io.input(0)->shape, sb = io.input(1)->shape;
  if (sa.empty() || sb.empty()) return io.fail("operands must have rank >= 1");
  const bool a_vector = sa.size() == 1, b_vector = sb.size() == 1;
  if (a_vector) sa.insert(sa.begin(), 1);
  if (b_vector) sb.push_back(1);
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  if (sb[sb.size() - 2] != k) return io.fail("inner dimensions differ");
  const std::vector<int64_t> batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  auto batch = broadcast_shape(batch_a, batch_b);
  if (!batch) return io.fail("batch dimensions do not broadcast");
  std::vector<int64_t> out_shape = *batch;
  if (!a_vector) out_shape.push_back(m);
  if (!b_vector) out_shape.push_back(n);
  tensor out = tensor::allocate(dtype::f32, out_shape);
  int64_t batches = 1;
  for (int64_t d : *batch) batches *= d;
  const auto stride_a = broadcast_strides(batch_a, *batch), stride_b = broadcast_strides(batch_b, *batch);
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t rem = bi, oa = 0, ob = 0;
    for (size_t d = batch->size(); d-- > 0;) {
      const int64_t idx = rem % (*batch)[d];
      rem /= (*batch)[d];
      oa += idx * stride_a[d];
      ob += idx * stride_b[d];
    }
    const float* a = io.input(0)->data_as<float>() + oa * m * k;
    const float* b = io.input(1)->data_as<float>() + ob * k * n;
    float* y = out.mutable_data_as<float>() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t p = 0; p < k; ++p) acc += double(a[i * k + p]) * b[p * n + j];
        y[i * n + j] = static_cast<float>(acc);
      }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status gemm_naive(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::f32));
  const tensor& a = *io.input(0);
  const tensor& b = *io.input(1);
  if (a.shape.size() != 2 || b.shape.size() != 2) return io.fail("A and B must be 2-D");
  const bool ta = io.op.int_attr("transA", 0) != 0, tb = io.op.int_attr("transB", 0) != 0;
  const double alpha = io.op.float_attr("alpha", 1.0), beta = io.op.float_attr("beta", 1.0);
  const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const int64_t n = tb ? b.shape[0] : b.shape[1];
  if ((tb ? b.shape[1] : b.shape[0]) != k) return io.fail("inner dimensions differ");
  const tensor* c = io.input(2);
  std::vector<int64_t> cs;
  if (c != nullptr) {
    auto shape = broadcast_shape(c->shape, {m, n});
    if (!shape || *shape != std::vector<int64_t>{m, n}) return io.fail("C does not broadcast to [M, N]");
    cs = broadcast_strides(c->shape, {m, n});
  }
  tensor out = tensor::allocate(dtype::f32, {m, n});
  const float* pa = a.data_as<float>();
  const float* pb = b.data_as<float>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < k; ++p) acc += double(ta ? pa[p * m + i] : pa[i * k + p]) * (tb ? pb[j * k + p] : pb[p * n + j]);
      acc *= alpha;
      if (c != nullptr) acc += beta * c->data_as<float>()[i * cs[0] + j * cs[1]];
      out.mutable_data_as<float>()[i * n + j] = static_cast<float>(acc);
    }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status conv_naive(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  for (size_t i = 0; i < 3; ++i) EP_RETURN_IF_ERROR(io.require_type(i, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& weight = *io.input(1);
  const tensor* bias = io.input(2);
  if (x.shape.size() < 3 || x.shape.size() > 4 || weight.shape.size() != x.shape.size()) return io.fail("X and W must be 3-D or 4-D");
  const int64_t batch = x.shape[0], channels = x.shape[1], maps = weight.shape[0], cg = weight.shape[1];
  const int64_t group = io.op.int_attr("group", 1);
  if (group < 1 || cg * group != channels || maps % group != 0) return io.fail("bad group");
  window_2d w;
  EP_RETURN_IF_ERROR(resolve_window(io, std::span<const int64_t>(x.shape.data() + 2, x.shape.size() - 2),
                                    std::span<const int64_t>(weight.shape.data() + 2, weight.shape.size() - 2), {}, w));
  std::vector<int64_t> out_shape{batch, maps};
  if (x.shape.size() == 4) out_shape.push_back(w.out[0]);
  out_shape.push_back(w.out[1]);
  tensor out = tensor::allocate(dtype::f32, out_shape);
  const float* px = x.data_as<float>();
  const float* pw = weight.data_as<float>();
  const int64_t mg = maps / group, kh = w.kernel[0], kw = w.kernel[1];
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < maps; ++o)
      for (int64_t oy = 0; oy < w.out[0]; ++oy)
        for (int64_t ox = 0; ox < w.out[1]; ++ox) {
          double acc = bias != nullptr ? bias->data_as<float>()[o] : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iy = oy * w.stride[0] - w.pad_begin[0] + i * w.dilation[0];
                const int64_t ix = ox * w.stride[1] - w.pad_begin[1] + j * w.dilation[1];
                if (iy < 0 || iy >= w.in[0] || ix < 0 || ix >= w.in[1]) continue;
                const int64_t c = (o / mg) * cg + ci;
                acc += double(px[((n * channels + c) * w.in[0] + iy) * w.in[1] + ix]) * pw[((o * cg + ci) * kh + i) * kw + j];
              }
          out.mutable_data_as<float>()[((n * maps + o) * w.out[0] + oy) * w.out[1] + ox] = static_cast<float>(acc);
        }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status conv_transpose_naive(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  for (size_t i = 0; i < 3; ++i) EP_RETURN_IF_ERROR(io.require_type(i, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& weight = *io.input(1);
  const tensor* bias = io.input(2);
  if (x.shape.size() < 3 || x.shape.size() > 4 || weight.shape.size() != x.shape.size()) return io.fail("X and W must be 3-D or 4-D");
  const size_t rank = x.shape.size() - 2;
  const int64_t batch = x.shape[0], channels = x.shape[1], group = io.op.int_attr("group", 1);
  if (group < 1 || channels % group != 0 || weight.shape[0] != channels) return io.fail("bad group or W");
  const int64_t mg = weight.shape[1], maps = mg * group, cg = channels / group;
  std::vector<int64_t> strides, dilations, pads, output_padding;
  EP_RETURN_IF_ERROR(read_window_ints(io, "strides", rank, 1, 1, strides));
  EP_RETURN_IF_ERROR(read_window_ints(io, "dilations", rank, 1, 1, dilations));
  EP_RETURN_IF_ERROR(read_window_ints(io, "pads", 2 * rank, 0, 0, pads));
  EP_RETURN_IF_ERROR(read_window_ints(io, "output_padding", rank, 0, 0, output_padding));
  // Promote 1-D to 2-D with a unit leading axis.
  int64_t in[2] = {1, 1}, k[2] = {1, 1}, s[2] = {1, 1}, d[2] = {1, 1}, pb[2] = {0, 0}, o[2] = {1, 1};
  for (size_t a = 0; a < rank; ++a) {
    const size_t t = 2 - rank + a;
    in[t] = x.shape[2 + a];
    k[t] = weight.shape[2 + a];
    s[t] = strides[a];
    d[t] = dilations[a];
    pb[t] = pads[a];
    o[t] = s[t] * (in[t] - 1) + output_padding[a] + (k[t] - 1) * d[t] + 1 - pads[a] - pads[a + rank];
    if (o[t] < 1) return io.fail("pads leave no output");
  }
  std::vector<int64_t> out_shape{batch, maps};
  if (rank == 2) out_shape.push_back(o[0]);
  out_shape.push_back(o[1]);
  // Gather form: y[oy, ox] = bias + Σ x[c, iy, ix] · W[c, m, i, j] over oy = iy·s − p + i·d.
  tensor out = tensor::allocate(dtype::f32, out_shape);
  const float* px = x.data_as<float>();
  const float* pw = weight.data_as<float>();
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t m = 0; m < maps; ++m)
      for (int64_t oy = 0; oy < o[0]; ++oy)
        for (int64_t ox = 0; ox < o[1]; ++ox) {
          const int64_t g = m / mg;
          double acc = bias != nullptr ? bias->data_as<float>()[m] : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci) {
            const int64_t c = g * cg + ci;
            for (int64_t i = 0; i < k[0]; ++i)
              for (int64_t j = 0; j < k[1]; ++j) {
                const int64_t ty = oy + pb[0] - i * d[0], tx = ox + pb[1] - j * d[1];
                if (ty < 0 || tx < 0 || ty % s[0] != 0 || tx % s[1] != 0) continue;
                const int64_t iy = ty / s[0], ix = tx / s[1];
                if (iy >= in[0] || ix >= in[1]) continue;
                acc += double(px[((n * channels + c) * in[0] + iy) * in[1] + ix]) * pw[((c * mg + (m - g * mg)) * k[0] + i) * k[1] + j];
              }
          }
          out.mutable_data_as<float>()[((n * maps + m) * o[0] + oy) * o[1] + ox] = static_cast<float>(acc);
        }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// VJPs of RotaryEmbedding and Attention (runtime_ref/backward_ops.h).
#include <algorithm>
#include <cmath>

#include "runtime_ref/attention_layout.h"
#include "runtime_ref/backward_ops.h"
#include "runtime_ref/kernel.h"

namespace edgepack {

// The rotation is orthogonal, so its transpose, a rotation by the opposite angle, maps dy to dx:
// the forward kernel run on dy with the sine table negated.
Status vjp_rotary_embedding(vjp_io& io) {
  for (size_t i = 1; i < io.inputs.size(); ++i)
    if (io.wants(i)) return io.fail("only the input X has a gradient (not the caches or positions)");
  if (io.inputs.size() < 3 || io.inputs[2] == nullptr || io.inputs[2]->type != dtype::f32) return io.fail("the sin cache must be f32");
  const tensor& sin_cache = *io.inputs[2];
  tensor negated = tensor::allocate(dtype::f32, sin_cache.shape);
  for (int64_t i = 0; i < sin_cache.numel(); ++i) negated.mutable_data_as<float>()[i] = -sin_cache.data_as<float>()[i];
  kernel_io forward{io.op, {io.grad(0), io.inputs[1], &negated}, {}, nullptr};
  if (io.inputs.size() > 3) forward.inputs.push_back(io.inputs[3]);
  forward.outputs.resize(1);
  EP_RETURN_IF_ERROR(kernel_rotary_embedding(forward));
  io.input_grads[0] = std::move(forward.outputs[0]);
  return Status::ok_status();
}

// Per query row i of head h (KV head h / group): p = softmax(scale q_i K^T) over the visible keys,
// y_i = p V. With g = dy_i: dV_j += p_j g, dp_j = g · v_j, ds_j = p_j (dp_j - p · dp),
// dq_i = scale sum_j ds_j k_j, dK_j += scale ds_j q_i. Probabilities are recomputed in double as
// the forward kernel computes them.
Status vjp_attention(vjp_io& io) {
  if (io.inputs.size() > 3 && io.inputs[3] != nullptr) return io.fail("attn_mask is not supported");
  for (size_t i = 3; i < io.inputs.size(); ++i)
    if (io.wants(i)) return io.fail("only Q, K and V have gradients");
  for (size_t i : {4, 5})
    if (i < io.inputs.size() && io.inputs[i] != nullptr && io.inputs[i]->numel() != 0) return io.fail("a non-empty KV cache (past_key/past_value) is not supported");
  if (io.grad(1) != nullptr || io.grad(2) != nullptr) return io.fail("present_key/present_value have no gradient");
  for (size_t i = 0; i < 3; ++i)
    if (io.inputs[i] == nullptr || io.inputs[i]->type != dtype::f32) return io.fail("Q, K and V must be f32");
  auto describe = [&](size_t i, const char* attr, const char* what) -> Expected<attention_layout> {
    auto l = describe_attention_operand(io.op, *io.inputs[i], attr, what);
    if (!l.ok()) return io.fail(l.status().message());
    return l;
  };
  EP_ASSIGN_OR_RETURN(attention_layout q, describe(0, "q_num_heads", "Q"));
  EP_ASSIGN_OR_RETURN(attention_layout k, describe(1, "kv_num_heads", "K"));
  EP_ASSIGN_OR_RETURN(attention_layout v, describe(2, "kv_num_heads", "V"));
  if (k.batch != q.batch || v.batch != q.batch || k.seq != v.seq || k.heads != v.heads || k.head != q.head || k.heads == 0 || q.heads % k.heads != 0)
    return io.fail("Q/K/V shapes are inconsistent");
  attention_layout y = q;
  y.head = v.head;
  const bool causal = io.op.int_attr("is_causal", 0) != 0;
  const double scale = io.op.float_attr("scale", 1.0 / std::sqrt(static_cast<double>(q.head)));
  const int64_t group = q.heads / k.heads;
  const float* pq = io.inputs[0]->data_as<float>();
  const float* pk = io.inputs[1]->data_as<float>();
  const float* pv = io.inputs[2]->data_as<float>();
  const float* dy = io.grad(0)->data_as<float>();
  std::vector<double> dq(static_cast<size_t>(io.inputs[0]->numel()), 0.0), dk(static_cast<size_t>(io.inputs[1]->numel()), 0.0),
      dv(static_cast<size_t>(io.inputs[2]->numel()), 0.0);
  std::vector<double> p(static_cast<size_t>(k.seq)), dp(p.size());
  for (int64_t b = 0; b < q.batch; ++b)
    for (int64_t h = 0; h < q.heads; ++h) {
      const int64_t kvh = h / group;
      for (int64_t i = 0; i < q.seq; ++i) {
        const int64_t visible = causal ? std::min(k.seq, i + 1) : k.seq;
        if (visible == 0) continue;
        const float* query = pq + q.at(b, h, i, 0);
        const float* g = dy + y.at(b, h, i, 0);
        const double sum = attention_row_weights(query, pk + k.at(b, kvh, 0, 0), k.at(b, kvh, 1, 0) - k.at(b, kvh, 0, 0), q.head, visible, scale, p);
        double p_dot_dp = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          p[j] /= sum;
          const float* value = pv + v.at(b, kvh, j, 0);
          double dot = 0.0;
          for (int64_t d = 0; d < v.head; ++d) {
            dot += static_cast<double>(g[d]) * value[d];
            dv[static_cast<size_t>(v.at(b, kvh, j, d))] += p[j] * g[d];
          }
          dp[j] = dot;
          p_dot_dp += p[j] * dot;
        }
        for (int64_t j = 0; j < visible; ++j) {
          const double ds = p[j] * (dp[j] - p_dot_dp) * scale;
          const float* key = pk + k.at(b, kvh, j, 0);
          for (int64_t d = 0; d < q.head; ++d) {
            dq[static_cast<size_t>(q.at(b, h, i, d))] += ds * key[d];
            dk[static_cast<size_t>(k.at(b, kvh, j, d))] += ds * query[d];
          }
        }
      }
    }
  const std::vector<double>* grads[3] = {&dq, &dk, &dv};
  for (size_t i = 0; i < 3; ++i) {
    if (!io.wants(i)) continue;
    tensor t = tensor::allocate(dtype::f32, io.inputs[i]->shape);
    for (size_t e = 0; e < grads[i]->size(); ++e) t.mutable_data_as<float>()[e] = static_cast<float>((*grads[i])[e]);
    io.input_grads[i] = std::move(t);
  }
  return Status::ok_status();
}

}  // namespace edgepack

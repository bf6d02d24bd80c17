// Attention (opset 23) for the decoder-only case: Q [B, Sq, Hq*D], K/V [B, Skv, Hkv*D] (3-D, with
// q_num_heads / kv_num_heads attributes) or 4-D [B, H, S, D]; optional past_key/past_value
// [B, Hkv, P, D] are prepended along the sequence and returned as present_key/present_value.
// Grouped KV heads: query head h reads KV head h / (Hq / Hkv). is_causal masks keys after the
// query's absolute position: query i sits at position P + i (bottom-right aligned), which makes
// incremental decoding with a KV cache equal to the full-sequence forward.
// Scores and softmax accumulate in double: this is the reference, not the fast path.
#include <cmath>
#include <limits>

#include "runtime_ref/attention_layout.h"
#include "runtime_ref/kernel.h"

namespace edgepack {

namespace {
Expected<attention_layout> describe(const kernel_io& io, const tensor& t, const char* heads_attr, const char* what) {
  auto l = describe_attention_operand(io.op, t, heads_attr, what);
  if (!l.ok()) return io.fail(l.status().message());
  return l;
}
}  // namespace

Status kernel_attention(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(3));
  for (size_t i : {0, 1, 2, 4, 5}) EP_RETURN_IF_ERROR(io.require_type(i, dtype::f32));
  if (io.input(3) != nullptr) return io.fail("attn_mask is not supported by the reference kernel yet");
  if (io.op.float_attr("softcap", 0.0) != 0.0) return io.fail("softcap is not supported by the reference kernel yet");
  EP_ASSIGN_OR_RETURN(attention_layout q, describe(io, *io.input(0), "q_num_heads", "Q"));
  EP_ASSIGN_OR_RETURN(attention_layout k, describe(io, *io.input(1), "kv_num_heads", "K"));
  EP_ASSIGN_OR_RETURN(attention_layout v, describe(io, *io.input(2), "kv_num_heads", "V"));
  if (k.batch != q.batch || v.batch != q.batch || k.seq != v.seq || k.heads != v.heads || k.head != q.head)
    return io.fail("Q/K/V shapes are inconsistent");
  if (k.heads == 0 || q.heads % k.heads != 0) return io.fail("q_num_heads must be a multiple of kv_num_heads");
  const tensor* past_k = io.input(4);
  const tensor* past_v = io.input(5);
  if ((past_k == nullptr) != (past_v == nullptr)) return io.fail("past_key and past_value must be given together");
  int64_t past = 0;
  if (past_k != nullptr) {
    if (past_k->shape.size() != 4 || past_k->shape[0] != q.batch || past_k->shape[1] != k.heads || past_k->shape[3] != k.head ||
        past_v->shape.size() != 4 || past_v->shape[0] != q.batch || past_v->shape[1] != k.heads || past_v->shape[2] != past_k->shape[2] ||
        past_v->shape[3] != v.head)
      return io.fail("past_key/past_value must be [batch, kv_heads, past, head]");
    past = past_k->shape[2];
  }
  const int64_t total = past + k.seq;
  // present = concat(past, new) in [B, Hkv, total, D] layout.
  tensor present_k = tensor::allocate(dtype::f32, {q.batch, k.heads, total, k.head});
  tensor present_v = tensor::allocate(dtype::f32, {q.batch, k.heads, total, v.head});
  float* pk = present_k.mutable_data_as<float>();
  float* pv = present_v.mutable_data_as<float>();
  for (int64_t b = 0; b < q.batch; ++b)
    for (int64_t h = 0; h < k.heads; ++h)
      for (int64_t s = 0; s < total; ++s) {
        for (int64_t d = 0; d < k.head; ++d)
          pk[((b * k.heads + h) * total + s) * k.head + d] =
              s < past ? past_k->data_as<float>()[((b * k.heads + h) * past + s) * k.head + d] : io.input(1)->data_as<float>()[k.at(b, h, s - past, d)];
        for (int64_t d = 0; d < v.head; ++d)
          pv[((b * k.heads + h) * total + s) * v.head + d] =
              s < past ? past_v->data_as<float>()[((b * k.heads + h) * past + s) * v.head + d] : io.input(2)->data_as<float>()[v.at(b, h, s - past, d)];
      }
  const bool causal = io.op.int_attr("is_causal", 0) != 0;
  const double scale = io.op.float_attr("scale", 1.0 / std::sqrt(static_cast<double>(q.head)));
  const int64_t group = q.heads / k.heads;
  attention_layout y_layout = q;
  y_layout.head = v.head;
  std::vector<int64_t> y_shape = io.input(0)->shape;
  y_shape.back() = q.heads_first ? v.head : q.heads * v.head;
  tensor y = tensor::allocate(dtype::f32, y_shape);
  float* py = y.mutable_data_as<float>();
  const float* pq = io.input(0)->data_as<float>();
  std::vector<double> scores(static_cast<size_t>(total));
  std::vector<double> accumulator(static_cast<size_t>(v.head));
  for (int64_t b = 0; b < q.batch; ++b)
    for (int64_t h = 0; h < q.heads; ++h) {
      const int64_t kvh = h / group;
      const float* keys = pk + (b * k.heads + kvh) * total * k.head;
      const float* values = pv + (b * k.heads + kvh) * total * v.head;
      for (int64_t i = 0; i < q.seq; ++i) {
        // The head dimension is innermost in every layout, so rows are contiguous.
        const float* query = pq + q.at(b, h, i, 0);
        float* out = py + y_layout.at(b, h, i, 0);
        const int64_t visible = causal ? std::min(total, past + i + 1) : total;
        const double sum = attention_row_weights(query, keys, k.head, q.head, visible, scale, scores);
        std::fill(accumulator.begin(), accumulator.end(), 0.0);
        for (int64_t j = 0; j < visible; ++j) {
          const float* value = values + j * v.head;
          for (int64_t d = 0; d < v.head; ++d) accumulator[d] += scores[j] * value[d];
        }
        for (int64_t d = 0; d < v.head; ++d) out[d] = visible > 0 ? static_cast<float>(accumulator[d] / sum) : 0.0f;
      }
    }
  io.outputs[0] = std::move(y);
  if (io.outputs.size() > 1) io.outputs[1] = std::move(present_k);
  if (io.outputs.size() > 2) io.outputs[2] = std::move(present_v);
  return Status::ok_status();
}

}  // namespace edgepack

// RotaryEmbedding (opset 23). X is [batch, seq, heads*head] (num_heads attribute required) or
// [batch, heads, seq, head]. With position_ids [batch, seq], cos/sin caches are
// [max_position + 1, rotary_dim / 2]; without, they are [batch, seq, rotary_dim / 2].
// interleaved = 1 rotates pairs (2i, 2i+1) as llama2.c does; 0 rotates (i, i + rotary_dim/2)
// ("rotate_half", Hugging Face). Dimensions past rotary_dim pass through.
#include "runtime_ref/kernel.h"

namespace edgepack {

Status kernel_rotary_embedding(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(3));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& cos_cache = *io.input(1);
  const tensor& sin_cache = *io.input(2);
  const tensor* positions = io.input(3);
  if (positions != nullptr && positions->type != dtype::i64) return io.fail("position_ids must be int64");
  const bool interleaved = io.op.int_attr("interleaved", 0) != 0;
  int64_t batch, seq, heads, head;
  bool heads_first = false;
  if (x.shape.size() == 3) {
    heads = io.op.int_attr("num_heads", 0);
    if (heads <= 0 || x.shape[2] % heads != 0) return io.fail("3-D input needs a num_heads attribute dividing the hidden size");
    batch = x.shape[0], seq = x.shape[1], head = x.shape[2] / heads;
  } else if (x.shape.size() == 4) {
    heads_first = true;
    batch = x.shape[0], heads = x.shape[1], seq = x.shape[2], head = x.shape[3];
  } else {
    return io.fail("input must be 3-D or 4-D, got " + shape_to_string(x.shape));
  }
  int64_t rotary = io.op.int_attr("rotary_embedding_dim", 0);
  if (rotary == 0) rotary = head;
  if (rotary > head || rotary % 2 != 0) return io.fail("rotary_embedding_dim must be even and at most the head size");
  const int64_t half = rotary / 2;
  if (cos_cache.shape != sin_cache.shape || cos_cache.shape.empty() || cos_cache.shape.back() != half)
    return io.fail("cos/sin caches must have the same shape with last dimension rotary_dim/2 = " + std::to_string(half));
  if (positions != nullptr) {
    if (cos_cache.shape.size() != 2) return io.fail("with position_ids the caches must be 2-D");
    if (positions->shape != std::vector<int64_t>{batch, seq}) return io.fail("position_ids must be [batch, seq]");
  } else if (cos_cache.shape != std::vector<int64_t>{batch, seq, half}) {
    return io.fail("without position_ids the caches must be [batch, seq, rotary_dim/2]");
  }
  tensor out = tensor::allocate(dtype::f32, x.shape);
  const float* px = x.data_as<float>();
  float* py = out.mutable_data_as<float>();
  std::copy(px, px + x.numel(), py);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t s = 0; s < seq; ++s) {
      int64_t row = b * seq + s;
      if (positions != nullptr) {
        row = positions->data_as<int64_t>()[b * seq + s];
        if (row < 0 || row >= cos_cache.shape[0])
          return io.fail("position id " + std::to_string(row) + " outside the cache of " + std::to_string(cos_cache.shape[0]) + " positions");
      }
      const float* cs = cos_cache.data_as<float>() + row * half;
      const float* sn = sin_cache.data_as<float>() + row * half;
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t base = heads_first ? ((b * heads + h) * seq + s) * head : ((b * seq + s) * heads + h) * head;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t i0 = interleaved ? base + 2 * i : base + i;
          const int64_t i1 = interleaved ? base + 2 * i + 1 : base + i + half;
          const float a = px[i0], c = px[i1];
          py[i0] = a * cs[i] - c * sn[i];
          py[i1] = a * sn[i] + c * cs[i];
        }
      }
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

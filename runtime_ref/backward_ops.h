// The vector-Jacobian products of the ops runtime_ref/backward.h can differentiate, one function
// per op, each the exact derivative of the op's reference kernel (same attributes, same layouts).
// backward_ops.cpp: Gemm, MatMul, Add, Mul, Sigmoid, Reshape, Gather, RMSNormalization;
// backward_attention.cpp: RotaryEmbedding, Attention.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/status.h"
#include "core/tensor.h"

namespace edgepack {

struct vjp_io {
  const node& op;
  std::vector<const tensor*> inputs;        // the forward inputs (nullptr for omitted ones)
  std::vector<const tensor*> outputs;       // the forward outputs
  std::vector<const tensor*> output_grads;  // d loss / d output, nullptr where it is zero
  std::vector<bool> wanted;                 // which inputs need a gradient
  // Filled for the wanted inputs: f32, the input's shape, freshly allocated (the driver adds into
  // them in place, so they must not share storage with anything).
  std::vector<tensor> input_grads;

  const tensor* grad(size_t output) const { return output < output_grads.size() ? output_grads[output] : nullptr; }
  bool wants(size_t input) const { return input < wanted.size() && wanted[input]; }
  // Error naming the node: "node 'x' (Gemm): gradient: <message>".
  Status fail(const std::string& message) const;
};

using vjp_function = Status (*)(vjp_io&);
// nullptr when the op has no VJP.
vjp_function find_vjp(const std::string& domain, const std::string& op_type);

Status vjp_gemm(vjp_io& io);
Status vjp_matmul(vjp_io& io);
Status vjp_add(vjp_io& io);
Status vjp_mul(vjp_io& io);
Status vjp_sigmoid(vjp_io& io);
Status vjp_reshape(vjp_io& io);
Status vjp_gather(vjp_io& io);
Status vjp_rms_normalization(vjp_io& io);
Status vjp_rotary_embedding(vjp_io& io);
Status vjp_attention(vjp_io& io);

}  // namespace edgepack

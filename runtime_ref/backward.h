// Reverse-mode gradients through a graph: what end-to-end tuning of a quantized model needs
// (passes/quant_tune.h). A forward run records every value (`record_forward`), then `backward`
// walks the nodes in reverse, each op's vector-Jacobian product (runtime_ref/backward_ops.h)
// turning the gradients of its outputs into gradients of its inputs, and returns the gradients of
// the requested values (typically weights).
//
// Only the nodes between the requested values and the seeded outputs run a VJP; on that path every
// op must have one (the ops an LLM lowers to: Gemm, 2-D MatMul, Add, Mul, Sigmoid, Reshape, Gather,
// RMSNormalization, RotaryEmbedding, Attention without a cache), otherwise `backward` fails naming
// the node. Gradients are f32 tensors of the value's shape, accumulated in node order, computed on
// the calling thread with the default GEMM kernels: the result is the same on every run, ISA and
// thread count (callers parallelise over independent samples).
#pragma once
#include <memory>
#include <set>
#include <string>

#include "runtime_ref/interpreter.h"

namespace edgepack {

// Every value of one forward run: graph inputs, node outputs and the graph's weights (decoded to
// f32, as the interpreter runs them).
class forward_tape {
 public:
  // Runs `g` on `inputs`, keeping every node output.
  static Expected<forward_tape> record(const graph& g, const tensor_map& inputs);

  const graph& program() const { return interpreter_->program(); }
  // The value named `name` (input, node output or weight); nullptr when there is none.
  const tensor* find(const std::string& name) const;

 private:
  std::shared_ptr<const interpreter> interpreter_;
  tensor_map values_;
};

// d loss / d value for each of `wanted`, given `seeds`: d loss / d v for some values v of the tape
// (each of v's shape). A wanted value the seeds do not depend on gets a zero gradient.
Expected<tensor_map> backward(const forward_tape& tape, const tensor_map& seeds, const std::set<std::string>& wanted);

}  // namespace edgepack

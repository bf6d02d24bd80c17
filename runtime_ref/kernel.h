// The contract between the interpreter and one op kernel.
// Kernels see only dense f32 / i64 tensors: the interpreter decodes every encoded weight
// (f16, bf16, quantized) to f32 once per session with the reference decoder.
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/status.h"
#include "core/tensor.h"

namespace edgepack {

// Runs one of the node's subgraph attributes (If branches, Loop body) in the scope of the node:
// `inputs` bind to the body's graph inputs in order, outer-scope values stay visible, and the
// body's outputs come back in order. The interpreter provides it; control-flow kernels use it.
using subgraph_runner = std::function<Expected<std::vector<tensor>>(const std::string& attribute, std::span<const tensor* const> inputs)>;

struct kernel_io {
  const node& op;
  std::vector<const tensor*> inputs;  // nullptr for an omitted optional input
  std::vector<tensor> outputs;        // one per node output; the kernel fills them
  const subgraph_runner* run_subgraph = nullptr;  // set for nodes with subgraph attributes

  const tensor* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  // Error naming the node: "node 'x' (Gemm): <message>".
  Status fail(const std::string& message) const;
  Status require_inputs(size_t min_count) const;
  Status require_type(size_t index, dtype type) const;
};

#define EDGEPACK_OP(op_type, function, since) Status function(kernel_io& io);
#include "runtime_ref/ops.def"
#undef EDGEPACK_OP

using kernel_function = Status (*)(kernel_io&);
// nullptr when the op is not supported.
kernel_function find_kernel(const std::string& domain, const std::string& op_type);

}  // namespace edgepack

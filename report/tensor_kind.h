// What a weight is for, so reports can group sizes and errors by role.
#pragma once
#include <string>

#include "core/graph.h"

namespace edgepack::report {

// One of "embedding", "attention", "mlp", "output", "norm", "conv", "other" (the closed list, in
// report order, is tensor_kinds()). Graph use decides first, then the name (docs/reports.md):
//  1. read by Conv/ConvTranspose -> conv; the data input of Gather -> embedding; the scale/bias of a
//     normalization op -> norm;
//  2. names (case-insensitive) of Llama/HF/llama.cpp conventions: embed/wte/tok_embeddings ->
//     embedding; lm_head/classifier/output.weight -> output; norm -> norm; attn/attention/q_proj/
//     k_proj/v_proj/o_proj/wq/wk/wv/wo -> attention; mlp/ffn/feed_forward/gate_proj/up_proj/down_proj/
//     w1/w2/w3 -> mlp;
//  3. a MatMul/Gemm weight whose result reaches a graph output through at most 4 shape/elementwise
//     ops (Add, Reshape, Flatten, Squeeze, Identity, Softmax, LogSoftmax) -> output (a classifier);
//  4. anything else -> other.
std::string tensor_kind(const graph& g, const std::string& name);

// The closed list in report order.
const std::vector<std::string>& tensor_kinds();

}  // namespace edgepack::report

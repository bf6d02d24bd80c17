// How the Attention kernel and its gradient (runtime_ref/backward_attention.cpp) index Q, K and V:
// 3-D [B, S, H*D] with a heads attribute, or 4-D [B, H, S, D].
#pragma once
#include <cstdint>
#include <vector>

#include "core/graph.h"
#include "core/status.h"
#include "core/tensor.h"

namespace edgepack {

struct attention_layout {
  int64_t batch = 0, seq = 0, heads = 0, head = 0;
  bool heads_first = false;
  int64_t at(int64_t b, int64_t h, int64_t s, int64_t d) const {
    return heads_first ? ((b * heads + h) * seq + s) * head + d : ((b * seq + s) * heads + h) * head + d;
  }
};

// One query row's softmax numerators over the first `visible` keys, in double: scores[j] =
// exp(scale q·k_j - max), key j at keys + j * key_stride; returns their sum. Shared by the kernel
// and its gradient so both see exactly the same probabilities.
double attention_row_weights(const float* query, const float* keys, int64_t key_stride, int64_t head, int64_t visible, double scale,
                             std::vector<double>& scores);

// The layout of operand `t` (`what`: "Q", "K" or "V"; `heads_attr`: the node attribute giving the
// head count of a 3-D operand). The error message does not name the node.
Expected<attention_layout> describe_attention_operand(const node& op, const tensor& t, const char* heads_attr, const char* what);

}  // namespace edgepack

// Rewrites a graph written for an older ai.onnx opset into the semantics of a newer one, for the
// ops the reference runtime executes (runtime_ref/ops.def) plus Dropout and Upsample. The ONNX
// export uses it when block-quantized DequantizeLinear needs opset 21 in a model read at opset 7-20.
//
// Each rule is explicit (table in docs/export.md): attributes that became inputs turn into int64
// or float initializers (Clip min/max at 11, Slice at 10, Pad at 11, Squeeze/Unsqueeze/ReduceSum/
// Split at 13, ReduceMean/Max/Min at 18), Softmax below 13 on an axis other than -1 becomes
// Flatten -> Softmax -> Reshape (the old "coerce to 2-D" semantics, exactly), BatchNormalization
// drops `spatial` = 1, Split gains num_outputs at 18, Upsample becomes Resize (asymmetric
// coordinates, floor rounding), Dropout becomes Identity. An op with no rule, or one whose old
// form has no exact equivalent, is bad_input naming the node and op; the graph is then unchanged.
#pragma once
#include <cstdint>

#include "core/graph.h"
#include "core/status.h"

namespace edgepack {

// Highest ai.onnx opset the upgrade can produce, and the lowest it starts from.
inline constexpr int64_t opset_upgrade_max_target = 23;

// Upgrades g (and the bodies of its If/Loop nodes) from g.opset_imports[""] to `target`. New
// constant inputs become weights of g named "<node>.<what>" (made unique). No-op when the graph
// is already at or above target.
[[nodiscard]] Status upgrade_opset(graph& g, int64_t target);

}  // namespace edgepack

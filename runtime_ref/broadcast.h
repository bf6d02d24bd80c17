// NumPy-style multidirectional broadcasting (ONNX Add/Sub/Mul/Div semantics).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace edgepack {

std::optional<std::vector<int64_t>> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// For an output of shape `out`, the strides to index an input of shape `in` (0 on broadcast dims).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out);

}  // namespace edgepack

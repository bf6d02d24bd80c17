// Which weights a quantization pass touches by default, and in which matrix view.
//
// A weight is selected by default when every node that reads it is a GEMM-shaped op that reads
// it as its weight operand, all those readers want the same matrix view (docs/format.md §5), it
// is a dense float tensor and it has at least `min_elements` elements. Views per reader
// (docs/quantization.md, "Which tensors are quantized by default"):
//   Gemm B, transB = 1              [N, K]        default view (groups along K)   <- LLM linears
//   Gemm B, transB = 0              [K, N]        transposed
//   MatMul B, 2-D                   [K, N]        transposed (batched B stays float)
//   Conv W                          [O, I/g, k..] col_axis 1 (groups over I/g x taps)
//   ConvTranspose W                 [I, O/g, k..] col_axis 1 (one row per input channel)
//   LSTM / GRU / RNN  W and R       [dirs, G.H, X] default view (groups along X)
// Anything else (Gemm A or C, biases, a Gather of a tied embedding, a weight read by two readers
// that disagree) keeps the weight float. A tied embedding therefore stays float in LLMs, as
// measured in docs/quantization.md.
// --include REGEX adds weights: with their readers' view when those agree, else the default view
// for 2-D float weights, else it is an error. --exclude REGEX removes weights.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/graph.h"
#include "core/status.h"

namespace edgepack {

// Default for weight_selection_options::min_elements: tensors smaller than this stay float.
// Measured on the shared ONNX models in docs/quantization.md (they hold < 1 % of the bytes).
inline constexpr int64_t default_min_quantized_elements = 1024;

struct weight_selection_options {
  std::string include_regex;  // empty: none
  std::string exclude_regex;  // empty: none
  // Weights with fewer elements stay float unless --include names them.
  int64_t min_elements = default_min_quantized_elements;
};

// The matrix view a weight is quantized in (the layout fields of quant_encoding).
struct weight_view {
  int64_t col_axis = -1;     // quant_encoding::col_axis
  bool transposed = false;   // quant_encoding::transposed
  bool operator==(const weight_view&) const = default;
};

struct selected_weight {
  std::string name;
  weight_view view;
  std::string reader;  // what decided the view: "Gemm transB=1", "Conv", "--include", ...
};

// Selected weights in name order.
Expected<std::vector<selected_weight>> select_weights(const graph& g, const weight_selection_options& options);

// The user's scheme (bits, group size, symmetry) in the matrix view of one selected weight.
quant_encoding encoding_for(const quant_encoding& scheme, const weight_view& view);

// A short text for a view: "" for the default view, "cols: dims 1-3" for col_axis 1 of a 4-D
// tensor, "cols: dim 0, transposed" for a transposed one. Used by inspect.
std::string weight_view_text(const std::vector<int64_t>& shape, const quant_encoding& enc);

}  // namespace edgepack

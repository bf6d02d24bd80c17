// Which weights GPTQ can calibrate in a graph, and how the rows of their Hessian H = (2/n) Σ x xᵀ
// are read off the activation the weight is multiplied with (docs/quantization.md, "GPTQ on a
// model"). GPTQ quantizes a weight in its matrix view W [rows, cols] (core/encoding.h); x runs over
// the vectors each row of W is dotted with, so H is [cols, cols]:
//
//   reader                         view of the weight          x (one Hessian row each)
//   Gemm B, transA = 0, transB = 1 B [N, K]       default      the rows of A [M, K]
//   Gemm B, transA = 0, transB = 0 B [K, N]       transposed   the rows of A [M, K]
//   MatMul B, 2-D                  B [K, N]       transposed   A [..., K] flattened to [*, K]
//   Conv W, group = 1 (1-D, 2-D)   W [O, C, k…]   col_axis 1   every im2col patch of X [N, C, …]:
//                                                              C·k… values in (c, ky, kx) order
//
// A weight is calibrated only when every node that reads it is one of these readers, all with the
// same activation and the same patch geometry (then one Hessian serves them all). Otherwise — a
// grouped or depthwise Conv (each group of output channels sees other input channels, so no single
// Hessian fits the row), ConvTranspose, LSTM/GRU/RNN, a reader inside an If/Loop body, weights
// read with different activations — the caller falls back to round-to-nearest, with `why` saying
// which case it was.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "calibration/hessian.h"
#include "core/graph.h"
#include "core/status.h"

namespace edgepack {

enum class gptq_reader_kind { rows, conv };

struct gptq_observer {
  gptq_reader_kind kind = gptq_reader_kind::rows;
  std::string activation;  // the value the weight is multiplied with
  size_t first_node = 0;   // first reader in graph order
  int64_t dim = 0;         // Hessian size = cols of the weight's matrix view
  const node* conv = nullptr;            // kind == conv: the first reader (its attributes define the patches)
  std::vector<int64_t> kernel;           // kind == conv: spatial kernel dims
  // Weights with equal keys share one Hessian (same activation, same way of reading rows).
  std::string key() const;
};

// The observer for weight `name` of `g`, or nullopt with `why` set.
std::optional<gptq_observer> find_gptq_observer(const graph& g, const std::string& name, std::string* why);

// Streams the Hessian rows `x` gives into `acc` (chunks of a fixed number of rows, so the sum does
// not depend on anything but x). Fails (bad_input) when x does not fit the observer.
Status observe_hessian_rows(const gptq_observer& observer, const tensor& x, hessian_accumulator& acc);

}  // namespace edgepack

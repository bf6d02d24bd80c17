// Which weights a quantization pass touches by default.
//
// Default rule (docs/quantization.md, chosen by measurement on stories260K): every weight that is
// the B input of a Gemm with transB = 1 (a linear layer stored [out, in], so groups run along the
// input dimension) and that no other kind of node reads. A tied embedding (read by Gather) stays
// float: quantizing it moves KLD far more than the bytes it saves on small models.
// --include REGEX adds weights (they must be 2-D float); --exclude REGEX removes them.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/status.h"

namespace edgepack {

struct weight_selection_options {
  std::string include_regex;  // empty: none
  std::string exclude_regex;  // empty: none
};

Expected<std::vector<std::string>> select_linear_weights(const graph& g, const weight_selection_options& options);

}  // namespace edgepack

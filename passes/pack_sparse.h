// Sparsity packing (docs/format.md §5.1, docs/pruning.md "Packing"): a weight whose zeros follow an
// N:M pattern, or that is sparse enough for a bitmask to pay off, is stored with only its kept
// values plus index metadata. Lossless: the packed tensor decodes to exactly the same values (and
// unpack_sparse_tensor gives back the same dense bytes). A zero is a float element whose bits are
// all zero (+0.0; -0.0 is kept as a value) or a quantized code equal to its group's zero point.
// Packing works in the weight's matrix view: a quantized weight's own; for a dense weight the view
// its readers want (weight_selection.h) or, without one, the default (last dim = columns).
#pragma once
#include <optional>

#include "core/model.h"
#include "passes/pass.h"
#include "passes/sparsity_pattern.h"

namespace edgepack {

// Packs `t` (dense float or quantized, not already sparse) in its matrix view (t.quant's layout
// fields). N:M pattern: bad_input naming the first row/group with too many non-zeros when the
// weight does not satisfy it. Unstructured pattern: a bitmask of the actual non-zeros (the fraction
// is not checked).
Expected<tensor> pack_sparse_tensor(const tensor& t, const sparsity_pattern& pattern);

// Bytes `t` would occupy packed with `pattern` (same rules as the .epk size formulas), or nullopt
// when it does not satisfy the pattern.
std::optional<uint64_t> packed_sparse_bytes(const tensor& t, const sparsity_pattern& pattern);

struct pack_sparse_options {
  // nullopt = auto: per weight, the smallest of the N:M candidates it satisfies and the bitmask,
  // when smaller than the dense storage. A pattern: pack exactly the weights that satisfy it
  // (N:M) / every weight whose bitmask form is smaller (unstructured); others stay as they are.
  std::optional<sparsity_pattern> pattern;
  bool allow_n_of_m = true;   // auto: consider N:M candidates (--no-n-of-m)
  bool allow_bitmask = true;  // auto: consider the bitmask (--no-bitmask)
  // auto: the N:M patterns tried, in order of preference on a byte tie.
  std::vector<sparsity_pattern> candidates = {sparsity_pattern::n_of_m(2, 4), sparsity_pattern::n_of_m(4, 8),
                                              sparsity_pattern::n_of_m(1, 4), sparsity_pattern::n_of_m(1, 2)};
  int64_t min_elements = 1024;  // smaller weights stay as they are (metadata would not pay off)
};

// Whole model: packs every eligible weight. Stats: per tensor layout, sparsity, bytes before/after.
Expected<pass_result> pack_sparse(const model& in, const pack_sparse_options& options);

}  // namespace edgepack

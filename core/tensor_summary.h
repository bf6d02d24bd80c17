// How a stored tensor is described to people and reports: its encoding string, its share of zeros,
// its cost in bits per weight. One copy for `inspect` and the report module, so both print the same.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace edgepack {

// "f32", "w4g32", "s2:4+w4g32", "bitmask+f32": the scheme grammar of docs/cli.md (sparsity first).
std::string tensor_encoding_text(const tensor& t);

// Fraction of the decoded elements that are exactly zero (a sparse tensor's pruned positions, plus
// kept values that rounded to zero). 0 when the tensor is empty or cannot be decoded to float.
double tensor_zero_fraction(const tensor& t);

// 8 * stored bytes (every blob: values, scales, zero points, sparsity metadata) / elements.
double tensor_bits_per_weight(const tensor& t);

// Weights the LLM lowering derives (rotary tables "rope.*", reshape shapes "shape.*"): graph
// constants, not parameters; listings show them but totals leave them out.
bool is_derived_constant(const std::string& name);

}  // namespace edgepack

// The scheme grammar of the CLI (docs/cli.md): w<bits>[g<group>][_asym], e.g. w8, w4g32, w3g128_asym.
// Sparsity terms (s50, s2:4) joined with '+' are reserved for the pruning passes and rejected here
// with a message saying so.
#pragma once
#include <string>

#include "core/encoding.h"
#include "core/status.h"

namespace edgepack {

Expected<quant_encoding> parse_weight_scheme(const std::string& text);

}  // namespace edgepack

// Command-line options of `edgepack prune` and their checks before any model is loaded
// (docs/cli.md "prune": every problem here is bad_usage, exit 2).
#pragma once
#include <regex>
#include <string>
#include <vector>

#include "passes/prune_model.h"
#include "passes/sparsity_pattern.h"
#include "passes/weight_selection.h"
#include "tools/cli_common.h"
#include "tools/cmd_quantize_gptq.h"

namespace edgepack::cli {

struct prune_args {
  std::string input;
  std::string output;
  std::string method = "magnitude";
  std::string sparsity;  // a fraction, parsed by parse_default_prune_scheme
  std::string pattern;
  std::string scheme;
  bool global = false;
  bool per_row = false;     // unstructured: compare within each output row (wanda/sparsegpt default)
  bool per_tensor = false;  // unstructured: one comparison over each whole tensor (magnitude default)
  bool no_pack = false;
  std::string include;
  std::string exclude;
  int64_t min_elements = default_min_quantized_elements;
  int scale_search = 4;
  gptq_cli_args calib;  // calibration options, --damp, --block-size, --override
  bool json = false;
  load_options load;
};

struct prune_override {
  std::string rule;
  std::regex regex;
  compression_scheme scheme;
};

Expected<prune_method> parse_prune_method(const std::string& text);
// The scheme of --sparsity / --pattern / --scheme (exactly one of them).
Expected<compression_scheme> parse_default_prune_scheme(const prune_args& args);
// --override REGEX=SCHEME rules (SCHEME: a sparsity term, optionally + a weight term).
Expected<std::vector<prune_override>> parse_prune_overrides(const std::vector<std::string>& rules);
// Unstructured comparison group: --per-row / --per-tensor, else the method's default (magnitude
// per tensor, wanda and sparsegpt per row; docs/pruning.md).
mask_scope prune_scope(const prune_args& args, prune_method method);
// "row", "tensor", "global" or (N:M) "group": the scope recorded in the .epk.
const char* prune_scope_name(const prune_args& args, prune_method method, const compression_scheme& scheme);
// Method, calibration and flag combinations.
Status check_prune_args(const prune_args& args, prune_method method, const compression_scheme& scheme, const std::vector<prune_override>& overrides);

}  // namespace edgepack::cli

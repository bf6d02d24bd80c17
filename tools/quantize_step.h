// The work of `edgepack quantize` without its file and printing, so `quantize` (which streams the
// output, one tensor at a time) and `compress` (which keeps the model for the next step) run the same
// code: argument checks, weight selection, per-tensor schemes (--override), GPTQ, RTN per tensor and
// the provenance ("extra") the .epk records.
#pragma once
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "passes/quantize_rtn.h"
#include "tools/cli_common.h"
#include "tools/cmd_quantize_gptq.h"

namespace edgepack::cli {

struct quantize_args {
  std::string input;
  std::string output;
  std::string scheme = "w4g32";
  std::string method = "rtn";
  std::string include;
  std::string exclude;
  int scale_search = 4;
  gptq_cli_args gptq;  // --method gptq, calibration, --override
  int64_t min_elements = default_min_quantized_elements;
  bool json = false;
  load_options load;
};

struct quantize_plan {
  quant_encoding encoding;                          // --scheme
  quantize_rtn_options options;                     // RTN options (selection, scale search, threads)
  std::map<std::string, quant_encoding> encodings;  // each chosen weight's scheme in its matrix view
  std::optional<gptq_cli_result> gptq;              // --method gptq: everything quantized already
  std::string pass_name;                            // quantize_rtn or quantize_gptq
};

// Checks that need no model (exit 2 before loading anything).
Status check_quantize_args(const quantize_args& args);
// Selects the weights and their schemes; runs GPTQ when asked (it needs every weight at once).
Expected<quantize_plan> plan_quantize(const model& m, const quantize_args& args);
// `m` with the chosen weights replaced by their quantized layouts (no data yet).
model quantized_layout(const model& m, const quantize_plan& plan);
// One weight's quantized tensor; appends its statistics to `tensor_stats` (RTN; GPTQ has them already).
Expected<tensor> quantize_planned_weight(const model& m, const quantize_plan& plan, const std::string& name, nlohmann::json& tensor_stats);
// The .epk "extra" of a quantize run: {"pass": {...}, "options": {...}}.
nlohmann::json quantize_extra(const quantize_args& args, const quantize_plan& plan, const nlohmann::json& tensor_stats);

struct step_output {
  model out;
  nlohmann::json extra;  // what the single command records in the .epk "extra"
  std::string summary;   // one line for progress and reports
};
// The whole step in memory (compress).
Expected<step_output> run_quantize_step(const model& m, const quantize_args& args);

}  // namespace edgepack::cli

// The calibrated part of `edgepack quantize`: --method gptq with its calibration options, and the
// per-tensor --override REGEX=SCHEME rules both methods share (docs/cli.md, docs/quantization.md).
#pragma once
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "passes/gptq.h"
#include "runtime_ref/interpreter.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

struct gptq_cli_args {
  std::string calib;          // text file
  std::string calib_range;    // BEGIN:END characters
  std::string calib_windows;  // JSON file with explicit windows (instead of --calib)
  int64_t calib_samples = 128;
  int64_t calib_seq = 256;
  uint64_t calib_seed = 0;
  std::string calib_sampling = "random";
  double damp = 0.01;
  int64_t block_size = 128;
  bool act_order = false;
  bool static_groups = false;
  bool float_targets = false;  // passes/float_targets.h
  int refine = -1;            // -1: plain GPTQ; >= 0: scale refit plus this many code sweeps (passes/quant_refine.h)
  std::vector<std::string> overrides;  // REGEX=SCHEME
  // End-to-end tuning after GPTQ (passes/quant_tune.h); 0 epochs = off.
  int64_t tune_epochs = 0;
  double tune_lr = 2e-3;
  int64_t tune_batch = 8;
  double tune_code_lr = 10.0;  // the codes' step relative to the scales' one; 0 = codes stay
  bool tune_norms = true;      // also tune the RMSNorm gains
};

void add_gptq_options(CLI::App& cmd, gptq_cli_args& args);
// --refine, --float-targets and --tune-* (quantize only: pruning has no codes to refine).
void add_gptq_quantize_options(CLI::App& cmd, gptq_cli_args& args);

struct scheme_override {
  std::string pattern;
  std::regex regex;
  quant_encoding encoding;
};

// Parses every REGEX=SCHEME (the last '=' splits); bad syntax, regex or scheme is bad_usage.
Expected<std::vector<scheme_override>> parse_scheme_overrides(const std::vector<std::string>& rules);
// The first override (in command-line order) whose regex matches anywhere in `name`, else `fallback`.
quant_encoding scheme_for(const std::string& name, const quant_encoding& fallback, const std::vector<scheme_override>& overrides);

// Checks the calibration options against the method before anything is loaded (bad_usage).
Status check_calibration_args(const std::string& method, const gptq_cli_args& args);

struct gptq_cli_result {
  std::map<std::string, tensor> quantized;
  std::map<std::string, tensor> tuned_float;  // float weights end-to-end tuning changed (RMSNorm gains)
  nlohmann::json tensors;      // per-tensor stats
  nlohmann::json calibration;  // what was calibrated on (recorded in the .epk)
  nlohmann::json summary;      // stages, windows, GPTQ options (no timings: files stay byte-identical)
};

// The calibration inputs the options describe: token windows from --calib text or --calib-windows
// for LLMs (BOS first, default KV inputs filled in), the .npy input sets of --calib DIR for graph
// models. `calibration` receives what to record in the .epk. Shared by quantize and prune.
Expected<std::vector<tensor_map>> calibration_inputs(const model& m, const gptq_cli_args& args, nlohmann::json& calibration);

// Builds the calibration windows and runs true-sequential GPTQ on `weights` (name -> encoding in
// the weight's matrix view).
Expected<gptq_cli_result> run_gptq(const model& m, const std::map<std::string, quant_encoding>& weights, const gptq_cli_args& args,
                                   int scale_search_steps);

}  // namespace edgepack::cli

// The work of `edgepack prune` without its file and printing, shared by `prune` and `compress`:
// argument checks, the per-weight plans (scheme, --override), calibration, the pruning pass, packing
// (unless --no-pack) and the provenance ("extra") the .epk records.
#pragma once
#include "tools/cmd_prune_args.h"
#include "tools/quantize_step.h"

namespace edgepack::cli {

// Checks that need no model (exit 2 before loading anything).
Status check_prune_command(const prune_args& args);

struct prune_step_output {
  step_output step;
  nlohmann::json tensors;  // per-tensor statistics (elements, pruned, bytes before/after, layout)
};
Expected<prune_step_output> run_prune_step(const model& m, const prune_args& args);

}  // namespace edgepack::cli

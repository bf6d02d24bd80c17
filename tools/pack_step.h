// The work of `edgepack pack` without its file and printing, shared by `pack` and `compress`.
#pragma once
#include "tools/quantize_step.h"

namespace edgepack::cli {

struct pack_args {
  std::string input;
  std::string output;
  std::string pattern = "auto";
  bool no_bitmask = false;
  bool no_n_of_m = false;
  int64_t min_elements = 1024;
  bool json = false;
  load_options load;
};

// Checks that need no model (exit 2 before loading anything).
Status check_pack_args(const pack_args& args);
// step_output.extra is what `pack` records; `stats` receives the pass statistics (per tensor, totals).
Expected<step_output> run_pack_step(const model& m, const pack_args& args, nlohmann::json& stats);

}  // namespace edgepack::cli

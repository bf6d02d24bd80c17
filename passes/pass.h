// What every pass returns: the new model, whether anything changed, and JSON stats for reports.
#pragma once
#include <nlohmann/json.hpp>

#include "core/model.h"

namespace edgepack {

struct pass_result {
  model out;
  bool changed = false;
  nlohmann::json stats = nlohmann::json::object();
};

struct pass_info {
  const char* name;
  const char* command;
  const char* summary;
};

constexpr pass_info pass_table[] = {
#define EDGEPACK_PASS(name, command, summary) {#name, command, summary},
#include "passes/passes.def"
#undef EDGEPACK_PASS
};

}  // namespace edgepack

// inspect on distillation targets (docs/distill.md): a distill-targets directory (manifest summary,
// tensors, shards) or one of its shard files (tensors and __metadata__).
#pragma once
#include <optional>
#include <string>

#include "core/status.h"

namespace edgepack::cli {

// Handles `path` when it is a targets directory or a targets shard and returns the command's
// status; std::nullopt when it is neither (inspect then reads it as a model).
std::optional<Status> inspect_distill_targets(const std::string& path, bool json);

}  // namespace edgepack::cli

// Source-file hashes for provenance, computed on a background thread while a pass runs: hashing a
// multi-GB checkpoint takes seconds, and the pass does not need the result until writing.
#pragma once
#include <future>
#include <vector>

#include "core/model.h"

namespace edgepack::cli {

std::future<Expected<std::vector<source_file>>> start_source_hashing(std::vector<source_file> sources);
Expected<std::vector<source_file>> finish_source_hashing(std::future<Expected<std::vector<source_file>>> pending);

}  // namespace edgepack::cli

#include "tools/provenance.h"

#include "core/sha256.h"

namespace edgepack::cli {

std::future<Expected<std::vector<source_file>>> start_source_hashing(std::vector<source_file> sources) {
  return std::async(std::launch::async, [sources = std::move(sources)]() mutable -> Expected<std::vector<source_file>> {
    for (auto& source : sources) {
      if (!source.sha256.empty()) continue;
      EP_ASSIGN_OR_RETURN(source.sha256, sha256_file_hex(source.path));
    }
    return sources;
  });
}

Expected<std::vector<source_file>> finish_source_hashing(std::future<Expected<std::vector<source_file>>> pending) { return pending.get(); }

}  // namespace edgepack::cli

// Per-tensor relative errors a pass recorded in an .epk's metadata, for listings made without the
// model before compression (inspect, edgepack report without --base).
#pragma once
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace edgepack::report {

// name -> relative_error (||W - Q||_F / ||W||_F) from extra.pass.tensors[] as quantize writes it
// (and prune/compress, which reuse its statistics). Entries of the wrong shape are skipped: the
// metadata is input.
std::map<std::string, double> recorded_relative_errors(const nlohmann::json& extra);

}  // namespace edgepack::report

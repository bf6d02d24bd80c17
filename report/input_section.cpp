#include <span>

#include "core/sha256.h"
#include "report/report.h"

namespace edgepack::report {

Expected<nlohmann::json> input_section(const std::string& path, const model& m) {
  nlohmann::json in = {{"path", path}, {"format", m.format}};
  std::string listing;
  uint64_t bytes = 0;
  for (const auto& s : m.sources) {
    std::string sha = s.sha256;
    if (sha.empty()) {
      auto hashed = sha256_file_hex(s.path);
      if (!hashed.ok()) return hashed.status();
      sha = *hashed;
    }
    if (s.path == path) {  // the model is this one file
      in["sha256"] = sha;
      in["bytes"] = s.bytes;
      return in;
    }
    listing += sha + "  " + s.path + "\n";
    bytes += s.bytes;
  }
  if (m.sources.empty()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    in["bytes"] = ec ? 0 : static_cast<uint64_t>(size);
    return in;
  }
  in["sha256"] = sha256::hex(std::as_bytes(std::span(listing.data(), listing.size())));
  in["bytes"] = bytes;
  return in;
}

}  // namespace edgepack::report

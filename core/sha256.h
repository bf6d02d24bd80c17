// SHA-256 (FIPS 180-4) for provenance: which exact source files a model was made from.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace edgepack {

class sha256 {
 public:
  sha256();
  void update(std::span<const std::byte> bytes);
  std::array<uint8_t, 32> finish();
  static std::string hex(std::span<const std::byte> bytes);

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string to_hex(std::span<const uint8_t> bytes);
// Hex digest of a whole file (read through mmap).
Expected<std::string> sha256_file_hex(const std::string& path);

}  // namespace edgepack

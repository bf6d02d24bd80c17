// SHA-256 (FIPS 180-4) for provenance: which exact source files a model was made from.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace edgepack {

// Incremental hasher. Each object picks its block function when constructed: the x86 SHA-extension
// path when the CPU has it (6-7x faster), otherwise the portable one; both give the same digest.
class sha256 {
 public:
  sha256();
  void update(std::span<const std::byte> bytes);
  std::array<uint8_t, 32> finish();
  static std::string hex(std::span<const std::byte> bytes);

 private:
  // Same signature as sha256_detail::block_fn (core/sha256_impl.h); spelled out to keep that
  // internal header out of every includer.
  void (*process_blocks_)(uint32_t* state, const uint8_t* data, size_t blocks);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string to_hex(std::span<const uint8_t> bytes);
// Hex digest of a whole file, read in 1 MiB chunks with pread.
Expected<std::string> sha256_file_hex(const std::string& path);

}  // namespace edgepack

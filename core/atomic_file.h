// Writers never leave a half-written file: bytes go to a temp file in the target's directory,
// are fsynced, and the temp file is renamed over the target only when everything succeeded.
#pragma once
#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "core/status.h"

namespace edgepack {

class atomic_file_writer {
 public:
  // Creates "<path>.tmp-<pid>-<n>" beside path. Nothing at `path` changes until commit().
  static Expected<atomic_file_writer> create(const std::string& path);
  atomic_file_writer(atomic_file_writer&& other) noexcept;
  atomic_file_writer& operator=(atomic_file_writer&&) = delete;
  ~atomic_file_writer();  // removes the temp file unless committed

  Status write(std::span<const std::byte> bytes);
  Status write_zeros(size_t count);
  uint64_t offset() const { return offset_; }
  // Overwrites bytes already written (e.g. a header patched once checksums are known); the
  // sequential offset does not move.
  Status write_at(uint64_t position, std::span<const std::byte> bytes);
  // fsync, close, rename over the target, fsync the directory.
  Status commit();

 private:
  atomic_file_writer(std::string path, std::string temp_path, int fd) : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {}
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  bool committed_ = false;
};

// Convenience: whole-buffer atomic write.
Status write_file_atomically(const std::string& path, std::span<const std::byte> bytes);

}  // namespace edgepack

// Byte storage that tensors view into: owned heap memory or a read-only memory-mapped file.
// Views keep their storage alive through shared_ptr, so a tensor read from an mmapped file
// costs no copy and stays valid after the reader returns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgepack {

class storage {
 public:
  virtual ~storage() = default;
  virtual const std::byte* data() const = 0;
  virtual size_t size() const = 0;
};

class owned_storage final : public storage {
 public:
  explicit owned_storage(size_t size) : bytes_(size) {}
  explicit owned_storage(std::vector<std::byte> bytes) : bytes_(std::move(bytes)) {}
  const std::byte* data() const override { return bytes_.data(); }
  std::byte* mutable_data() { return bytes_.data(); }
  size_t size() const override { return bytes_.size(); }

 private:
  std::vector<std::byte> bytes_;
};

class mapped_file final : public storage {
 public:
  // Maps the whole file read-only. Errors name the path.
  static Expected<std::shared_ptr<mapped_file>> open(const std::string& path);
  ~mapped_file() override;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  const std::byte* data() const override { return data_; }
  size_t size() const override { return size_; }
  const std::string& path() const { return path_; }

 private:
  mapped_file(std::string path, const std::byte* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgepack

namespace edgepack {
// Drops the resident pages of a view into a read-only file mapping (they are re-read from the
// file if touched again), so streaming over a large mmapped model keeps resident memory flat.
// Does nothing for views of heap memory.
void release_file_pages(const std::shared_ptr<const storage>& owner, const std::byte* data, size_t size);
}  // namespace edgepack

#include "core/storage.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edgepack {

Expected<std::shared_ptr<mapped_file>> mapped_file::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string why = std::strerror(err);
    if (err == ENOENT || err == ENOTDIR) return bad_input(path + ": cannot open: " + why);
    return io_failure(path + ": cannot open: " + why);
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return io_failure(path + ": cannot stat: " + why);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return bad_input(path + ": not a regular file");
  }
  const size_t size = static_cast<size_t>(info.st_size);
  const std::byte* data = nullptr;
  if (size > 0) {
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return io_failure(path + ": cannot mmap: " + why);
    }
    data = static_cast<const std::byte*>(mapped);
  }
  ::close(fd);  // the mapping stays valid after close
  return std::shared_ptr<mapped_file>(new mapped_file(path, data, size));
}

mapped_file::~mapped_file() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace edgepack

namespace edgepack {

void release_file_pages(const std::shared_ptr<const storage>& owner, const std::byte* data, size_t size) {
  if (dynamic_cast<const mapped_file*>(owner.get()) == nullptr || size == 0) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;  // only whole pages inside the view
  const auto end = (reinterpret_cast<uintptr_t>(data) + size) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace edgepack

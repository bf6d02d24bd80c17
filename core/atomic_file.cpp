#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace edgepack {

static Status errno_status(const std::string& path, const char* what) {
  const int err = errno;
  const std::string message = path + ": " + what + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) return io_failure(message + " (does the output directory exist?)");
  return io_failure(message);
}

Expected<atomic_file_writer> atomic_file_writer::create(const std::string& path) {
  static std::atomic<int> counter{0};
  if (std::filesystem::is_directory(path)) return io_failure(path + ": is a directory, expected a file path");
  const std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(path, "cannot create output file");
  return atomic_file_writer(path, temp, fd);
}

atomic_file_writer::atomic_file_writer(atomic_file_writer&& other) noexcept
    : path_(std::move(other.path_)), temp_path_(std::move(other.temp_path_)), fd_(other.fd_), offset_(other.offset_), committed_(other.committed_) {
  other.fd_ = -1;
  other.committed_ = true;
}

atomic_file_writer::~atomic_file_writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

Status atomic_file_writer::write(std::span<const std::byte> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(path_, "write failed");
    }
    done += static_cast<size_t>(n);
  }
  offset_ += bytes.size();
  return Status::ok_status();
}

Status atomic_file_writer::write_at(uint64_t position, std::span<const std::byte> bytes) {
  if (position + bytes.size() > offset_) return internal_error(path_ + ": write_at beyond the bytes written so far");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(position + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(path_, "write failed");
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok_status();
}

Status atomic_file_writer::write_zeros(size_t count) {
  static const std::vector<std::byte> zeros(4096);
  while (count > 0) {
    const size_t n = std::min(count, zeros.size());
    EP_RETURN_IF_ERROR(write({zeros.data(), n}));
    count -= n;
  }
  return Status::ok_status();
}

Status atomic_file_writer::commit() {
  if (::fsync(fd_) != 0) return errno_status(path_, "fsync failed");
  if (::close(fd_) != 0) {
    fd_ = -1;
    return errno_status(path_, "close failed");
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) return errno_status(path_, "rename failed");
  committed_ = true;
  const std::string dir = std::filesystem::path(path_).parent_path().empty() ? "." : std::filesystem::path(path_).parent_path().string();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: the rename itself already happened
    ::close(dir_fd);
  }
  return Status::ok_status();
}

Status write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  EP_ASSIGN_OR_RETURN(atomic_file_writer writer, atomic_file_writer::create(path));
  EP_RETURN_IF_ERROR(writer.write(bytes));
  return writer.commit();
}

}  // namespace edgepack

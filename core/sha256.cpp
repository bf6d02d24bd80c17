#include "core/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/sha256_impl.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace edgepack {

namespace sha256_detail {
namespace {
constexpr uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// Relaxed is enough: the flag is a test hook, flipped between hashes, never during one.
std::atomic<bool> portable_only{false};

bool detect_x86_sha() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool ssse3 = (ecx & bit_SSSE3) != 0;  // leaf 1 ECX bit 9
  const bool sse41 = (ecx & bit_SSE4_1) != 0;  // leaf 1 ECX bit 19
  // __get_cpuid_count returns 0 when leaf 7 is beyond the CPU's maximum leaf.
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool sha = (ebx & (1u << 29)) != 0;  // leaf 7 subleaf 0 EBX bit 29
  return ssse3 && sse41 && sha;
#else
  return false;
#endif
}
}  // namespace

void blocks_portable(uint32_t* state, const uint8_t* data, size_t blocks) {
  for (size_t block = 0; block < blocks; ++block, data += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = (uint32_t{data[4 * i]} << 24) | (uint32_t{data[4 * i + 1]} << 16) | (uint32_t{data[4 * i + 2]} << 8) | data[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const uint32_t choose = (e & f) ^ (~e & g);
      const uint32_t t1 = h + s1 + choose + round_constants[i] + w[i];
      const uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = s0 + majority;
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }
}

bool x86_sha_supported() {
  static const bool supported = detect_x86_sha();  // CPUID once per process
  return supported;
}

block_fn active_block_fn() {
#if defined(__x86_64__)
  if (!portable_only.load(std::memory_order_relaxed) && x86_sha_supported()) return blocks_x86_sha;
#endif
  return blocks_portable;
}

void force_portable(bool use_portable_only) { portable_only.store(use_portable_only, std::memory_order_relaxed); }

}  // namespace sha256_detail

sha256::sha256()
    : process_blocks_(sha256_detail::active_block_fn()),
      state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void sha256::update(std::span<const std::byte> bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  total_bytes_ += n;
  if (buffered_ > 0) {
    const size_t take = std::min(n, 64 - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take; p += take; n -= take;
    if (buffered_ < 64) return;
    process_blocks_(state_.data(), buffer_.data(), 1);
    buffered_ = 0;
  }
  // All whole blocks in one call, straight from the caller's memory.
  const size_t whole = n / 64;
  if (whole > 0) { process_blocks_(state_.data(), p, whole); p += whole * 64; n -= whole * 64; }
  if (n > 0) { std::memcpy(buffer_.data(), p, n); buffered_ = n; }
}

std::array<uint8_t, 32> sha256::finish() {
  const uint64_t bit_length = total_bytes_ * 8;
  // Padding: 0x80, zeros up to 56 mod 64, then the message length in bits, big-endian.
  uint8_t padding[64 + 8] = {0x80};
  const size_t zeros_end = buffered_ < 56 ? 56 : 64 + 56;
  const size_t pad_length = zeros_end - buffered_;
  for (int i = 0; i < 8; ++i) padding[pad_length + i] = static_cast<uint8_t>(bit_length >> (56 - 8 * i));
  update({reinterpret_cast<const std::byte*>(padding), pad_length + 8});
  std::array<uint8_t, 32> digest;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) digest[4 * i + j] = static_cast<uint8_t>(state_[i] >> (24 - 8 * j));
  return digest;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) { out += digits[b >> 4]; out += digits[b & 15]; }
  return out;
}

std::string sha256::hex(std::span<const std::byte> bytes) {
  sha256 h;
  h.update(bytes);
  const auto digest = h.finish();
  return to_hex(digest);
}

// Reads with pread in 1 MiB chunks rather than mmap: page-cache reads do not count towards the
// process's resident memory, which matters when hashing multi-GB checkpoints.
Expected<std::string> sha256_file_hex(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_failure(path + ": cannot open for hashing: " + std::strerror(errno));
  std::vector<std::byte> buffer(1 << 20);
  sha256 hash;
  off_t offset = 0;
  while (true) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      return io_failure(path + ": read failed while hashing: " + why);
    }
    if (n == 0) break;
    hash.update({buffer.data(), static_cast<size_t>(n)});
    offset += n;
  }
  ::close(fd);
  const auto digest = hash.finish();
  return to_hex(digest);
}

}  // namespace edgepack

// SHA-256 against the FIPS 180-4 example digests on both block functions, and the x86 SHA-extension
// path against the portable reference on random data: every length 0..300 (all padding cases, one and
// several blocks), several MB fed in odd-sized pieces (buffer joins mid-block), and the raw block
// functions on a random state. The expected digests were also checked with coreutils sha256sum.
#include "core/sha256.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "core/sha256_impl.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::bytes_of;
std::span<const std::byte> bytes_of(const std::vector<std::byte>& v) { return {v.data(), v.size()}; }

// Forces the portable path for its lifetime (for sha256 objects created meanwhile).
class portable_only_scope {
 public:
  explicit portable_only_scope(bool use_portable_only) { sha256_detail::force_portable(use_portable_only); }
  ~portable_only_scope() { sha256_detail::force_portable(false); }
  portable_only_scope(const portable_only_scope&) = delete;
  portable_only_scope& operator=(const portable_only_scope&) = delete;
};

std::vector<std::byte> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

std::string hex_with(bool portable, std::span<const std::byte> bytes) {
  portable_only_scope scope(portable);
  return sha256::hex(bytes);
}

// Digest of `bytes` fed to update() in pieces whose sizes cycle through `pieces`.
std::string hex_in_pieces(bool portable, std::span<const std::byte> bytes, const std::vector<size_t>& pieces) {
  portable_only_scope scope(portable);
  sha256 h;
  size_t offset = 0;
  for (size_t i = 0; offset < bytes.size(); ++i) {
    const size_t n = std::min(pieces[i % pieces.size()], bytes.size() - offset);
    h.update(bytes.subspan(offset, n));
    offset += n;
  }
  const auto digest = h.finish();
  return to_hex(digest);
}

// The test runs under both paths; on a CPU without SHA extensions both are the portable one.
class Sha256Paths : public ::testing::TestWithParam<bool> {};

TEST_P(Sha256Paths, Fips180Examples) {
  const bool portable = GetParam();
  EXPECT_EQ(hex_with(portable, bytes_of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_with(portable, bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_with(portable, bytes_of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string million_a(1000000, 'a');
  EXPECT_EQ(hex_with(portable, bytes_of(million_a)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Same input one byte at a time: the buffering path only.
  EXPECT_EQ(hex_in_pieces(portable, bytes_of(million_a), {1}), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

INSTANTIATE_TEST_SUITE_P(Both, Sha256Paths, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Portable" : "Fast"; });

TEST(Sha256, FastPathMatchesPortableOnEveryLengthUpTo300) {
  if (!sha256_detail::x86_sha_supported()) GTEST_LOG_(INFO) << "no SHA extensions here: both sides are the portable path";
  const auto data = random_bytes(300, 1);
  for (size_t n = 0; n <= 300; ++n) {
    const auto prefix = bytes_of(data).first(n);
    EXPECT_EQ(hex_with(false, prefix), hex_with(true, prefix)) << "length " << n;
  }
}

TEST(Sha256, FastPathMatchesPortableOnMegabytesInOddPieces) {
  const auto data = random_bytes((3 << 20) + 77, 2);
  const std::string whole = hex_with(true, bytes_of(data));
  // Piece sizes straddle block boundaries (63, 65, 129) and include large runs of whole blocks.
  const std::vector<size_t> pieces = {1, 63, 65, 7, 4096 + 3, 129, 64, 100003, 0, 13};
  EXPECT_EQ(hex_in_pieces(false, bytes_of(data), pieces), whole);
  EXPECT_EQ(hex_in_pieces(true, bytes_of(data), pieces), whole);
  EXPECT_EQ(hex_with(false, bytes_of(data)), whole);
}

#if defined(__x86_64__)
TEST(Sha256, X86BlockFunctionMatchesPortableOnRandomState) {
  if (!sha256_detail::x86_sha_supported()) GTEST_SKIP() << "CPU has no SHA extensions";
  std::mt19937 rng(4);
  for (size_t blocks : {1u, 2u, 5u, 64u}) {
    std::array<uint32_t, 8> reference{};
    for (auto& word : reference) word = rng();
    auto fast = reference;
    const auto data = random_bytes(blocks * 64, static_cast<uint32_t>(blocks));
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
    sha256_detail::blocks_portable(reference.data(), p, blocks);
    sha256_detail::blocks_x86_sha(fast.data(), p, blocks);
    EXPECT_EQ(fast, reference) << blocks << " blocks";
  }
}
#endif

TEST(Sha256, FileHexMatchesInMemoryHash) {
  testing::temp_dir dir;
  // Over 1 MiB so the file is read in more than one chunk, and not a multiple of 64.
  const auto data = random_bytes((1 << 20) + 12345, 5);
  const auto path = dir / "blob.bin";
  testing::write_file(path, std::string(reinterpret_cast<const char*>(data.data()), data.size()));
  const auto from_file = sha256_file_hex(path.string());
  ASSERT_TRUE(from_file);
  EXPECT_EQ(*from_file, hex_with(true, bytes_of(data)));
  EXPECT_FALSE(sha256_file_hex((dir / "missing").string()));
}

}  // namespace
}  // namespace edgepack

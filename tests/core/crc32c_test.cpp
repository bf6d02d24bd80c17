// CRC-32C against published check values and against a bit-at-a-time reference on odd lengths
// and alignments (the slicing-by-8 fast path and the byte tail must agree with it).
#include "core/crc32c.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace edgepack {
namespace {

using testing::bytes_of;

uint32_t reference_crc32c(std::span<const std::byte> bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (std::byte b : bytes) {
    crc ^= static_cast<uint32_t>(b);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32c, KnownValues) {
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);  // the standard check value
  EXPECT_EQ(crc32c(bytes_of("")), 0u);
  // RFC 3720 (iSCSI) B.4 test vectors: 32 bytes of zeros, of 0xFF, and ascending.
  EXPECT_EQ(crc32c(bytes_of(std::string(32, '\0'))), 0x8A9136AAu);
  EXPECT_EQ(crc32c(bytes_of(std::string(32, '\xff'))), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i);
  EXPECT_EQ(crc32c(bytes_of(ascending)), 0x46DD794Eu);
}

TEST(Crc32c, MatchesBitwiseReferenceOnOddLengthsAndOffsets) {
  std::mt19937 rng(3);
  std::vector<std::byte> buffer(4099);
  for (auto& b : buffer) b = static_cast<std::byte>(rng());
  for (size_t offset : {0u, 1u, 3u, 7u}) {
    for (size_t length : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 172u, 4091u}) {
      const auto span = std::span(buffer).subspan(offset, length);
      EXPECT_EQ(crc32c(span), reference_crc32c(span)) << offset << "+" << length;
    }
  }
}

TEST(Crc32c, ContinuesARunningChecksum) {
  const std::string text = "The quick brown fox jumps over the lazy dog, 172 times.";
  for (size_t split = 0; split <= text.size(); ++split) {
    const auto all = bytes_of(text);
    EXPECT_EQ(crc32c(all.subspan(split), crc32c(all.first(split))), crc32c(all)) << split;
  }
}

}  // namespace
}  // namespace edgepack

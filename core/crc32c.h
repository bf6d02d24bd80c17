// CRC-32C (Castagnoli): the checksum of every .epk section (docs/format.md).
// Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final xor 0xFFFFFFFF, as in
// iSCSI / ext4 / SSE4.2 `crc32`. CRC-32C was picked over CRC-32 (zlib) because it detects more
// error patterns at the sizes we checksum and because devices often have a hardware instruction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace edgepack {

// CRC of `bytes`. Pass the CRC of the preceding bytes as `previous` to continue a running
// checksum, so crc32c(b, crc32c(a)) == crc32c(a followed by b) and blobs can be summed in chunks.
uint32_t crc32c(std::span<const std::byte> bytes, uint32_t previous = 0);

}  // namespace edgepack

// Internals of core/sha256: the block functions and the switch between them. Not for general use;
// it exists so the x86 fast path can live in its own file and so tests can compare the paths.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace edgepack::sha256_detail {

// FIPS 180-4 section 4.2.2: first 32 bits of the fractional parts of the cube roots of the first
// 64 primes. Shared by both block functions.
inline constexpr std::array<uint32_t, 64> round_constants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
    0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
    0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
    0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
    0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// A block function runs the compression function over `blocks` consecutive 64-byte blocks,
// updating state = {a, b, c, d, e, f, g, h}. Taking many blocks per call lets the fast path keep
// the state in registers across blocks instead of paying a call and a state shuffle per block.
using block_fn = void (*)(uint32_t* state, const uint8_t* data, size_t blocks);

// The reference implementation, straight from FIPS 180-4 section 6.2.2; runs everywhere.
void blocks_portable(uint32_t* state, const uint8_t* data, size_t blocks);

#if defined(__x86_64__)
// Uses the SHA extensions (sha256rnds2/msg1/msg2) plus SSSE3/SSE4.1; only call it when
// x86_sha_supported() is true, or it dies with SIGILL.
void blocks_x86_sha(uint32_t* state, const uint8_t* data, size_t blocks);
#endif

// True when this CPU has SHA, SSSE3 and SSE4.1 (always false off x86-64).
bool x86_sha_supported();

// The block function a new sha256 object will use: the fast one when the CPU has it, unless
// force_portable(true) was called.
block_fn active_block_fn();

// Test hook: make sha256 objects created afterwards use the portable path even where the fast one
// is available, so tests can compare the two through the public API.
void force_portable(bool use_portable_only);

}  // namespace edgepack::sha256_detail

// SHA-256 block function using the x86 SHA extensions. Only this function is compiled for the
// sha/sse4.1/ssse3 target (via the attribute), so the rest of the project stays baseline x86-64 and
// sha256.cpp picks this path at runtime after checking CPUID. On other architectures the file is
// empty and the portable path is used.
#if defined(__x86_64__)

#include <immintrin.h>

#include "core/sha256_impl.h"

#define EDGEPACK_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

namespace edgepack::sha256_detail {
namespace {

// Register layout (32-bit lanes, lane 0 lowest). sha256rnds2 wants the eight working variables split
// as abef = {f, e, b, a} and cdgh = {h, g, d, c}; it reads cdgh from its first operand, abef from its
// second and w[t]+k[t] for two rounds from the low two lanes of its third, and returns abef after
// those two rounds. The new cdgh is simply the old abef, since c,d,g,h after two rounds are the old
// a,b,e,f.
//
// Four rounds t..t+3, with msg = {w[t], w[t+1], w[t+2], w[t+3]}. The two rnds2 calls alternate which
// variable holds abef, so that after both the roles are back where they started and nothing is copied.
EDGEPACK_SHA_TARGET inline void four_rounds(__m128i& abef, __m128i& cdgh, __m128i msg, int t) {
  const __m128i wk = _mm_add_epi32(msg, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&round_constants[t])));
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);  // cdgh now holds abef after rounds t, t+1
  // Move lanes 2,3 (w+k for rounds t+2, t+3) down to lanes 0,1.
  abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));  // old abef is the new cdgh
}

// Next four schedule words from the previous sixteen, held as w0 = w[t-16..t-13], w1 = w[t-12..t-9],
// w2 = w[t-8..t-5], w3 = w[t-4..t-1]. FIPS 180-4: w[t] = s1(w[t-2]) + w[t-7] + s0(w[t-15]) + w[t-16].
// sha256msg1(w0, w1) gives w[t-16+i] + s0(w[t-15+i]); alignr picks w[t-7..t-4] out of w2:w3; then
// sha256msg2 adds s1(w[t-2+i]), feeding its own first two results back for the last two lanes.
EDGEPACK_SHA_TARGET inline __m128i next_schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
  const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
  return _mm_sha256msg2_epu32(partial, w3);
}

}  // namespace

EDGEPACK_SHA_TARGET void blocks_x86_sha(uint32_t* state, const uint8_t* data, size_t blocks) {
  // Bytes 3,2,1,0 of each lane: message words are big-endian.
  const __m128i byte_swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);

  // {a,b,c,d} and {e,f,g,h} -> abef = {f,e,b,a}, cdgh = {h,g,d,c}.
  const __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0x1B);
  const __m128i fehg = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4)), 0xB1);
  __m128i abef = _mm_blend_epi16(fehg, dcba, 0xF0);  // low half {f,e} from fehg, high half {b,a} from dcba
  __m128i cdgh = _mm_alignr_epi8(dcba, fehg, 8);     // {h,g} from the top of fehg, {d,c} from the bottom of dcba

  for (size_t block = 0; block < blocks; ++block, data += 64) {
    const __m128i abef_in = abef;
    const __m128i cdgh_in = cdgh;
    const auto* words = reinterpret_cast<const __m128i*>(data);
    __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128(words + 0), byte_swap);
    __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128(words + 1), byte_swap);
    __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128(words + 2), byte_swap);
    __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128(words + 3), byte_swap);
    four_rounds(abef, cdgh, w0, 0);
    four_rounds(abef, cdgh, w1, 4);
    four_rounds(abef, cdgh, w2, 8);
    four_rounds(abef, cdgh, w3, 12);
    // Rounds 16..63 with a rolling window of the last sixteen schedule words; each step overwrites
    // the oldest group, which the new one no longer needs.
    for (int t = 16; t < 64; t += 16) {
      w0 = next_schedule(w0, w1, w2, w3);
      four_rounds(abef, cdgh, w0, t);
      w1 = next_schedule(w1, w2, w3, w0);
      four_rounds(abef, cdgh, w1, t + 4);
      w2 = next_schedule(w2, w3, w0, w1);
      four_rounds(abef, cdgh, w2, t + 8);
      w3 = next_schedule(w3, w0, w1, w2);
      four_rounds(abef, cdgh, w3, t + 12);
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }

  // abef = {f,e,b,a}, cdgh = {h,g,d,c} -> {a,b,e,f}, {c,d,g,h} -> {a,b,c,d}, {e,f,g,h}.
  const __m128i abef_rev = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i cdgh_rev = _mm_shuffle_epi32(cdgh, 0x1B);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_unpacklo_epi64(abef_rev, cdgh_rev));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_unpackhi_epi64(abef_rev, cdgh_rev));
}

}  // namespace edgepack::sha256_detail

#endif  // defined(__x86_64__)

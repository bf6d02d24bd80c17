// Minimal PNG reader for tests that look at screenshots (headless Chromium): 8-bit greyscale, RGB,
// RGBA, grey+alpha, non-interlaced -- what Chromium writes. Inflate via zlib.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgepack::testing {

struct rgb_image {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3, alpha dropped (Chromium's screenshots are opaque)
};

// Empty error string on success, else what is wrong with the file.
std::string decode_png(const std::string& bytes, rgb_image& out);

}  // namespace edgepack::testing

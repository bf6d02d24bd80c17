#include "tests/e2e/png_image.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>

namespace edgepack::testing {

namespace {

uint32_t be32(const std::string& b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) | (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

}  // namespace

std::string decode_png(const std::string& bytes, rgb_image& out) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) != 0) return "not a PNG signature";
  size_t at = 8;
  int depth = 0, colour = -1, interlace = 0;
  std::string idat;
  while (at + 12 <= bytes.size()) {
    const uint32_t len = be32(bytes, at);
    if (len > bytes.size() - at - 12) return "chunk overruns the file";
    const std::string type = bytes.substr(at + 4, 4);
    if (type == "IHDR" && len >= 13) {
      out.width = be32(bytes, at + 8);
      out.height = be32(bytes, at + 12);
      depth = uint8_t(bytes[at + 16]);
      colour = uint8_t(bytes[at + 17]);
      interlace = uint8_t(bytes[at + 20]);
    } else if (type == "IDAT") {
      idat.append(bytes, at + 8, len);
    } else if (type == "IEND") {
      break;
    }
    at += 12 + len;
  }
  int channels = 0;
  switch (colour) {
    case 0: channels = 1; break;
    case 2: channels = 3; break;
    case 4: channels = 2; break;
    case 6: channels = 4; break;
    default: return "unsupported colour type " + std::to_string(colour);
  }
  if (depth != 8 || interlace != 0) return "only 8-bit non-interlaced PNGs are supported";
  if (out.width == 0 || out.height == 0 || out.width > 20000 || out.height > 20000) return "implausible size";
  const size_t stride = size_t(out.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * out.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK || raw_size != raw.size())
    return "IDAT does not inflate to height x (1 + stride) bytes";
  std::vector<uint8_t> pixels(stride * out.height), zero(stride, 0);
  for (uint32_t y = 0; y < out.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* src = &raw[y * (stride + 1) + 1];
    uint8_t* row = &pixels[y * stride];
    const uint8_t* up = y ? &pixels[(y - 1) * stride] : zero.data();
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= size_t(channels) ? row[i - channels] : 0, b = up[i], c = i >= size_t(channels) ? up[i - channels] : 0;
      int predicted = 0;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) / 2; break;
        case 4: predicted = paeth(a, b, c); break;
        default: return "bad filter type " + std::to_string(filter);
      }
      row[i] = static_cast<uint8_t>(src[i] + predicted);
    }
  }
  out.rgb.resize(size_t(out.width) * out.height * 3);
  for (size_t p = 0; p < size_t(out.width) * out.height; ++p)
    for (int ch = 0; ch < 3; ++ch) out.rgb[p * 3 + ch] = pixels[p * channels + (channels >= 3 ? ch : 0)];
  return "";
}

}  // namespace edgepack::testing

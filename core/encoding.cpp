#include "core/encoding.h"

namespace edgepack {

dtype quant_encoding::code_dtype() const {
  switch (bits) {
    case 2: return dtype::u2;
    case 3: return dtype::u3;
    case 4: return dtype::u4;
    default: return dtype::u8;  // 5..8-bit codes are stored one per byte
  }
}

std::string quant_encoding_name(const quant_encoding& enc) {
  std::string name = "w" + std::to_string(enc.bits);
  if (enc.group_size > 0) name += "g" + std::to_string(enc.group_size);
  if (!enc.symmetric) name += "_asym";
  return name;
}

}  // namespace edgepack

// libFuzzer entry for the .epk reader with checksum verification on (the default a user gets):
// any bytes must give a model or a bad_input Status, never a crash, sanitizer report or
// exception. Random mutations mostly die at a CRC here; epk_nochecksum_fuzz.cpp repairs the
// checksums so mutations reach the JSON and tensor-table checks.
#include "tests/fuzz/epk_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  edgepack::epk_read_options options;  // verify_checksums = true: the default users get
  edgepack::fuzz::check_epk_bytes(std::vector<std::byte>(begin, begin + size), options);
  return 0;
}

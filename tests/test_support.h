// Helpers shared by all test binaries: locating data, temp dirs, running the CLI.
#pragma once
#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace edgepack::testing {

std::filesystem::path source_dir();
// The bundled small data (datasets/ in the repository).
std::filesystem::path datasets_dir();
// ../shared, or empty when absent. Use EP_REQUIRE_SHARED() in tests instead of calling directly.
std::filesystem::path shared_dir();
// Empty unless ../shared is missing; then the message to skip with (or fail with, in CI).
bool shared_available();

// A fresh directory removed when the object dies.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct command_result {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the edgepack CLI with the given arguments (no shell quoting issues: args are quoted).
command_result run_cli(const std::vector<std::string>& args);

// A string's bytes, for the byte-span APIs (checksums, hashes, readers).
inline std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& bytes);

}  // namespace edgepack::testing

// Skips the test when ../shared is absent, or fails it when EDGEPACK_REQUIRE_SHARED=1 (CI).
#define EP_REQUIRE_SHARED()                                                                         \
  do {                                                                                              \
    if (!::edgepack::testing::shared_available()) {                                                 \
      const char* require = std::getenv("EDGEPACK_REQUIRE_SHARED");                                 \
      if (require != nullptr && std::string(require) == "1")                                        \
        FAIL() << "../shared is required (EDGEPACK_REQUIRE_SHARED=1) but was not found at "        \
               << EDGEPACK_SHARED_DIR_DEFAULT;                                                      \
      GTEST_SKIP() << "../shared not found at " << EDGEPACK_SHARED_DIR_DEFAULT                      \
                   << " (set EDGEPACK_SHARED_DIR); skipping a test that needs the shared models";  \
    }                                                                                               \
  } while (0)

#include "tests/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace edgepack::testing {

std::filesystem::path source_dir() { return EDGEPACK_SOURCE_DIR; }
std::filesystem::path datasets_dir() { return source_dir() / "datasets"; }

std::filesystem::path shared_dir() {
  const char* env = std::getenv("EDGEPACK_SHARED_DIR");
  std::filesystem::path dir = env != nullptr ? env : EDGEPACK_SHARED_DIR_DEFAULT;
  if (std::filesystem::exists(dir / "models")) return dir;
  return {};
}

bool shared_available() { return !shared_dir().empty(); }

temp_dir::temp_dir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("edgepack-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

static std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

command_result run_cli(const std::vector<std::string>& args) {
  temp_dir capture;
  std::string command = shell_quote(EDGEPACK_BINARY);
  for (const auto& arg : args) command += " " + shell_quote(arg);
  command += " >" + shell_quote((capture / "out").string()) + " 2>" + shell_quote((capture / "err").string());
  const int status = std::system(command.c_str());
  command_result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(capture / "out");
  result.err = read_file(capture / "err");
  return result;
}

}  // namespace edgepack::testing

// Shared by the CLI error tests (cli_errors_*_test.cpp): the bundled inputs, byte-level patching
// used to craft corrupt files, and the checks every rejected command must pass (exit code, an
// "edgepack: error:" message naming the file and the problem, no output written or changed).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace edgepack::testing {

std::string bundled_model();      // datasets/stories260K/stories260K.bin
std::string bundled_tokenizer();  // datasets/stories260K/tok512.bin
std::string bundled_text();       // datasets/tinystories/tinystories_val.txt

// Little-endian integer patches into a file's bytes (the formats are little-endian).
void put_le(std::string& bytes, size_t offset, uint64_t value, size_t width);
uint64_t get_le(const std::string& bytes, size_t offset, size_t width);

// A safetensors file split into its parts, so tests can edit the JSON header and reassemble.
struct safetensors_parts {
  nlohmann::json header;
  std::string data;
};
safetensors_parts split_safetensors(const std::string& bytes);
std::string join_safetensors(const nlohmann::json& header, const std::string& data);
// The bundled model's weights (Hugging Face names) written with formats/safetensors.h.
std::string bundled_weights_as_safetensors(const temp_dir& dir);
// A Hugging Face directory: config.json (stories260K's shape) + model.safetensors.
std::filesystem::path make_hf_dir(const temp_dir& dir, const std::string& name, const nlohmann::json& config,
                                  const std::string& safetensors_bytes);
nlohmann::json bundled_hf_config();

// What a rejected command must print. `file` may be empty for pure usage errors; otherwise
// stderr must contain "edgepack: error: <file>" (the message starts with the file it is about).
struct expected_error {
  int exit_code = 0;
  std::string file;
  std::string phrase;  // a specific part of the message that says what is wrong
};

// Runs `edgepack -q <args>` and checks code and message. Returns the result for more checks.
command_result expect_error(const std::vector<std::string>& args, const expected_error& expected);

// For commands that write a file: runs `args` + {"-o", OUT} twice, with OUT in a fresh directory:
// first OUT does not exist (it must not afterwards, and no temp file may be left in the directory),
// then OUT holds other bytes (they must be unchanged).
void expect_error_keeps_output(const std::vector<std::string>& args, const expected_error& expected);

// `quantize <input> --scheme w4g32 -o OUT` must be rejected as `expected`, in both variants.
void expect_quantize_rejects(const std::string& input, const expected_error& expected);

}  // namespace edgepack::testing

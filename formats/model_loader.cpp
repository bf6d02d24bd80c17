#include "formats/model_loader.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "calibration/tokenizer.h"
#include "formats/epk.h"
#include "formats/hf_llama.h"
#include "formats/llama2c.h"
#include "formats/llama_graph.h"
#include "formats/onnx_reader.h"
#include "formats/safetensors.h"

namespace edgepack {

namespace fs = std::filesystem;

const char* model_format_name(model_format f) {
  switch (f) {
#define EDGEPACK_FORMAT(name, description) \
  case model_format::name:                 \
    return #name;
#include "formats/formats.def"
#undef EDGEPACK_FORMAT
  }
  return "?";
}

std::string supported_formats_text() {
  std::string text;
#define EDGEPACK_FORMAT(name, description) text += std::string("  ") + #name + ": " + description + "\n";
#include "formats/formats.def"
#undef EDGEPACK_FORMAT
  return text;
}

Expected<model_format> detect_model_format(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / "config.json")) return model_format::hf;
    return bad_input(path + ": a directory without config.json is not a Hugging Face model directory");
  }
  if (!fs::exists(path, ec)) return bad_input(path + ": no such file or directory");
  unsigned char head[16] = {};
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  if (got >= 4 && std::memcmp(head, "EPK", 3) == 0) return model_format::epk;
  if (got >= 9) {
    uint64_t header_len = 0;
    std::memcpy(&header_len, head, 8);
    if (head[8] == '{' && header_len > 1 && header_len <= safetensors_max_header_bytes) return model_format::safetensors;
  }
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".onnx") return model_format::onnx;
  // A ModelProto almost always starts with field 1 (ir_version, varint tag 0x08) holding a small
  // version, then another field; llama2.c headers start with a little-endian int32 whose second byte
  // is 0 for any plausible dim below 256, so they do not match.
  if (got >= 3 && head[0] == 0x08 && head[1] >= 1 && head[1] <= 20 && (head[2] == 0x12 || head[2] == 0x1a || head[2] == 0x22 || head[2] == 0x28 || head[2] == 0x32 || head[2] == 0x3a || head[2] == 0x42))
    return model_format::onnx;
  if (ext == ".epk") return model_format::epk;
  if (ext == ".safetensors") return model_format::safetensors;
  if (ext == ".bin") return model_format::llama2c;
  return bad_input(path + ": unrecognised model format; supported:\n" + supported_formats_text());
}

static Expected<vocabulary> find_tokenizer(const std::string& model_path, int64_t vocab_size, const load_options& options) {
  if (!options.tokenizer_path.empty()) return read_llama2c_tokenizer(options.tokenizer_path, vocab_size);
  const fs::path dir = fs::is_directory(model_path) ? fs::path(model_path) : fs::path(model_path).parent_path();
  for (const std::string& name : {std::string("tokenizer.bin"), "tok" + std::to_string(vocab_size) + ".bin"}) {
    const fs::path candidate = dir / name;
    if (fs::exists(candidate)) return read_llama2c_tokenizer(candidate.string(), vocab_size);
  }
  return vocabulary{};  // models can run from ids; text commands report the missing tokenizer
}

static Expected<model> load_llama(llama_checkpoint checkpoint, const std::string& path, const load_options& options, const char* format) {
  if (checkpoint.vocab.empty()) {
    auto vocab = find_tokenizer(path, checkpoint.config.vocab_size, options);
    if (!vocab.ok()) return vocab.status();
    checkpoint.vocab = std::move(vocab).value();
    checkpoint.vocab.bos_id = checkpoint.config.bos_id;
    checkpoint.vocab.eos_id = checkpoint.config.eos_id;
  }
  auto built = build_llama_model(std::move(checkpoint), format);
  if (!built.ok()) return built.status().with_context(path);
  return built;
}

Expected<model> load_model(const std::string& path, const load_options& options) {
  EP_ASSIGN_OR_RETURN(model_format format, detect_model_format(path));
  switch (format) {
    case model_format::llama2c: {
      EP_ASSIGN_OR_RETURN(llama_checkpoint checkpoint, read_llama2c(path));
      return load_llama(std::move(checkpoint), path, options, "llama2c");
    }
    case model_format::hf: {
      EP_ASSIGN_OR_RETURN(llama_checkpoint checkpoint, read_hf_llama_dir(path));
      return load_llama(std::move(checkpoint), path, options, "hf");
    }
    case model_format::safetensors: {
      EP_ASSIGN_OR_RETURN(safetensors_file file, read_safetensors(path));
      model m;
      m.format = "safetensors";
      m.g.weights = std::move(file.tensors);
      m.sources.push_back({path, "", static_cast<uint64_t>(fs::file_size(path))});
      return m;
    }
    case model_format::epk:
      return read_epk(path);
    case model_format::onnx:
      return read_onnx(path);
  }
  return internal_error("unhandled model format");
}

}  // namespace edgepack

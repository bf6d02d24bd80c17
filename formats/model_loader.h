// One entry point for reading any model file the CLI accepts (formats.def).
#pragma once
#include <string>

#include "core/model.h"

namespace edgepack {

enum class model_format {
#define EDGEPACK_FORMAT(name, description) name,
#include "formats/formats.def"
#undef EDGEPACK_FORMAT
};

struct load_options {
  // llama2.c tokenizer file for checkpoints that do not carry one. Empty: look beside the model
  // for tokenizer.bin, then tok<vocab_size>.bin.
  std::string tokenizer_path;
};

const char* model_format_name(model_format f);
std::string supported_formats_text();
// Decides by content (magic bytes) first, then by directory layout, then by extension.
Expected<model_format> detect_model_format(const std::string& path);
// Errors carry the path.
Expected<model> load_model(const std::string& path, const load_options& options);

}  // namespace edgepack

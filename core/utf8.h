// UTF-8 validation shared by text readers (tokenizer input, eval text) and JSON writers.
#pragma once
#include <string_view>

namespace edgepack {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. At least as
// strict as nlohmann's dump(), so text we call valid never makes it throw.
bool is_valid_utf8(std::string_view text);

}  // namespace edgepack

#include "core/status.h"

namespace edgepack {

const char* error_code_name(error_code code) {
  switch (code) {
#define EDGEPACK_ERROR(name, exit_code, summary) \
  case error_code::name:                         \
    return #name;
#include "core/errors.def"
#undef EDGEPACK_ERROR
  }
  return "unknown";
}

}  // namespace edgepack

#include "runtime_ref/attention_layout.h"

#include <string>

namespace edgepack {

Expected<attention_layout> describe_attention_operand(const node& op, const tensor& t, const char* heads_attr, const char* what) {
  if (t.shape.size() == 4) return attention_layout{t.shape[0], t.shape[2], t.shape[1], t.shape[3], true};
  if (t.shape.size() == 3) {
    const int64_t heads = op.int_attr(heads_attr, 0);
    if (heads <= 0 || t.shape[2] % heads != 0) return bad_input(std::string(what) + " is 3-D: attribute " + heads_attr + " must divide its hidden size");
    return attention_layout{t.shape[0], t.shape[1], heads, t.shape[2] / heads, false};
  }
  return bad_input(std::string(what) + " must be 3-D or 4-D, got " + shape_to_string(t.shape));
}

}  // namespace edgepack

#include "runtime_ref/attention_layout.h"

#include <algorithm>
#include <cmath>
#include <limits>
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

double attention_row_weights(const float* query, const float* keys, int64_t key_stride, int64_t head, int64_t visible, double scale,
                             std::vector<double>& scores) {
  double best = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < visible; ++j) {
    const float* key = keys + j * key_stride;
    double dot = 0.0;
    for (int64_t d = 0; d < head; ++d) dot += static_cast<double>(query[d]) * key[d];
    scores[static_cast<size_t>(j)] = dot * scale;
    best = std::max(best, scores[static_cast<size_t>(j)]);
  }
  double sum = 0.0;
  for (int64_t j = 0; j < visible; ++j) sum += (scores[static_cast<size_t>(j)] = std::exp(scores[static_cast<size_t>(j)] - best));
  return sum;
}

}  // namespace edgepack

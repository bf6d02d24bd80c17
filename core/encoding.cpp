#include "core/encoding.h"

#include <algorithm>

namespace edgepack {

dtype quant_encoding::code_dtype() const {
  switch (bits) {
    case 2: return dtype::u2;
    case 3: return dtype::u3;
    case 4: return dtype::u4;
    default: return dtype::u8;  // 5..8-bit codes are stored one per byte
  }
}

quant_matrix_view quant_view_of(const std::vector<int64_t>& shape, const quant_encoding& enc) {
  if (shape.empty()) return {1, 1};
  if (enc.transposed) return shape[0] == 0 ? quant_matrix_view{0, 0} : quant_matrix_view{shape[1], shape[0]};
  const size_t split = enc.col_axis < 0 ? shape.size() - 1 : static_cast<size_t>(enc.col_axis);
  quant_matrix_view view{1, 1};
  for (size_t i = 0; i < shape.size(); ++i) (i < split ? view.rows : view.cols) *= shape[i];
  if (view.cols == 0) view.rows = 0;  // no columns: no groups, no scales
  return view;
}

std::string quant_layout_problem(size_t rank, const quant_encoding& enc) {
  if (enc.col_axis < -1 || (enc.col_axis >= 0 && static_cast<size_t>(enc.col_axis) >= std::max<size_t>(rank, 1)))
    return "col_axis " + std::to_string(enc.col_axis) + " is not a dim of a rank-" + std::to_string(rank) + " tensor";
  if (enc.col_axis >= 0 && rank == 0) return "a scalar has no col_axis";
  if (enc.transposed && rank != 2) return "transposed layout needs a 2-D tensor, not rank " + std::to_string(rank);
  if (enc.transposed && enc.col_axis != -1) return "transposed layout takes no col_axis";
  return {};
}

std::string quant_encoding_name(const quant_encoding& enc) {
  std::string name = "w" + std::to_string(enc.bits);
  if (enc.group_size > 0) name += "g" + std::to_string(enc.group_size);
  if (!enc.symmetric) name += "_asym";
  return name;
}

}  // namespace edgepack

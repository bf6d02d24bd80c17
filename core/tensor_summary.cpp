#include "core/tensor_summary.h"

namespace edgepack {

std::string tensor_encoding_text(const tensor& t) {
  const std::string values = t.is_quantized() ? quant_encoding_name(t.quant) : std::string(dtype_name(t.type));
  if (!t.is_sparse()) return values;
  return (t.sparsity.layout == sparsity_layout::n_of_m ? "s" + sparse_encoding_name(t.sparsity) : std::string("bitmask")) + "+" + values;
}

double tensor_zero_fraction(const tensor& t) {
  auto values = to_float_vector(t);
  if (!values.ok() || values->empty()) return 0.0;
  size_t zeros = 0;
  for (float v : *values) zeros += v == 0.0f;
  return static_cast<double>(zeros) / static_cast<double>(values->size());
}

double tensor_bits_per_weight(const tensor& t) {
  const auto count = static_cast<uint64_t>(t.numel());
  return count ? 8.0 * static_cast<double>(t.stored_bytes()) / static_cast<double>(count) : 0.0;
}

bool is_derived_constant(const std::string& name) { return name.rfind("rope.", 0) == 0 || name.rfind("shape.", 0) == 0; }

}  // namespace edgepack

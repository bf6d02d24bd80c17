#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include "core/half_convert.h"
#include "core/quant_codes.h"

namespace edgepack {

std::optional<uint64_t> checked_element_count(std::span<const int64_t> shape) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(dim);
    if (d != 0 && count > (uint64_t{1} << 62) / d) return std::nullopt;
    count *= d;
  }
  return count;
}

std::string shape_to_string(std::span<const int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

int64_t tensor::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

byte_view make_owned_view(std::vector<std::byte> bytes) {
  auto owner = std::make_shared<owned_storage>(std::move(bytes));
  return {owner, owner->data(), owner->size()};
}

tensor tensor::allocate(dtype type, std::vector<int64_t> shape) {
  tensor t;
  t.type = type;
  t.shape = std::move(shape);
  const auto count = checked_element_count(t.shape);
  assert(count.has_value());
  // Always back the view with at least one byte: empty tensors then still have a non-null data
  // pointer, so kernels may memcpy zero bytes from/to them without undefined behaviour.
  const uint64_t bytes = dtype_bytes_for(type, *count);
  auto owner = std::make_shared<owned_storage>(std::max<size_t>(bytes, 1));
  t.data = {owner, owner->data(), bytes};
  return t;
}

Expected<std::vector<float>> to_float_vector(const tensor& t) {
  const auto count = static_cast<size_t>(t.numel());
  std::vector<float> out(count);
  if (t.is_encoded()) {
    if (t.is_sparse()) decode_sparse_rows(t, 0, t.rows(), out.data());
    else dequantize_rows(t, 0, t.rows(), out.data());
    if (t.quant.transposed) {  // the codes hold the transpose: put elements back in tensor order
      std::vector<float> original(count);
      const int64_t rows = t.rows(), cols = t.cols();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) original[static_cast<size_t>(c * rows + r)] = out[static_cast<size_t>(r * cols + c)];
      out = std::move(original);
    }
    return out;
  }
  if (!decode_float_elements(t.type, t.data.data, out.data(), count))
    return bad_input("tensor of type " + std::string(dtype_name(t.type)) + " is not a float tensor");
  return out;
}

}  // namespace edgepack

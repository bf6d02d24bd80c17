// Gather: out = data.take(indices, axis). Negative indices count from the end (ONNX semantics).
#include "runtime_ref/kernel.h"

#include <cstring>

namespace edgepack {

Status kernel_gather(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  const tensor& data = *io.input(0);
  const tensor& indices = *io.input(1);
  if (indices.type != dtype::i64 && indices.type != dtype::i32) return io.fail("indices must be int64 or int32");
  const int64_t rank = static_cast<int64_t>(data.shape.size());
  int64_t axis = io.op.int_attr("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return io.fail("axis out of range for data of rank " + std::to_string(rank));
  std::vector<int64_t> out_shape(data.shape.begin(), data.shape.begin() + axis);
  out_shape.insert(out_shape.end(), indices.shape.begin(), indices.shape.end());
  out_shape.insert(out_shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= data.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= data.shape[d];
  const int64_t extent = data.shape[axis];
  const size_t element = dtype_bits(data.type) / 8;
  tensor out = tensor::allocate(data.type, out_shape);
  const int64_t count = indices.numel();
  const auto* src = reinterpret_cast<const char*>(data.data.data);
  auto* dst = out.mutable_data_as<char>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < count; ++i) {
      int64_t index = indices.type == dtype::i64 ? indices.data_as<int64_t>()[i] : indices.data_as<int32_t>()[i];
      if (index < 0) index += extent;
      if (index < 0 || index >= extent)
        return io.fail("index " + std::to_string(index) + " out of range [0, " + std::to_string(extent) + ")");
      std::memcpy(dst + ((o * count + i) * inner) * element, src + ((o * extent + index) * inner) * element, inner * element);
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

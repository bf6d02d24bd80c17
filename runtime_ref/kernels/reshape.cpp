// Reshape (opset 5+ semantics: 0 copies the input dim unless allowzero=1, one -1 is inferred).
#include "runtime_ref/kernel.h"

namespace edgepack {

Status kernel_reshape(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  EP_RETURN_IF_ERROR(io.require_type(1, dtype::i64));
  const tensor& data = *io.input(0);
  const tensor& shape_tensor = *io.input(1);
  const bool allow_zero = io.op.int_attr("allowzero", 0) != 0;
  std::vector<int64_t> shape(shape_tensor.data_as<int64_t>(), shape_tensor.data_as<int64_t>() + shape_tensor.numel());
  int64_t known = 1;
  int infer_at = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0 && !allow_zero) {
      if (d >= data.shape.size()) return io.fail("shape has 0 at dimension " + std::to_string(d) + " beyond the input rank");
      shape[d] = data.shape[d];
    }
    if (shape[d] == -1) {
      if (infer_at >= 0) return io.fail("shape has more than one -1");
      infer_at = static_cast<int>(d);
      continue;
    }
    if (shape[d] < 0) return io.fail("shape has negative dimension " + std::to_string(shape[d]));
    known *= shape[d];
  }
  const int64_t count = data.numel();
  if (infer_at >= 0) {
    if (known == 0 || count % known != 0) return io.fail("cannot infer -1 for " + std::to_string(count) + " elements into " + shape_to_string(shape));
    shape[infer_at] = count / known;
  } else if (known != count) {
    return io.fail("cannot reshape " + shape_to_string(data.shape) + " to " + shape_to_string(shape));
  }
  tensor out = data;  // same bytes, new shape: no copy
  out.shape = std::move(shape);
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

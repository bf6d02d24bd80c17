// Add, Sub, Mul, Div, Pow (float, broadcasting). Add/Sub/Mul/Div also take int64, which the shape
// arithmetic of exported LLM graphs uses.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernel.h"

namespace edgepack {

template <class T, class Op>
static Status binary_typed(kernel_io& io, dtype type, Op op) {
  EP_RETURN_IF_ERROR(io.require_type(0, type));
  EP_RETURN_IF_ERROR(io.require_type(1, type));
  const tensor& a = *io.input(0);
  const tensor& b = *io.input(1);
  auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) return io.fail("shapes " + shape_to_string(a.shape) + " and " + shape_to_string(b.shape) + " do not broadcast");
  tensor out = tensor::allocate(type, *shape);
  T* y = out.mutable_data_as<T>();
  const T* pa = a.data_as<T>();
  const T* pb = b.data_as<T>();
  const int64_t count = out.numel();
  if (a.shape == b.shape) {
    for (int64_t i = 0; i < count; ++i) y[i] = op(pa[i], pb[i]);
  } else if (count > 0) {
    const auto sa = broadcast_strides(a.shape, *shape);
    const auto sb = broadcast_strides(b.shape, *shape);
    const size_t rank = shape->size();
    // The innermost dim runs as one loop (stride 0 or 1 on each side, so it vectorises); an
    // odometer over the outer dims keeps the input offsets in step without divisions.
    const int64_t inner = (*shape)[rank - 1];
    const int64_t ia_step = sa[rank - 1], ib_step = sb[rank - 1];
    std::vector<int64_t> index(rank, 0);
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < count; i += inner) {
      T* row = y + i;
      if (ia_step == 1 && ib_step == 1) {
        for (int64_t j = 0; j < inner; ++j) row[j] = op(pa[ia + j], pb[ib + j]);
      } else if (ia_step == 1) {
        const T vb = pb[ib];
        for (int64_t j = 0; j < inner; ++j) row[j] = op(pa[ia + j], vb);
      } else if (ib_step == 1) {
        const T va = pa[ia];
        for (int64_t j = 0; j < inner; ++j) row[j] = op(va, pb[ib + j]);
      } else {
        const T v = op(pa[ia], pb[ib]);
        std::fill(row, row + inner, v);
      }
      for (size_t d = rank - 1; d-- > 0;) {
        ++index[d];
        ia += sa[d];
        ib += sb[d];
        if (index[d] < (*shape)[d]) break;
        ia -= sa[d] * index[d];
        ib -= sb[d] * index[d];
        index[d] = 0;
      }
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

template <class Op>
static Status binary_float(kernel_io& io, Op op) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  return binary_typed<float>(io, dtype::f32, op);
}

// int64 when input 0 is int64, else float. IntOp works in uint64 so overflow wraps instead of UB.
template <class FloatOp, class IntOp>
static Status binary_numeric(kernel_io& io, FloatOp float_op, IntOp int_op) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  if (io.input(0)->type == dtype::i64) return binary_typed<int64_t>(io, dtype::i64, int_op);
  return binary_typed<float>(io, dtype::f32, float_op);
}

static uint64_t u(int64_t v) { return static_cast<uint64_t>(v); }

Status kernel_add(kernel_io& io) {
  return binary_numeric(io, [](float x, float y) { return x + y; }, [](int64_t x, int64_t y) { return static_cast<int64_t>(u(x) + u(y)); });
}
Status kernel_sub(kernel_io& io) {
  return binary_numeric(io, [](float x, float y) { return x - y; }, [](int64_t x, int64_t y) { return static_cast<int64_t>(u(x) - u(y)); });
}
Status kernel_mul(kernel_io& io) {
  return binary_numeric(io, [](float x, float y) { return x * y; }, [](int64_t x, int64_t y) { return static_cast<int64_t>(u(x) * u(y)); });
}
// Integer Div truncates toward zero (C++ and ONNX Runtime agree); a zero divisor is an error, not UB.
Status kernel_div(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  if (io.input(0)->type == dtype::i64 && io.input(1)->type == dtype::i64) {
    const tensor& b = *io.input(1);
    for (int64_t i = 0; i < b.numel(); ++i)
      if (b.data_as<int64_t>()[i] == 0) return io.fail("integer division by zero");
  }
  return binary_numeric(io, [](float x, float y) { return x / y; }, [](int64_t x, int64_t y) {
    // INT64_MIN / -1 overflows: wrap to INT64_MIN like the other integer ops.
    if (y == -1) return static_cast<int64_t>(0 - u(x));
    return x / y;
  });
}
// Float exponents only (the shared models' Pow nodes square or take roots of activations).
Status kernel_pow(kernel_io& io) { return binary_float(io, [](float x, float y) { return std::pow(x, y); }); }


}  // namespace edgepack

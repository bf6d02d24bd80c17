// Cast between the dtypes kernels exchange: f32, f64, i64, i32, bool (and to/from the other
// integer widths the interpreter may hand over). Float → integer truncates toward zero like
// ONNX Runtime; NaN becomes 0 and out-of-range values saturate, so no conversion is undefined.
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime_ref/kernel.h"

namespace edgepack {

namespace {

// Reads element i of any supported dtype as double (exact for every integer below 2^53) or as
// int64 (exact for all int64): casts between integers go through int64 to stay exact.
struct element_reader {
  const tensor& t;
  bool is_float() const { return t.type == dtype::f32 || t.type == dtype::f64; }
  double as_double(int64_t i) const { return t.type == dtype::f32 ? t.data_as<float>()[i] : t.data_as<double>()[i]; }
  int64_t as_int(int64_t i) const {
    switch (t.type) {
      case dtype::i64: return t.data_as<int64_t>()[i];
      case dtype::i32: return t.data_as<int32_t>()[i];
      case dtype::i16: return t.data_as<int16_t>()[i];
      case dtype::i8: return t.data_as<int8_t>()[i];
      case dtype::u8: return t.data_as<uint8_t>()[i];
      case dtype::boolean: return t.data_as<uint8_t>()[i] != 0;
      default: return 0;
    }
  }
};

template <class T>
T saturate(double v) {
  if (v != v) return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

template <class T>
T narrow(int64_t v) {
  return static_cast<T>(std::clamp<int64_t>(v, std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max()));
}

}  // namespace

Status kernel_cast(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  const tensor& x = *io.input(0);
  const int64_t to_id = io.op.int_attr("to", -1);
  dtype to = dtype::f32;
  bool known = false;
  for (dtype candidate : {dtype::f32, dtype::f64, dtype::i64, dtype::i32, dtype::i16, dtype::i8, dtype::u8, dtype::boolean}) {
    if (dtype_onnx_id(candidate) == to_id) {
      to = candidate;
      known = true;
    }
  }
  if (!known) return io.fail("cast to ONNX type " + std::to_string(to_id) + " is not supported");
  const element_reader in{x};
  if (!in.is_float() && x.type != dtype::i64 && x.type != dtype::i32 && x.type != dtype::i16 && x.type != dtype::i8 && x.type != dtype::u8 &&
      x.type != dtype::boolean)
    return io.fail("cast from " + std::string(dtype_name(x.type)) + " is not supported");
  tensor out = tensor::allocate(to, x.shape);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const bool f = in.is_float();
    switch (to) {
      case dtype::f32: out.mutable_data_as<float>()[i] = f ? static_cast<float>(in.as_double(i)) : static_cast<float>(in.as_int(i)); break;
      case dtype::f64: out.mutable_data_as<double>()[i] = f ? in.as_double(i) : static_cast<double>(in.as_int(i)); break;
      case dtype::i64: out.mutable_data_as<int64_t>()[i] = f ? saturate<int64_t>(in.as_double(i)) : in.as_int(i); break;
      case dtype::i32: out.mutable_data_as<int32_t>()[i] = f ? saturate<int32_t>(in.as_double(i)) : narrow<int32_t>(in.as_int(i)); break;
      case dtype::i16: out.mutable_data_as<int16_t>()[i] = f ? saturate<int16_t>(in.as_double(i)) : narrow<int16_t>(in.as_int(i)); break;
      case dtype::i8: out.mutable_data_as<int8_t>()[i] = f ? saturate<int8_t>(in.as_double(i)) : narrow<int8_t>(in.as_int(i)); break;
      case dtype::u8: out.mutable_data_as<uint8_t>()[i] = f ? saturate<uint8_t>(in.as_double(i)) : narrow<uint8_t>(in.as_int(i)); break;
      default: out.mutable_data_as<uint8_t>()[i] = f ? in.as_double(i) != 0.0 : in.as_int(i) != 0; break;  // bool
    }
  }
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

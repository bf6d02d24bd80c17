// Equal (float, int64, bool → bool, broadcasting), Where (bool condition, broadcasting) and
// ConstantOfShape: the control-flow plumbing of exported graphs (silero-vad).
#include <array>
#include <cstring>
#include <variant>

#include "runtime_ref/broadcast.h"
#include "runtime_ref/kernel.h"

namespace edgepack {

namespace {

// Walks an output of shape `out` with up to three broadcast inputs; calls f(i, offsets).
template <size_t N, class F>
void broadcast_walk(const std::vector<int64_t>& out, const std::array<const std::vector<int64_t>*, N>& shapes, F f) {
  const size_t rank = out.size();
  std::array<std::vector<int64_t>, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = broadcast_strides(*shapes[k], out);
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> offset{};
  int64_t count = 1;
  for (int64_t d : out) count *= d;
  for (int64_t i = 0; i < count; ++i) {
    f(i, offset);
    for (size_t d = rank; d-- > 0;) {
      ++index[d];
      for (size_t k = 0; k < N; ++k) offset[k] += strides[k][d];
      if (index[d] < out[d]) break;
      for (size_t k = 0; k < N; ++k) offset[k] -= strides[k][d] * index[d];
      index[d] = 0;
    }
  }
}

}  // namespace

Status kernel_equal(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(2));
  const tensor& a = *io.input(0);
  const tensor& b = *io.input(1);
  if (a.type != b.type) return io.fail("inputs have different types");
  if (a.type != dtype::f32 && a.type != dtype::i64 && a.type != dtype::boolean) return io.fail("type " + std::string(dtype_name(a.type)) + " is not supported");
  auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) return io.fail("shapes " + shape_to_string(a.shape) + " and " + shape_to_string(b.shape) + " do not broadcast");
  tensor out = tensor::allocate(dtype::boolean, *shape);
  uint8_t* y = out.mutable_data_as<uint8_t>();
  broadcast_walk<2>(*shape, {&a.shape, &b.shape}, [&](int64_t i, const std::array<int64_t, 2>& o) {
    if (a.type == dtype::f32) y[i] = a.data_as<float>()[o[0]] == b.data_as<float>()[o[1]];
    else if (a.type == dtype::i64) y[i] = a.data_as<int64_t>()[o[0]] == b.data_as<int64_t>()[o[1]];
    else y[i] = (a.data_as<uint8_t>()[o[0]] != 0) == (b.data_as<uint8_t>()[o[1]] != 0);
  });
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

Status kernel_where(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(3));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::boolean));
  const tensor& c = *io.input(0);
  const tensor& a = *io.input(1);
  const tensor& b = *io.input(2);
  if (a.type != b.type) return io.fail("X and Y have different types");
  auto ab = broadcast_shape(a.shape, b.shape);
  auto shape = ab ? broadcast_shape(c.shape, *ab) : std::nullopt;
  if (!shape) return io.fail("shapes do not broadcast");
  tensor out = tensor::allocate(a.type, *shape);
  const size_t bytes = dtype_bits(a.type) / 8;
  if (bytes == 0) return io.fail("type " + std::string(dtype_name(a.type)) + " is not supported");
  auto* dst = out.mutable_data_as<char>();
  broadcast_walk<3>(*shape, {&c.shape, &a.shape, &b.shape}, [&](int64_t i, const std::array<int64_t, 3>& o) {
    const bool pick_a = c.data_as<uint8_t>()[o[0]] != 0;
    const char* src = pick_a ? reinterpret_cast<const char*>(a.data.data) + o[1] * bytes : reinterpret_cast<const char*>(b.data.data) + o[2] * bytes;
    std::memcpy(dst + i * bytes, src, bytes);
  });
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

// ConstantOfShape: the `value` attribute is read as a float (default 0); a graph loader turns
// the one-element tensor attribute into a double. Integer-typed outputs need a typed value,
// which node attributes cannot carry yet, so the output is f32.
Status kernel_constant_of_shape(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_RETURN_IF_ERROR(io.require_type(0, dtype::i64));
  const tensor& s = *io.input(0);
  if (s.shape.size() > 1) return io.fail("input must be 1-D");
  std::vector<int64_t> shape(s.data_as<int64_t>(), s.data_as<int64_t>() + s.numel());
  const auto count = checked_element_count(shape);
  if (!count || *count > (uint64_t{1} << 32)) return io.fail("shape " + shape_to_string(shape) + " is invalid or too large");
  // The reader turns an integer `value` tensor into an int64 attribute (torch exports use int64
  // ConstantOfShape in shape arithmetic); anything else, or no value, gives f32.
  const auto it = io.op.attributes.find("value");
  if (it != io.op.attributes.end() && std::holds_alternative<int64_t>(it->second)) {
    tensor out = tensor::allocate(dtype::i64, shape);
    for (uint64_t i = 0; i < *count; ++i) out.mutable_data_as<int64_t>()[i] = std::get<int64_t>(it->second);
    io.outputs[0] = std::move(out);
    return Status::ok_status();
  }
  tensor out = tensor::allocate(dtype::f32, shape);
  const float value = static_cast<float>(io.op.float_attr("value", 0.0));
  for (uint64_t i = 0; i < *count; ++i) out.mutable_data_as<float>()[i] = value;
  io.outputs[0] = std::move(out);
  return Status::ok_status();
}

}  // namespace edgepack

// LSTM (ONNX gate order i, o, f, c): forward, reverse or bidirectional; layout 0
// ([seq, batch, ...]); optional B, initial_h, initial_c, P (peepholes); outputs Y, Y_h, Y_c.
// Default activations (Sigmoid, Tanh, Tanh) only; clip, input_forget and ragged sequence_lens are
// rejected. The input projection of all steps is one Eigen GEMM; the recurrence runs step by step.
#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

static float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// Checks that input `index`, when present, has exactly `shape`.
static Status expect_shape(const kernel_io& io, size_t index, const char* name, const std::vector<int64_t>& shape) {
  const tensor* t = io.input(index);
  if (t == nullptr) return Status::ok_status();
  EP_RETURN_IF_ERROR(io.require_type(index, dtype::f32));
  if (t->shape != shape) return io.fail(std::string(name) + " " + shape_to_string(t->shape) + " must be " + shape_to_string(shape));
  return Status::ok_status();
}

Status kernel_lstm(kernel_io& io) {
  EP_RETURN_IF_ERROR(io.require_inputs(3));
  for (size_t i = 0; i < 3; ++i) EP_RETURN_IF_ERROR(io.require_type(i, dtype::f32));
  const tensor& x = *io.input(0);
  const tensor& w = *io.input(1);
  const tensor& r = *io.input(2);
  if (io.op.int_attr("layout", 0) != 0) return io.fail("layout 1 is not supported");
  if (io.op.int_attr("input_forget", 0) != 0) return io.fail("input_forget is not supported");
  if (io.op.attributes.count("clip")) return io.fail("clip is not supported");
  if (io.op.attributes.count("activations")) return io.fail("custom activations are not supported");
  const std::string direction = string_attr(io.op, "direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional") return io.fail("direction '" + direction + "' is not valid");
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  if (x.shape.size() != 3) return io.fail("X must be [seq, batch, input], got " + shape_to_string(x.shape));
  const int64_t seq = x.shape[0], batch = x.shape[1], in = x.shape[2];
  const int64_t hidden = io.op.int_attr("hidden_size", w.shape.size() == 3 ? w.shape[1] / 4 : 0);
  if (hidden < 1 || hidden > (int64_t{1} << 20)) return io.fail("hidden_size " + std::to_string(hidden) + " is out of range");
  if (w.shape != std::vector<int64_t>{dirs, 4 * hidden, in}) return io.fail("W " + shape_to_string(w.shape) + " must be " + shape_to_string(std::vector<int64_t>{dirs, 4 * hidden, in}));
  if (r.shape != std::vector<int64_t>{dirs, 4 * hidden, hidden}) return io.fail("R " + shape_to_string(r.shape) + " must be " + shape_to_string(std::vector<int64_t>{dirs, 4 * hidden, hidden}));
  EP_RETURN_IF_ERROR(expect_shape(io, 3, "B", {dirs, 8 * hidden}));
  EP_RETURN_IF_ERROR(expect_shape(io, 5, "initial_h", {dirs, batch, hidden}));
  EP_RETURN_IF_ERROR(expect_shape(io, 6, "initial_c", {dirs, batch, hidden}));
  EP_RETURN_IF_ERROR(expect_shape(io, 7, "P", {dirs, 3 * hidden}));
  if (const tensor* lens = io.input(4)) {
    // Only the all-full-length case (what exporters emit) is supported: ragged batches would need
    // per-row masking.
    if (lens->type != dtype::i32 && lens->type != dtype::i64) return io.fail("sequence_lens must be int32 or int64");
    if (lens->numel() != batch) return io.fail("sequence_lens must have one value per batch row");
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t v = lens->type == dtype::i64 ? lens->data_as<int64_t>()[b] : lens->data_as<int32_t>()[b];
      if (v != seq) return io.fail("sequence_lens other than the full length are not supported");
    }
  }
  const std::vector<int64_t> y_shape{seq, dirs, batch, hidden};
  const auto y_count = checked_element_count(y_shape);
  const auto gate_count = checked_element_count(std::vector<int64_t>{seq, batch, 4 * hidden});
  if (!y_count || !gate_count || *y_count > max_kernel_elements || *gate_count > max_kernel_elements) return io.fail("sequence is too large");

  tensor y = tensor::allocate(dtype::f32, y_shape);
  tensor y_h = tensor::allocate(dtype::f32, {dirs, batch, hidden});
  tensor y_c = tensor::allocate(dtype::f32, {dirs, batch, hidden});
  Eigen::Map<const row_major> xs(x.data_as<float>(), seq * batch, in);
  for (int64_t d = 0; d < dirs; ++d) {
    Eigen::Map<const row_major> wd(w.data_as<float>() + d * 4 * hidden * in, 4 * hidden, in);
    Eigen::Map<const row_major> rd(r.data_as<float>() + d * 4 * hidden * hidden, 4 * hidden, hidden);
    row_major gates_x = xs * wd.transpose();  // [seq·batch, 4h]: input projection of every step
    if (const tensor* bias = io.input(3)) {
      const float* bd = bias->data_as<float>() + d * 8 * hidden;
      for (int64_t g = 0; g < 4 * hidden; ++g) gates_x.col(g).array() += bd[g] + bd[4 * hidden + g];
    }
    row_major h(batch, hidden), c(batch, hidden);
    h.setZero();
    c.setZero();
    if (const tensor* h0 = io.input(5)) h = Eigen::Map<const row_major>(h0->data_as<float>() + d * batch * hidden, batch, hidden);
    if (const tensor* c0 = io.input(6)) c = Eigen::Map<const row_major>(c0->data_as<float>() + d * batch * hidden, batch, hidden);
    const float* peep = io.input(7) ? io.input(7)->data_as<float>() + d * 3 * hidden : nullptr;
    const bool reverse = direction == "reverse" || d == 1;
    row_major gates(batch, 4 * hidden);
    for (int64_t step = 0; step < seq; ++step) {
      const int64_t t = reverse ? seq - 1 - step : step;
      gates.noalias() = h * rd.transpose();
      gates += gates_x.middleRows(t * batch, batch);
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t k = 0; k < hidden; ++k) {
          const float c_prev = c(b, k);
          const float gi = sigmoid(gates(b, k) + (peep ? peep[k] * c_prev : 0.0f));
          const float gf = sigmoid(gates(b, 2 * hidden + k) + (peep ? peep[2 * hidden + k] * c_prev : 0.0f));
          const float gc = std::tanh(gates(b, 3 * hidden + k));
          const float c_new = gf * c_prev + gi * gc;
          const float go = sigmoid(gates(b, hidden + k) + (peep ? peep[hidden + k] * c_new : 0.0f));
          c(b, k) = c_new;
          h(b, k) = go * std::tanh(c_new);
        }
      }
      float* yt = y.mutable_data_as<float>() + ((t * dirs + d) * batch) * hidden;
      std::copy(h.data(), h.data() + batch * hidden, yt);
    }
    std::copy(h.data(), h.data() + batch * hidden, y_h.mutable_data_as<float>() + d * batch * hidden);
    std::copy(c.data(), c.data() + batch * hidden, y_c.mutable_data_as<float>() + d * batch * hidden);
  }
  if (io.outputs.size() > 0) io.outputs[0] = std::move(y);
  if (io.outputs.size() > 1) io.outputs[1] = std::move(y_h);
  if (io.outputs.size() > 2) io.outputs[2] = std::move(y_c);
  return Status::ok_status();
}

}  // namespace edgepack

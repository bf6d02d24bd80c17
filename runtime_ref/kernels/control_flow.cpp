// If and Loop: the kernels decide which subgraph runs and how often; the interpreter runs the
// bodies (kernel_io::run_subgraph) with the node's outer scope visible.
#include <cstring>
#include <limits>

#include "runtime_ref/kernel.h"

namespace edgepack {
namespace {

// A one-element condition of any dense type: nonzero is true. Float types are compared by value
// so -0.0 is false; integer and bool types by their bytes.
Expected<bool> truth_of(const kernel_io& io, const tensor& t, const std::string& what) {
  if (t.is_quantized()) return io.fail(what + " must be a dense tensor");
  if (t.numel() != 1) return io.fail(what + " must hold exactly one element, it has shape " + shape_to_string(t.shape));
  if (dtype_is_float(t.type)) {
    auto values = to_float_vector(t);
    if (!values.ok()) return io.fail(what + ": " + values.status().message());
    return (*values)[0] != 0.0f;
  }
  for (size_t b = 0; b < t.data.size; ++b)
    if (t.data.data[b] != std::byte{0}) return true;
  return false;
}

Status require_runner(const kernel_io& io) {
  if (io.run_subgraph == nullptr) return io.fail("control flow needs the interpreter to run its subgraphs");
  return Status::ok_status();
}

tensor bool_scalar(bool value) {
  tensor t = tensor::allocate(dtype::boolean, {});
  t.mutable_data_as<uint8_t>()[0] = value ? 1 : 0;
  return t;
}

// Scan outputs: the per-iteration values stacked along a new axis 0.
Expected<tensor> stack(const kernel_io& io, const std::vector<tensor>& items, const value_info& declared, size_t index) {
  if (items.empty()) {
    // No iteration ran: [0, declared dims...] when the body declares a fixed shape, else [0].
    std::vector<int64_t> shape{0};
    bool fixed = !declared.shape.empty();
    for (const auto& d : declared.shape) fixed = fixed && d.value >= 0;
    if (fixed)
      for (const auto& d : declared.shape) shape.push_back(d.value);
    return tensor::allocate(declared.type, shape);
  }
  const tensor& first = items[0];
  std::vector<int64_t> shape{static_cast<int64_t>(items.size())};
  shape.insert(shape.end(), first.shape.begin(), first.shape.end());
  if (!checked_element_count(shape)) return io.fail("scan output " + std::to_string(index) + " is too large");
  tensor out = tensor::allocate(first.type, shape);
  std::byte* dst = out.mutable_data_as<std::byte>();
  for (size_t i = 0; i < items.size(); ++i) {
    const tensor& t = items[i];
    if (t.type != first.type || t.shape != first.shape || t.is_quantized())
      return io.fail("scan output " + std::to_string(index) + " changes from " + std::string(dtype_name(first.type)) + " " +
                     shape_to_string(first.shape) + " to " + std::string(dtype_name(t.type)) + " " + shape_to_string(t.shape) +
                     " in iteration " + std::to_string(i));
    if (t.data.size > 0) std::memcpy(dst + i * first.data.size, t.data.data, t.data.size);
  }
  return out;
}

}  // namespace

Status kernel_if(kernel_io& io) {
  EP_RETURN_IF_ERROR(require_runner(io));
  EP_RETURN_IF_ERROR(io.require_inputs(1));
  EP_ASSIGN_OR_RETURN(bool cond, truth_of(io, *io.input(0), "the condition"));
  const std::string branch = cond ? "then_branch" : "else_branch";
  EP_ASSIGN_OR_RETURN(std::vector<tensor> results, (*io.run_subgraph)(branch, {}));
  if (results.size() != io.outputs.size())
    return io.fail(branch + " produced " + std::to_string(results.size()) + " outputs, the node has " + std::to_string(io.outputs.size()));
  for (size_t o = 0; o < results.size(); ++o) io.outputs[o] = std::move(results[o]);
  return Status::ok_status();
}

// Loop (opset 11+): for (i = 0; i < M && cond; ++i) { cond, carried..., scans... = body(i, cond, carried...) }
Status kernel_loop(kernel_io& io) {
  EP_RETURN_IF_ERROR(require_runner(io));
  const graph* body = io.op.graph_attr("body");
  if (body == nullptr) return io.fail("has no subgraph attribute 'body'");
  const tensor* trip_input = io.input(0);
  const tensor* cond_input = io.input(1);
  if (trip_input == nullptr && cond_input == nullptr) return io.fail("has neither a trip count M nor a condition, so it would never stop");
  int64_t trip_count = std::numeric_limits<int64_t>::max();
  if (trip_input != nullptr) {
    if (trip_input->type != dtype::i64 || trip_input->numel() != 1 || trip_input->is_quantized())
      return io.fail("trip count M must be one int64 element, it is " + std::string(dtype_name(trip_input->type)) + " " +
                     shape_to_string(trip_input->shape));
    trip_count = trip_input->data_as<int64_t>()[0];
  }
  bool keep_going = true;
  if (cond_input != nullptr) {
    EP_ASSIGN_OR_RETURN(keep_going, truth_of(io, *cond_input, "the condition"));
  }
  const size_t carried_count = io.inputs.size() < 2 ? 0 : io.inputs.size() - 2;
  if (io.outputs.size() < carried_count) return io.fail("has fewer outputs than loop-carried values");
  const size_t scan_count = io.outputs.size() - carried_count;
  if (body->outputs.size() != 1 + carried_count + scan_count)
    return io.fail("body has " + std::to_string(body->outputs.size()) + " outputs, expected " + std::to_string(1 + carried_count + scan_count));
  std::vector<tensor> carried;
  for (size_t j = 0; j < carried_count; ++j) {
    if (io.input(2 + j) == nullptr) return io.fail("loop-carried input " + std::to_string(j) + " is missing");
    carried.push_back(*io.input(2 + j));
  }
  std::vector<std::vector<tensor>> scans(scan_count);
  for (int64_t iteration = 0; iteration < trip_count && keep_going; ++iteration) {
    const tensor iteration_number = tensor::from_values<int64_t>(dtype::i64, {}, std::vector<int64_t>{iteration});
    const tensor cond_in = bool_scalar(keep_going);
    std::vector<const tensor*> args{&iteration_number, &cond_in};
    for (const auto& t : carried) args.push_back(&t);
    EP_ASSIGN_OR_RETURN(std::vector<tensor> results, (*io.run_subgraph)("body", args));
    if (results.size() != 1 + carried_count + scan_count)
      return io.fail("body produced " + std::to_string(results.size()) + " outputs, expected " + std::to_string(1 + carried_count + scan_count));
    EP_ASSIGN_OR_RETURN(keep_going, truth_of(io, results[0], "the body's condition output"));
    for (size_t j = 0; j < carried_count; ++j) carried[j] = std::move(results[1 + j]);
    for (size_t k = 0; k < scan_count; ++k) scans[k].push_back(std::move(results[1 + carried_count + k]));
  }
  for (size_t j = 0; j < carried_count; ++j) io.outputs[j] = std::move(carried[j]);
  for (size_t k = 0; k < scan_count; ++k) {
    EP_ASSIGN_OR_RETURN(io.outputs[carried_count + k], stack(io, scans[k], body->outputs[1 + carried_count + k], k));
  }
  return Status::ok_status();
}

}  // namespace edgepack

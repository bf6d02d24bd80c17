// Randomised hostile inputs for the spatial and data-movement kernels: random small shapes and
// attribute values, many of them invalid. Each run must end in ok or a bad_input status — never a
// crash, and under the sanitizer build never an out-of-bounds access.
#include <random>

#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack::testing {
namespace {

struct random_source {
  std::mt19937 rng{1234};
  int64_t in(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }
  std::vector<int64_t> ints(size_t n, int64_t lo, int64_t hi) {
    std::vector<int64_t> v(n);
    for (auto& e : v) e = in(lo, hi);
    return v;
  }
  tensor floats(std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(n);
    for (auto& e : v) e = static_cast<float>(in(-4, 4));
    return f32(std::move(shape), v);
  }
};

void expect_ok_or_bad_input(const op_run& r, const std::string& op) {
  EXPECT_TRUE(r.status.ok() || r.status.code() == error_code::bad_input) << op << ": " << r.status.message();
  if (r.status.ok()) {
    int64_t n = 1;
    for (int64_t d : r.outputs[0].shape) n *= d;
    EXPECT_EQ(n, r.outputs[0].numel()) << op;
  }
}

TEST(HostileKernelInputs, SpatialOpsNeverCrash) {
  random_source s;
  const std::vector<std::string> ops = {"Conv", "ConvTranspose", "MaxPool", "AveragePool"};
  for (int trial = 0; trial < 600; ++trial) {
    const std::string op = ops[trial % ops.size()];
    const size_t spatial = static_cast<size_t>(s.in(1, 2));
    std::vector<int64_t> xs{s.in(1, 2), s.in(1, 4)};
    for (size_t d = 0; d < spatial; ++d) xs.push_back(s.in(0, 6));
    const tensor x = s.floats(xs);
    std::vector<int64_t> ws{s.in(1, 4), s.in(1, 4)};
    for (size_t d = 0; d < spatial; ++d) ws.push_back(s.in(1, 4));
    const tensor w = s.floats(ws);
    const tensor b = s.floats({s.in(1, 4)});
    const size_t attr_rank = s.in(0, 4) == 0 ? spatial + 1 : spatial;  // sometimes the wrong length
    std::map<std::string, attribute_value> attrs{{"strides", s.ints(attr_rank, -1, 3)},
                                                 {"dilations", s.ints(attr_rank, 0, 3)},
                                                 {"pads", s.ints(2 * attr_rank, -1, 3)},
                                                 {"group", s.in(0, 3)},
                                                 {"ceil_mode", s.in(0, 1)},
                                                 {"count_include_pad", s.in(0, 1)}};
    const char* pads[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    if (s.in(0, 2) == 0) attrs["auto_pad"] = std::string(pads[s.in(0, 3)]);
    if (op == "MaxPool" || op == "AveragePool") attrs["kernel_shape"] = s.ints(attr_rank, 0, 4);
    const bool with_weights = op == "Conv" || op == "ConvTranspose";
    auto r = with_weights ? run_op(op, {&x, &w, s.in(0, 1) ? &b : nullptr}, attrs) : run_op(op, {&x}, attrs);
    expect_ok_or_bad_input(r, op);
  }
}

TEST(HostileKernelInputs, DataMovementOpsNeverCrash) {
  random_source s;
  for (int trial = 0; trial < 600; ++trial) {
    const tensor x = s.floats(s.ints(static_cast<size_t>(s.in(1, 4)), 0, 4));
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    const tensor starts = i64({2}, s.ints(2, -6, 6)), ends = i64({2}, s.ints(2, -6, 6));
    const tensor axes = i64({2}, s.ints(2, -rank - 1, rank)), steps = i64({2}, s.ints(2, -3, 3));
    expect_ok_or_bad_input(run_op("Slice", {&x, &starts, &ends, &axes, &steps}, {}), "Slice");
    const tensor pads = i64({2 * rank}, s.ints(2 * rank, -3, 4));
    const char* modes[] = {"constant", "reflect", "edge"};
    expect_ok_or_bad_input(run_op("Pad", {&x, &pads}, {{"mode", std::string(modes[s.in(0, 2)])}}), "Pad");
    expect_ok_or_bad_input(run_op("Transpose", {&x}, {{"perm", s.ints(static_cast<size_t>(rank), -1, rank)}}), "Transpose");
    const tensor ax1 = i64({1}, {s.in(-rank - 1, rank)});
    expect_ok_or_bad_input(run_op("Squeeze", {&x, &ax1}, {}), "Squeeze");
    expect_ok_or_bad_input(run_op("Unsqueeze", {&x, &ax1}, {}), "Unsqueeze");
    expect_ok_or_bad_input(run_op("ReduceMean", {&x, &ax1}, {{"keepdims", s.in(0, 1)}}), "ReduceMean");
    expect_ok_or_bad_input(run_op("Softmax", {&x}, {{"axis", s.in(-rank - 1, rank)}}), "Softmax");
    expect_ok_or_bad_input(run_op("Flatten", {&x}, {{"axis", s.in(-rank - 1, rank + 1)}}), "Flatten");
    const tensor y = s.floats(s.ints(static_cast<size_t>(rank), 0, 3));
    expect_ok_or_bad_input(run_op("Concat", {&x, &y}, {{"axis", s.in(-rank, rank - 1)}}), "Concat");
    const tensor scales = f32({rank}, std::vector<float>(rank, static_cast<float>(s.in(0, 3)) / 2.0f));
    const char* resize_modes[] = {"nearest", "linear"};
    expect_ok_or_bad_input(run_op("Resize", {&x, nullptr, &scales}, {{"mode", std::string(resize_modes[s.in(0, 1)])}}), "Resize");
  }
}

}  // namespace
}  // namespace edgepack::testing

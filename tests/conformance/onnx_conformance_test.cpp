// ONNX's own backend conformance suite (Debian libonnx-testdata, ONNX 1.12, opsets <= 17) run
// through the ONNX reader and runtime_ref. Every case must either match its expected outputs
// within ONNX's own tolerance (numpy assert_allclose with rtol 1e-3, atol 1e-7, as onnx's
// backend test runner uses) or be refused as unsupported input (bad_input: the CLI's exit 3).
// A wrong number or any other error fails the case; a crash fails the binary.
//
// One gtest per case directory, e.g. OnnxConformance/node_test_add. The suite summary (passed /
// refused) is printed at the end and recorded in docs/benchmarks.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "formats/onnx_reader.h"
#include "formats/onnx_tensor.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {
namespace {

namespace fs = std::filesystem;

fs::path suite_root() {
  const char* env = std::getenv("EDGEPACK_ONNX_TESTDATA");
  return env != nullptr ? fs::path(env) : fs::path("/usr/share/libonnx-testdata/data");
}

// Case directories: every folder holding a model.onnx, named "<collection>_<case>".
std::vector<std::string> case_dirs() {
  std::vector<std::string> out;
  const fs::path root = suite_root();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (entry.path().filename() == "model.onnx") out.push_back(fs::relative(entry.path().parent_path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string test_name(const std::string& dir) {
  std::string name = dir;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

Expected<tensor> read_tensor_pb(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes.str())) return bad_input(path.string() + ": not a TensorProto");
  onnx_external_files files;
  return decode_onnx_tensor(proto, path.string(), files);
}

// Elements as doubles for comparison; nullopt for element types the comparison does not know.
std::optional<std::vector<double>> as_doubles(const tensor& t) {
  const auto n = static_cast<size_t>(t.numel());
  std::vector<double> out(n);
  const std::byte* p = t.data.data;
  auto load = [&](auto type_tag) {
    using T = decltype(type_tag);
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, p + i * sizeof(T), sizeof(T));
      out[i] = static_cast<double>(v);
    }
  };
  switch (t.type) {
    case dtype::f64: load(double{}); break;
    case dtype::i64: load(int64_t{}); break;
    case dtype::i32: load(int32_t{}); break;
    case dtype::u32: load(uint32_t{}); break;
    case dtype::i16: load(int16_t{}); break;
    case dtype::u16: load(uint16_t{}); break;
    case dtype::i8: load(int8_t{}); break;
    case dtype::u8:
    case dtype::boolean: load(uint8_t{}); break;
    case dtype::u64: load(uint64_t{}); break;
    default: {
      auto floats = to_float_vector(t);
      if (!floats.ok()) return std::nullopt;
      for (size_t i = 0; i < n; ++i) out[i] = (*floats)[i];
    }
  }
  return out;
}

struct suite_counts {
  int passed = 0;
  int refused = 0;
  std::vector<std::string> refused_reasons;
};
suite_counts& counts() {
  static suite_counts c;
  return c;
}

void refuse(const std::string& dir, const Status& status) {
  ASSERT_EQ(status.code(), error_code::bad_input) << dir << ": refusal must be bad input, got: " << status.message();
  ASSERT_FALSE(status.message().empty());
  ++counts().refused;
  counts().refused_reasons.push_back(dir + ": " + status.message().substr(0, 160));
}

class OnnxConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxConformance, MatchesOrIsRefused) {
  const fs::path dir = suite_root() / GetParam();
  auto loaded = read_onnx((dir / "model.onnx").string());
  if (!loaded.ok()) return refuse(GetParam(), loaded.status());
  auto session = interpreter::create(loaded->g);
  if (!session.ok()) return refuse(GetParam(), session.status());
  const graph& g = loaded->g;
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  ASSERT_FALSE(sets.empty()) << "no test_data_set_* in " << dir;
  for (const auto& set : sets) {
    SCOPED_TRACE(set.string());
    tensor_map inputs;
    for (size_t k = 0; k < g.inputs.size(); ++k) {
      const fs::path file = set / ("input_" + std::to_string(k) + ".pb");
      if (!fs::exists(file)) continue;  // an omitted optional input
      auto t = read_tensor_pb(file);
      if (!t.ok()) return refuse(GetParam(), t.status());
      inputs[g.inputs[k].name] = std::move(t).value();
    }
    auto outputs = session->run(inputs);
    if (!outputs.ok()) return refuse(GetParam(), outputs.status());
    for (size_t k = 0; k < g.outputs.size(); ++k) {
      const fs::path file = set / ("output_" + std::to_string(k) + ".pb");
      if (!fs::exists(file)) continue;
      auto expected = read_tensor_pb(file);
      if (!expected.ok()) return refuse(GetParam(), expected.status());
      const tensor& actual = outputs->at(g.outputs[k].name);
      SCOPED_TRACE("output " + g.outputs[k].name);
      ASSERT_EQ(actual.shape, expected->shape);
      const auto a = as_doubles(actual);
      const auto e = as_doubles(*expected);
      ASSERT_TRUE(a && e) << "uncomparable types " << dtype_name(actual.type) << " / " << dtype_name(expected->type);
      for (size_t i = 0; i < e->size(); ++i) {
        const double want = (*e)[i], got = (*a)[i];
        if (std::isnan(want) && std::isnan(got)) continue;
        if (std::isinf(want) && got == want) continue;
        ASSERT_LE(std::abs(got - want), 1e-7 + 1e-3 * std::abs(want)) << "element " << i << ": got " << got << ", expected " << want;
      }
    }
  }
  ++counts().passed;
}

INSTANTIATE_TEST_SUITE_P(Suite, OnnxConformance, ::testing::ValuesIn(case_dirs()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return test_name(info.param); });

// Prints the tally after all cases; EDGEPACK_CONFORMANCE_REASONS=1 also lists every refusal.
class summary_printer : public ::testing::Environment {
 public:
  void TearDown() override {
    if (counts().passed + counts().refused == 0) return;
    std::cout << "ONNX conformance: " << counts().passed << " cases match, " << counts().refused << " refused as unsupported\n";
    if (std::getenv("EDGEPACK_CONFORMANCE_REASONS") != nullptr)
      for (const auto& r : counts().refused_reasons) std::cout << "  refused " << r << "\n";
  }
};
const auto* const summary = ::testing::AddGlobalTestEnvironment(new summary_printer);

TEST(OnnxConformanceSuite, IsInstalled) {
  ASSERT_FALSE(case_dirs().empty()) << "ONNX conformance data not found at " << suite_root()
                                    << " (apt-get install libonnx-testdata, or set EDGEPACK_ONNX_TESTDATA)";
}

}  // namespace
}  // namespace edgepack

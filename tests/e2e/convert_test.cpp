// edgepack convert: a model written unchanged as .epk. The float leg of the ONNX -> .epk -> ONNX
// round trip: the .epk and the ONNX exported from it run to the same bytes as the original .onnx
// (tests/e2e/export_ort_test.cpp checks exported float models in ONNX Runtime).
#include <filesystem>

#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::read_file;
using testing::run_cli;
using testing::temp_dir;

TEST(Convert, OnnxToEpkRunsIdenticallyAndExportsTheSameOnnx) {
  temp_dir dir;
  const auto model = testing::datasets_dir() / "mnist-8" / "mnist-8.onnx";
  const auto input = testing::datasets_dir() / "mnist-8" / "golden" / "digit_7" / "input_0.npy";
  ASSERT_TRUE(std::filesystem::exists(input)) << input;
  const auto epk = dir / "mnist.epk";
  auto converted = run_cli({"convert", model.string(), "-o", epk.string(), "--json"});
  ASSERT_EQ(converted.exit_code, 0) << converted.err;
  EXPECT_NE(converted.out.find("\"format_in\": \"onnx\""), std::string::npos) << converted.out;
  std::filesystem::create_directory(dir / "from_onnx");
  std::filesystem::create_directory(dir / "from_epk");
  ASSERT_EQ(run_cli({"run", model.string(), "--input", "Input3=" + input.string(), "-o", (dir / "from_onnx").string()}).exit_code, 0);
  ASSERT_EQ(run_cli({"run", epk.string(), "--input", "Input3=" + input.string(), "-o", (dir / "from_epk").string()}).exit_code, 0);
  EXPECT_EQ(read_file(dir / "from_onnx" / "Plus214_Output_0.npy"), read_file(dir / "from_epk" / "Plus214_Output_0.npy"));
  // Back to ONNX (graph name and producer differ from the original file; the graph does not).
  ASSERT_EQ(run_cli({"export", epk.string(), "-o", (dir / "back.onnx").string()}).exit_code, 0);
  std::filesystem::create_directory(dir / "from_back");
  ASSERT_EQ(run_cli({"run", (dir / "back.onnx").string(), "--input", "Input3=" + input.string(), "-o", (dir / "from_back").string()}).exit_code, 0);
  EXPECT_EQ(read_file(dir / "from_onnx" / "Plus214_Output_0.npy"), read_file(dir / "from_back" / "Plus214_Output_0.npy"));
}

TEST(Convert, BareTensorFileIsRefusedAndNothingIsWritten) {
  temp_dir dir;
  const auto out = dir / "x.epk";
  testing::write_file(dir / "t.safetensors", std::string("\x08\x00\x00\x00\x00\x00\x00\x00{}      ", 16));
  auto result = run_cli({"convert", (dir / "t.safetensors").string(), "-o", out.string()});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("holds no graph"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Convert, MissingOutputDirectoryIsIoFailure) {
  temp_dir dir;
  auto result = run_cli({"convert", (testing::datasets_dir() / "mnist-8" / "mnist-8.onnx").string(), "-o", (dir / "no" / "x.epk").string()});
  EXPECT_EQ(result.exit_code, 4) << result.err;
}

}  // namespace
}  // namespace edgepack

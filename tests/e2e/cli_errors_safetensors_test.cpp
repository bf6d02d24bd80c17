// Corrupt safetensors files through the real CLI: exit 3, the file and the problem named, nothing
// written. The base file is the bundled model's weights written by formats/safetensors.h; each
// test breaks one thing in its header or size.
#include <functional>

#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

using nlohmann::json;

// Tensors in the base file, in data order (the writer sorts by name).
const std::string first_tensor = "model.embed_tokens.weight";              // [512, 64] at [0, 131072)
const std::string second_tensor = "model.layers.0.input_layernorm.weight";  // [64] right after it
const std::string last_tensor = "model.norm.weight";

class CliSafetensors : public ::testing::Test {
 protected:
  void SetUp() override { base_ = bundled_weights_as_safetensors(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto path = (dir_ / name).string();
    write_file(path, bytes);
    return path;
  }
  // The base file with its header edited.
  std::string with_header(const std::string& name, const std::function<void(json&)>& edit) {
    safetensors_parts parts = split_safetensors(base_);
    edit(parts.header);
    return write(name, join_safetensors(parts.header, parts.data));
  }
  temp_dir dir_;
  std::string base_;
};

TEST_F(CliSafetensors, UnmodifiedFileIsReadable) {
  const std::string path = write("ok.safetensors", base_);
  const auto r = run_cli({"-q", "inspect", "--json", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["format"], "safetensors");
}

TEST_F(CliSafetensors, TruncatedData) {
  const std::string path = write("truncated.safetensors", base_.substr(0, base_.size() / 2));
  expect_quantize_rejects(path, {3, path, "is beyond the data section"});
}

TEST_F(CliSafetensors, TruncatedInsideHeader) {
  const std::string path = write("truncated_header.safetensors", base_.substr(0, 100));
  expect_quantize_rejects(path, {3, path, "runs beyond the end of the file (100 bytes)"});
}

TEST_F(CliSafetensors, HeaderLengthBeyondFile) {
  std::string bytes = base_;
  put_le(bytes, 0, bytes.size(), 8);
  const std::string path = write("header_len.safetensors", bytes);
  expect_quantize_rejects(path, {3, path, "runs beyond the end of the file"});
}

TEST_F(CliSafetensors, HeaderLengthAboveCap) {
  // Checked before anything is allocated: a header length is not a licence to read 200 MiB.
  std::string bytes = base_;
  put_le(bytes, 0, uint64_t{200} << 20, 8);
  const std::string path = write("header_cap.safetensors", bytes);
  expect_quantize_rejects(path, {3, path, "exceeds the cap of 104857600 bytes"});
}

TEST_F(CliSafetensors, HeaderNotJson) {
  const std::string text = "{\"model.norm.weight\": nope}";
  std::string bytes(8, '\0');
  put_le(bytes, 0, text.size(), 8);
  const std::string path = write("not_json.safetensors", bytes + text + split_safetensors(base_).data);
  expect_quantize_rejects(path, {3, path, "header: not valid JSON"});
}

TEST_F(CliSafetensors, OffsetsOutOfRange) {
  const std::string path = with_header("out_of_range.safetensors", [](json& h) {
    auto& offsets = h[last_tensor]["data_offsets"];
    offsets = {offsets[0].get<uint64_t>() + 1000, offsets[1].get<uint64_t>() + 1000};
  });
  expect_quantize_rejects(path, {3, path, "tensor '" + last_tensor + "': data_offsets end"});
}

TEST_F(CliSafetensors, OffsetAboveInt64) {
  const std::string path = with_header("offset_huge.safetensors", [](json& h) {
    h[last_tensor]["data_offsets"] = {uint64_t{0}, uint64_t{18446744073709551615u}};
  });
  expect_quantize_rejects(path, {3, path, "'data_offsets' must hold non-negative integers"});
}

TEST_F(CliSafetensors, OverlappingOffsets) {
  // Same length, moved 4 bytes back into the first tensor's bytes.
  const std::string path = with_header("overlap.safetensors", [](json& h) {
    auto& offsets = h[second_tensor]["data_offsets"];
    offsets = {offsets[0].get<uint64_t>() - 4, offsets[1].get<uint64_t>() - 4};
  });
  expect_quantize_rejects(path, {3, path, "tensor '" + second_tensor + "': bytes [131068, 131324) overlap tensor '" + first_tensor + "'"});
}

TEST_F(CliSafetensors, ShapeTimesDtypeIsNotByteLength) {
  const std::string path = with_header("shape.safetensors", [](json& h) { h[second_tensor]["shape"] = {65}; });
  expect_quantize_rejects(path, {3, path, "byte size 256 from data_offsets does not match 260 bytes for F32 [65]"});
}

TEST_F(CliSafetensors, ShapeElementCountOverflowsInt64) {
  const std::string path = with_header("shape_overflow.safetensors", [](json& h) {
    h[second_tensor]["shape"] = {int64_t{1} << 40, int64_t{1} << 40};
  });
  expect_quantize_rejects(path, {3, path, "element count of shape [1099511627776, 1099511627776] overflows"});
}

TEST_F(CliSafetensors, ShapeDimensionAboveInt64) {
  const std::string path = with_header("dim_huge.safetensors", [](json& h) { h[second_tensor]["shape"] = {uint64_t{1} << 63}; });
  expect_quantize_rejects(path, {3, path, "shape dimension must be a non-negative integer"});
}

TEST_F(CliSafetensors, UnsupportedDtype) {
  const std::string path = with_header("dtype.safetensors", [](json& h) { h[second_tensor]["dtype"] = "F8_E4M3"; });
  expect_quantize_rejects(path, {3, path, "tensor '" + second_tensor + "': unknown dtype 'F8_E4M3'"});
}

TEST_F(CliSafetensors, MissingDataOffsets) {
  const std::string path = with_header("no_offsets.safetensors", [](json& h) { h[second_tensor].erase("data_offsets"); });
  expect_quantize_rejects(path, {3, path, "missing 'data_offsets'"});
}

}  // namespace
}  // namespace edgepack::testing

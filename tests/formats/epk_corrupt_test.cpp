// Hostile .epk files: each test breaks one thing and expects bad_input with a message that names
// the problem (and the tensor, where there is one). Files are re-assembled with valid checksums
// (join_epk) unless the checksum itself is the target, so each test reaches its own check.
#include "formats/epk.h"
#include "tests/formats/epk_test_model.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::epk_image;
using testing::join_epk;
using testing::split_epk;
using testing::tensor_index;

class EpkCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_ / "m.epk").string();
    ASSERT_TRUE(write_epk(path_, testing::make_full_model(), {}).ok());
    good_ = testing::read_file(path_);
  }
  // Reads `bytes` as a file and expects bad_input whose message contains `phrase`.
  void expect_rejected(const std::string& bytes, const std::string& phrase, epk_read_options options = {}) {
    const std::string path = (dir_ / "bad.epk").string();
    testing::write_file(path, bytes);
    auto result = read_epk(path, options);
    ASSERT_FALSE(result.ok()) << "accepted a file that should fail with: " << phrase;
    EXPECT_EQ(result.status().code(), error_code::bad_input);
    EXPECT_EQ(result.status().message().rfind(path + ": ", 0), 0u) << "message must start with the path: "
                                                                  << result.status().message();
    EXPECT_NE(result.status().message().find(phrase), std::string::npos) << result.status().message();
  }
  size_t blob_offset(const std::string& tensor, const char* part) {
    const epk_image image = split_epk(good_);
    const auto& entry = image.metadata["tensors"][tensor_index(image.metadata, tensor)];
    return image.header.data_offset + entry[part]["offset"].get<size_t>();
  }

  testing::temp_dir dir_;
  std::string path_;
  std::string good_;
};

TEST_F(EpkCorrupt, BadMagic) {
  std::string bytes = good_;
  bytes[1] = 'X';
  expect_rejected(bytes, "not an .epk file (bad magic)");
  expect_rejected("PK\x03\x04 a zip file", "not an .epk file (bad magic)");
}

TEST_F(EpkCorrupt, NewerMajorVersion) {
  epk_image image = split_epk(good_);
  image.header.major = 2;
  expect_rejected(join_epk(image), "file is .epk version 2.0; this edgepack reads version 1.x — upgrade edgepack");
}

TEST_F(EpkCorrupt, NewerMinorVersionWithUnknownFieldsIsAccepted) {
  epk_image image = split_epk(good_);
  image.header.minor = 7;
  image.metadata["format_version"] = "1.7";
  image.metadata["added_in_1_7"] = {{"anything", true}};
  image.metadata["tensors"][0]["future_field"] = 3;
  testing::write_file(dir_ / "newer.epk", join_epk(image));
  auto result = read_epk((dir_ / "newer.epk").string());
  EXPECT_TRUE(result.ok()) << result.status().message();
}

TEST_F(EpkCorrupt, FormatVersionDisagreesWithHeader) {
  epk_image image = split_epk(good_);
  image.metadata["format_version"] = "1.3";
  expect_rejected(join_epk(image), "format_version: metadata says '1.3' but the header says 1.0");
}

TEST_F(EpkCorrupt, ShorterThanHeader) { expect_rejected(good_.substr(0, 40), "shorter than the 64-byte .epk header"); }

TEST_F(EpkCorrupt, TruncatedFile) {
  expect_rejected(good_.substr(0, good_.size() / 2), "file is truncated");
  expect_rejected(good_.substr(0, 100), "file is truncated");
}

TEST_F(EpkCorrupt, TrailingBytes) { expect_rejected(good_ + "junk", "4 unexpected bytes after the data section"); }

TEST_F(EpkCorrupt, TruncatedBlob) {
  // Header consistent with the shorter file: the last blob now runs past the data section.
  epk_image image = split_epk(good_);
  image.data.resize(image.data.size() - 10);
  expect_rejected(join_epk(image), "tensor 'scalar' data blob [");
  expect_rejected(join_epk(image), "extends past the end of the data section");
}

TEST_F(EpkCorrupt, FlippedByteInBlobNamesTheTensor) {
  std::string bytes = good_;
  bytes[blob_offset("q.w3g32_asym", "zeros") + 1] ^= 0x10;
  expect_rejected(bytes, "tensor 'q.w3g32_asym' zeros blob checksum mismatch");
  // With verification off the reader trusts the bytes (documented); structure is still checked.
  testing::write_file(dir_ / "flipped.epk", bytes);
  epk_read_options trusting;
  trusting.verify_checksums = false;
  EXPECT_TRUE(read_epk((dir_ / "flipped.epk").string(), trusting).ok());
}

TEST_F(EpkCorrupt, FlippedByteInMetadata) {
  std::string bytes = good_;
  bytes[epk_header_size + 20] ^= 0x01;
  expect_rejected(bytes, "metadata checksum mismatch");
}

TEST_F(EpkCorrupt, FlippedByteInHeader) {
  std::string bytes = good_;
  bytes[40] ^= 0x01;  // data_length
  expect_rejected(bytes, "header checksum mismatch");
}

TEST_F(EpkCorrupt, MetadataOverTheCap) {
  epk_image image = split_epk(good_);
  const std::string text = image.metadata.dump();
  std::string bytes = join_epk(image, text);
  epk_header h = image.header;
  h.metadata_length = uint64_t{300} << 20;
  const auto header = encode_epk_header(h);
  bytes.replace(0, header.size(), reinterpret_cast<const char*>(header.data()), header.size());
  expect_rejected(bytes, "over the 256 MiB limit");
}

TEST_F(EpkCorrupt, MalformedJson) {
  const epk_image image = split_epk(good_);
  expect_rejected(join_epk(image, "{\"format_version\": \"1.0\", "), "metadata is not valid JSON");
  expect_rejected(join_epk(image, "[1, 2]"), "metadata is not a JSON object");
  expect_rejected(join_epk(image, std::string(100, '[') + std::string(100, ']')), "nests deeper than 64 levels");
}

TEST_F(EpkCorrupt, WrongFieldTypeNamesTheJsonPath) {
  epk_image image = split_epk(good_);
  image.metadata["graph"]["nodes"][0]["attributes"]["epsilon"]["value"] = "small";
  expect_rejected(join_epk(image), "graph.nodes[0].attributes.epsilon.value: expected number");
  image = split_epk(good_);
  image.metadata["llm_config"].erase("kv_heads");
  expect_rejected(join_epk(image), "llm_config.kv_heads: missing");
  image = split_epk(good_);
  image.metadata["vocabulary"]["pieces"][4] = {{"hex", "zz"}};
  expect_rejected(join_epk(image), "vocabulary.pieces[4].hex: not a hex digit");
}

TEST_F(EpkCorrupt, OffsetOutOfRange) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "dense.f16")]["data"]["offset"] = uint64_t{1} << 62;
  expect_rejected(join_epk(image), "tensor 'dense.f16' data blob [4611686018427387904, +1376) extends past the end");
}

TEST_F(EpkCorrupt, MisalignedOffset) {
  epk_image image = split_epk(good_);
  auto& blob = image.metadata["tensors"][tensor_index(image.metadata, "q.w8g32")]["scales"];
  blob["offset"] = blob["offset"].get<uint64_t>() + 2;
  expect_rejected(join_epk(image), "tensor 'q.w8g32' scales blob offset");
  expect_rejected(join_epk(image), "is not 64-byte aligned");
}

TEST_F(EpkCorrupt, OverlappingBlobs) {
  epk_image image = split_epk(good_);
  auto& tensors = image.metadata["tensors"];
  tensors[tensor_index(image.metadata, "q.w2g32")]["scales"]["offset"] =
      tensors[tensor_index(image.metadata, "q.w2g32")]["data"]["offset"];
  expect_rejected(join_epk(image), "tensor 'q.w2g32' data blob overlaps tensor 'q.w2g32' scales blob");
}

TEST_F(EpkCorrupt, BlobLengthMismatch) {
  epk_image image = split_epk(good_);
  auto& blob = image.metadata["tensors"][tensor_index(image.metadata, "q.w3g32")]["data"];
  blob["length"] = blob["length"].get<uint64_t>() - 1;
  expect_rejected(join_epk(image), "tensor 'q.w3g32'): data blob is 322 bytes, but F32 [5, 172] as w3g32 needs 323");
}

TEST_F(EpkCorrupt, ShapeOverflow) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "dense.f32")]["shape"] = {uint64_t{1} << 40, uint64_t{1} << 40};
  expect_rejected(join_epk(image), "tensor 'dense.f32'): shape [1099511627776, 1099511627776] is negative or too large");
  image.metadata["tensors"][tensor_index(image.metadata, "dense.f32")]["shape"] = {0, INT64_MAX};
  expect_rejected(join_epk(image), "is negative or too large");
}

TEST_F(EpkCorrupt, MissingOrExtraParts) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "q.w4g32_asym")].erase("zeros");
  expect_rejected(join_epk(image), "tensor 'q.w4g32_asym'): zeros blob is missing");
  image = split_epk(good_);
  auto& entry = image.metadata["tensors"][tensor_index(image.metadata, "dense.f32")];
  entry["scales"] = entry["data"];
  expect_rejected(join_epk(image), "tensor 'dense.f32'): has a scales blob its encoding does not use");
}

TEST_F(EpkCorrupt, DuplicateTensor) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"].push_back(image.metadata["tensors"][0]);
  expect_rejected(join_epk(image), "appears twice in the tensor table");
}

TEST_F(EpkCorrupt, NonZeroPadding) {
  std::string bytes = good_;
  bytes[blob_offset("dense.f32", "data") + 60 + 2] = 'x';  // 60-byte blob, then padding
  expect_rejected(bytes, "non-zero padding before tensor");
}

TEST_F(EpkCorrupt, CodeDtypeDisagreesWithBits) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "q.w2g32")]["encoding"]["code_dtype"] = "U4";
  expect_rejected(join_epk(image), "code_dtype: 'U4' disagrees with bits 2 (expected U2)");
}

TEST_F(EpkCorrupt, QuantLayoutThatDoesNotFitTheShape) {
  epk_image image = split_epk(good_);
  auto& conv = image.metadata["tensors"][tensor_index(image.metadata, "q.conv")]["encoding"];
  conv["col_axis"] = 4;
  expect_rejected(join_epk(image), "tensor 'q.conv'): col_axis 4 is not a dim of a rank-4 tensor");
  image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "q.conv")]["encoding"]["transposed"] = true;
  expect_rejected(join_epk(image), "transposed layout needs a 2-D tensor, not rank 4");
  image = split_epk(good_);
  // Moving the view changes the scale count: 9 rows x 3 groups becomes 70 rows x 1 group.
  image.metadata["tensors"][tensor_index(image.metadata, "q.transposed")]["encoding"].erase("transposed");
  expect_rejected(join_epk(image), "scales blob is 54 bytes, but F32 [70, 9] as w4g32_asym needs 140");
}

TEST_F(EpkCorrupt, GraphReadingAnUnknownValue) {
  epk_image image = split_epk(good_);
  image.metadata["graph"]["nodes"][0]["inputs"].push_back("ghost");
  expect_rejected(join_epk(image), "node 'mix' (Mix) reads 'ghost', which nothing produces before it");
}

TEST(EpkRead, MissingFile) {
  auto result = read_epk("/nonexistent/dir/m.epk");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/nonexistent/dir/m.epk"), std::string::npos);
}

}  // namespace
}  // namespace edgepack

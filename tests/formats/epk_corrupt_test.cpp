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

TEST_F(EpkCorrupt, SparsityParametersOutOfRange) {
  epk_image image = split_epk(good_);
  const size_t i = tensor_index(image.metadata, "s.2_4");
  const std::string where = "tensors[" + std::to_string(i) + "].encoding.sparsity";
  image.metadata["tensors"][i]["encoding"]["sparsity"]["n"] = 4;
  expect_rejected(join_epk(image), where + ": N:M sparsity 4:4 needs 1 <= N < M <= 256");
  image.metadata["tensors"][i]["encoding"]["sparsity"]["n"] = 5;
  expect_rejected(join_epk(image), where + ": N:M sparsity 5:4 needs 1 <= N < M <= 256");
  image.metadata["tensors"][i]["encoding"]["sparsity"]["n"] = 0;
  expect_rejected(join_epk(image), where + ": N:M sparsity 0:4 needs 1 <= N < M <= 256");
  image.metadata["tensors"][i]["encoding"]["sparsity"]["n"] = 2;
  image.metadata["tensors"][i]["encoding"]["sparsity"]["m"] = 257;
  expect_rejected(join_epk(image), where + ": N:M sparsity 2:257 needs 1 <= N < M <= 256");
}

TEST_F(EpkCorrupt, UnknownSparsityLayout) {
  epk_image image = split_epk(good_);
  const size_t i = tensor_index(image.metadata, "s.bitmask");
  image.metadata["tensors"][i]["encoding"]["sparsity"]["layout"] = "csr";
  expect_rejected(join_epk(image), "tensors[" + std::to_string(i) +
                                       "].encoding.sparsity.layout: unknown sparsity layout 'csr' (expected n_of_m or bitmask)");
}

TEST_F(EpkCorrupt, SparsityOnANonFloatTensor) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "s.2_4")]["dtype"] = "I32";
  expect_rejected(join_epk(image), "tensor 's.2_4'): sparse tensor must decode to a float dtype, not I32");
}

TEST_F(EpkCorrupt, NnzDisagreesWithTheMask) {
  // nnz in the JSON sets the data blob's size, so a larger nnz is caught there ...
  epk_image image = split_epk(good_);
  auto& entry = image.metadata["tensors"][tensor_index(image.metadata, "s.bitmask")];
  const uint64_t nnz = entry["encoding"]["sparsity"]["nnz"].get<uint64_t>();
  entry["encoding"]["sparsity"]["nnz"] = nnz + 1;
  expect_rejected(join_epk(image), "tensor 's.bitmask'): data blob is " + std::to_string(4 * nnz) +
                                       " bytes, but F32 [7, 13] + bitmask needs " + std::to_string(4 * (nnz + 1)));
  entry["encoding"]["sparsity"]["nnz"] = 7 * 13 + 1;
  expect_rejected(join_epk(image), "tensor 's.bitmask'): nnz 92 exceeds the 91 elements");
  // ... and a mask (with consistent row offsets and valid checksums) holding fewer values than
  // nnz by the mask check. The last element (bit 90, row 6) is always stored in the test model.
  image = split_epk(good_);
  auto& bitmask = image.metadata["tensors"][tensor_index(image.metadata, "s.bitmask")];
  const size_t mask_at = bitmask["mask"]["offset"].get<size_t>();
  const size_t offsets_at = bitmask["row_offsets"]["offset"].get<size_t>();
  ASSERT_EQ(image.data[mask_at + 11] & 0x04, 0x04);
  image.data[mask_at + 11] = static_cast<char>(image.data[mask_at + 11] & ~0x04);
  uint32_t last = 0;
  std::memcpy(&last, image.data.data() + offsets_at + 4 * 7, 4);
  ASSERT_EQ(last, nnz);
  --last;
  std::memcpy(image.data.data() + offsets_at + 4 * 7, &last, 4);
  for (const char* part : {"mask", "row_offsets"}) {
    auto& blob = bitmask[part];
    blob["crc32c"] = crc32c(std::as_bytes(std::span(image.data).subspan(blob["offset"].get<size_t>(), blob["length"].get<size_t>())));
  }
  expect_rejected(join_epk(image), "tensor 's.bitmask': the mask holds " + std::to_string(nnz - 1) + " values but nnz is " + std::to_string(nnz));
  // A row offset that disagrees with the mask is refused even with checksums off.
  image = split_epk(good_);
  image.data[offsets_at + 4 * 3] = static_cast<char>(image.data[offsets_at + 4 * 3] + 1);
  std::string bytes = join_epk(image);
  uint32_t third = 0;
  std::memcpy(&third, image.data.data() + offsets_at + 4 * 3, 4);
  expect_rejected(bytes, "tensor 's.bitmask': row_offsets[3] is " + std::to_string(third) + " but the mask's rows 0..2 hold " +
                             std::to_string(third - 1) + " values", {.verify_checksums = false});
}

TEST_F(EpkCorrupt, SparseBlobOfTheWrongSize) {
  epk_image image = split_epk(good_);
  auto& blob = image.metadata["tensors"][tensor_index(image.metadata, "s.2_4_w4g32")]["indices"];
  ASSERT_EQ(blob["length"].get<uint64_t>(), 44u);  // 5 rows x (17 x 2 + 1) values x 2 bits
  blob["length"] = 43;
  expect_rejected(join_epk(image), "tensor 's.2_4_w4g32'): indices blob is 43 bytes, but F32 [5, 70] as w4g32 + 2:4 needs 44");
  image = split_epk(good_);
  auto& data = image.metadata["tensors"][tensor_index(image.metadata, "s.2_4_w4g32")]["data"];
  data["length"] = 1400 / 8;  // the dense size: 5 x 70 codes of 4 bits
  expect_rejected(join_epk(image), "tensor 's.2_4_w4g32'): data blob is 175 bytes, but F32 [5, 70] as w4g32 + 2:4 needs 88");
  image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "s.bitmask")]["row_offsets"]["length"] = 28;
  expect_rejected(join_epk(image), "tensor 's.bitmask'): row_offsets blob is 28 bytes, but F32 [7, 13] + bitmask needs 32");
}

TEST_F(EpkCorrupt, MissingOrExtraSparseBlobs) {
  epk_image image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "s.2_4")].erase("indices");
  expect_rejected(join_epk(image), "tensor 's.2_4'): indices blob is missing");
  image = split_epk(good_);
  image.metadata["tensors"][tensor_index(image.metadata, "s.bitmask")].erase("row_offsets");
  expect_rejected(join_epk(image), "tensor 's.bitmask'): row_offsets blob is missing");
  image = split_epk(good_);
  auto& two_four = image.metadata["tensors"][tensor_index(image.metadata, "s.2_4")];
  two_four["mask"] = two_four["indices"];
  expect_rejected(join_epk(image), "tensor 's.2_4'): has a mask blob its encoding does not use");
  image = split_epk(good_);
  auto& dense = image.metadata["tensors"][tensor_index(image.metadata, "dense.f32")];
  dense["indices"] = dense["data"];
  expect_rejected(join_epk(image), "tensor 'dense.f32'): has a indices blob its encoding does not use");
}

TEST_F(EpkCorrupt, NOfMIndexOutOfOrder) {
  // The first group of s.2_4 holds two increasing indices; storing them swapped is refused even
  // with checksums off (metadata contents are checked on every read).
  epk_image image = split_epk(good_);
  const size_t at = image.metadata["tensors"][tensor_index(image.metadata, "s.2_4")]["indices"]["offset"].get<size_t>();
  const auto first = static_cast<uint8_t>(image.data[at]);
  const uint8_t a = first & 3, b = (first >> 2) & 3;
  ASSERT_LT(a, b);
  image.data[at] = static_cast<char>((first & 0xf0) | b | (a << 2));
  expect_rejected(join_epk(image), "tensor 's.2_4': indices of row 0, columns 0..3: index " + std::to_string(a) + " after " +
                                       std::to_string(b) + " (not increasing)",
                  {.verify_checksums = false});
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

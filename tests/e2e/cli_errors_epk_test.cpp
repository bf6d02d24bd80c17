// Corrupt .epk files through the real CLI: exit 3, the file and the problem named, nothing
// written. The base is a w4g32 quantization of the bundled model written by the CLI itself;
// offsets come from formats/epk_layout.h (docs/format.md §2).
#include <array>
#include <cstring>
#include <functional>

#include "formats/epk_layout.h"
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

class CliEpk : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = dir_ / "base.epk";
    const auto r = run_cli({"-q", "quantize", bundled_model(), "--scheme", "w4g32", "-o", path.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    base_ = read_file(path);
    ASSERT_GT(base_.size(), epk_header_size);
    data_offset_ = get_le(base_, 32, 8);
    data_length_ = get_le(base_, 40, 8);
    ASSERT_EQ(data_offset_ + data_length_, base_.size());
  }
  std::string crafted(const std::string& name, const std::function<void(std::string&)>& edit) {
    std::string bytes = base_;
    edit(bytes);
    const auto path = (dir_ / name).string();
    write_file(path, bytes);
    return path;
  }
  // The header CRC covers bytes [0, 60); tests that patch the header want the reader to get past
  // it to the check they aim at, so they re-seal it (a real writer of a newer version would too).
  static void reseal_header(std::string& bytes) {
    std::array<std::byte, epk_header_size> raw{};
    std::memcpy(raw.data(), bytes.data(), raw.size());
    const auto encoded = encode_epk_header(decode_epk_header(raw));
    std::memcpy(bytes.data(), encoded.data(), encoded.size());
  }
  temp_dir dir_;
  std::string base_;
  uint64_t data_offset_ = 0, data_length_ = 0;
};

TEST_F(CliEpk, UnmodifiedFileIsReadable) {
  const std::string path = crafted("copy.epk", [](std::string&) {});
  const auto r = run_cli({"-q", "inspect", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliEpk, BadMagic) {
  // Keeps "EPK" so format detection still picks the .epk reader, which must reject the rest.
  const std::string path = crafted("magic.epk", [](std::string& b) { b[3] = 'X'; });
  expect_quantize_rejects(path, {3, path, "not an .epk file (bad magic)"});
}

TEST_F(CliEpk, BadBlobChecksum) {
  const std::string path = crafted("blob_crc.epk", [this](std::string& b) { b[data_offset_ + 1] ^= 0x01; });
  expect_quantize_rejects(path, {3, path, "data blob checksum mismatch"});
}

TEST_F(CliEpk, BadMetadataChecksum) {
  // A space inside the JSON becomes a tab: still valid JSON, so only the checksum can tell.
  const std::string path = crafted("metadata_crc.epk", [](std::string& b) {
    const size_t space = b.find(' ', epk_header_size);
    ASSERT_NE(space, std::string::npos);
    b[space] = '\t';
  });
  expect_quantize_rejects(path, {3, path, "metadata checksum mismatch"});
}

TEST_F(CliEpk, BadHeaderChecksum) {
  const std::string path = crafted("header_crc.epk", [](std::string& b) { b[12] ^= 0x01; });  // flags
  expect_quantize_rejects(path, {3, path, "header checksum mismatch"});
}

TEST_F(CliEpk, TruncatedBlob) {
  const std::string path = crafted("truncated.epk", [this](std::string& b) { b.resize(data_offset_ + data_length_ / 2); });
  expect_quantize_rejects(path, {3, path, "file is truncated"});
}

TEST_F(CliEpk, TruncatedHeader) {
  const std::string path = crafted("short.epk", [](std::string& b) { b.resize(40); });
  expect_quantize_rejects(path, {3, path, "shorter than the 64-byte .epk header"});
}

TEST_F(CliEpk, NewerMajorVersion) {
  const std::string path = crafted("v2.epk", [](std::string& b) {
    put_le(b, 8, epk_major_version + 1, 2);
    reseal_header(b);
  });
  expect_quantize_rejects(path, {3, path, "file is .epk version 2.0; this edgepack reads version 1.x"});
}

TEST_F(CliEpk, NewerMajorVersionWithoutResealing) {
  // The version is checked before the header checksum, so a v2 file with a v2-style header is
  // still reported as "too new", never as "corrupt".
  const std::string path = crafted("v2_raw.epk", [](std::string& b) { put_le(b, 8, epk_major_version + 1, 2); });
  expect_quantize_rejects(path, {3, path, "upgrade edgepack"});
}

TEST_F(CliEpk, TrailingBytes) {
  const std::string path = crafted("trailing.epk", [](std::string& b) { b += std::string(64, '\0'); });
  expect_quantize_rejects(path, {3, path, "unexpected bytes after the data section"});
}

}  // namespace
}  // namespace edgepack::testing

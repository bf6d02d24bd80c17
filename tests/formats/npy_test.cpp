// .npy reader/writer: round trips (correct), hostile headers (error), and numpy-written goldens.
#include "formats/npy.h"

#include <cstring>

#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::read_file;
using testing::temp_dir;
using testing::write_file;

tensor patterned(dtype type, std::vector<int64_t> shape, int seed) {
  tensor t = tensor::allocate(type, std::move(shape));
  auto* bytes = t.mutable_data_as<unsigned char>();
  for (size_t i = 0; i < t.data.size; ++i) bytes[i] = static_cast<unsigned char>(type == dtype::boolean ? (i + seed) % 2 : i * 31 + seed);
  return t;
}

std::string bytes_of(const tensor& t) { return {reinterpret_cast<const char*>(t.data.data), t.data.size}; }

// A version 1.0 file with the header text verbatim (no padding added) followed by `data`.
std::string make_npy(const std::string& header, const std::string& data, char major = 1) {
  std::string out = std::string("\x93NUMPY") + major + '\0';
  if (major == 1) {
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
  } else {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  return out + header + data;
}

std::string dict(const std::string& descr, const std::string& shape, const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }\n";
}

::testing::AssertionResult npy_fails_with(const std::string& bytes, const std::string& phrase) {
  temp_dir dir;
  const std::string path = (dir / "bad.npy").string();
  write_file(path, bytes);
  const auto result = read_npy(path);
  if (result.ok()) return ::testing::AssertionFailure() << "read succeeded, expected an error containing '" << phrase << "'";
  const std::string& message = result.status().message();
  if (result.status().code() != error_code::bad_input) return ::testing::AssertionFailure() << "wrong code: " << message;
  if (message.rfind(path + ": ", 0) != 0) return ::testing::AssertionFailure() << "message does not start with the path: " << message;
  if (message.find(phrase) == std::string::npos) return ::testing::AssertionFailure() << "lacks '" << phrase << "': " << message;
  // The in-memory entry point must agree and name its source.
  const auto& span = std::as_bytes(std::span<const char>(bytes));
  const auto from_memory = read_npy_from_memory(span, "mem");
  if (from_memory.ok() || from_memory.status().message() != "mem: " + message.substr(path.size() + 2))
    return ::testing::AssertionFailure() << "read_npy_from_memory disagrees: " << from_memory.status().message();
  return ::testing::AssertionSuccess();
}

TEST(NpyRoundTrip, EveryDtype) {
  const std::pair<dtype, std::string> cases[] = {
      {dtype::f32, "<f4"}, {dtype::f16, "<f2"}, {dtype::f64, "<f8"}, {dtype::i8, "|i1"},  {dtype::u8, "|u1"},  {dtype::boolean, "|b1"},
      {dtype::i16, "<i2"}, {dtype::u16, "<u2"}, {dtype::i32, "<i4"}, {dtype::u32, "<u4"}, {dtype::i64, "<i8"}, {dtype::u64, "<u8"},
  };
  temp_dir dir;
  for (const auto& [type, descr] : cases) {
    SCOPED_TRACE(descr);
    const tensor t = patterned(type, {3, 5}, 7);
    const std::string path = (dir / "t.npy").string();
    ASSERT_TRUE(write_npy(path, t).ok());
    const std::string bytes = read_file(path);
    EXPECT_NE(bytes.find("'descr': '" + descr + "'"), std::string::npos);
    auto back = read_npy(path);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->type, type);
    EXPECT_EQ(back->shape, t.shape);
    EXPECT_EQ(bytes_of(*back), bytes_of(t));
  }
}

TEST(NpyRoundTrip, HeaderPaddedTo64AndDeterministic) {
  temp_dir dir;
  const tensor t = patterned(dtype::f32, {2, 3}, 1);
  ASSERT_TRUE(write_npy((dir / "a.npy").string(), t).ok());
  ASSERT_TRUE(write_npy((dir / "b.npy").string(), t).ok());
  const std::string bytes = read_file(dir / "a.npy");
  EXPECT_EQ(bytes, read_file(dir / "b.npy"));
  // 10-byte prefix + 59-byte dict + 58 spaces + '\n' = 128: data starts on a 64-byte boundary.
  EXPECT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(bytes.substr(10, 59), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(bytes.substr(69, 58), std::string(58, ' '));
  EXPECT_EQ(bytes[127], '\n');
  auto back = read_npy((dir / "a.npy").string());
  ASSERT_TRUE(back.ok());
  EXPECT_NE(back->data.owner, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(back->data.data) % 64, 0u) << "data at offset 64 of a page-aligned mapping";
}

TEST(NpyRoundTrip, ZeroDimensionalAndOneElementTuple) {
  temp_dir dir;
  const tensor scalar = patterned(dtype::f64, {}, 3);
  ASSERT_TRUE(write_npy((dir / "s.npy").string(), scalar).ok());
  EXPECT_NE(read_file(dir / "s.npy").find("'shape': (), }"), std::string::npos);
  auto s = read_npy((dir / "s.npy").string());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->shape.empty());
  EXPECT_EQ(bytes_of(*s), bytes_of(scalar));

  const tensor vec = patterned(dtype::i64, {5}, 4);
  ASSERT_TRUE(write_npy((dir / "v.npy").string(), vec).ok());
  EXPECT_NE(read_file(dir / "v.npy").find("'shape': (5,), }"), std::string::npos);
  auto v = read_npy((dir / "v.npy").string());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(bytes_of(*v), bytes_of(vec));
}

TEST(NpyRead, AcceptsLegalVariants) {
  // Version 2.0, keys in another order, double quotes, no trailing comma, zero-size arrays, and an
  // unpadded header whose data is unaligned (read_npy must copy it to aligned storage).
  const float value = 2.5f;
  const std::string one_float(reinterpret_cast<const char*>(&value), 4);
  const std::pair<std::string, std::vector<int64_t>> cases[] = {
      {make_npy(dict("<f4", "(1,)"), one_float, 2), {1}},
      {make_npy("{\"shape\": (1, 1), \"fortran_order\": False, \"descr\": \"<f4\"}", one_float), {1, 1}},
      {make_npy(dict("<f4", "(0, 3)"), ""), {0, 3}},
      {make_npy(dict("<f4", "(1,)") + " ", one_float), {1}},
  };
  temp_dir dir;
  for (const auto& [bytes, shape] : cases) {
    write_file(dir / "ok.npy", bytes);
    auto t = read_npy((dir / "ok.npy").string());
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->shape, shape);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data.data) % alignof(float), 0u);
    if (t->numel() == 1) {
      EXPECT_EQ(t->data_as<float>()[0], 2.5f);
    }
  }
}

TEST(NpyErrors, TooShort) { EXPECT_TRUE(npy_fails_with("\x93NUM", "too short for a .npy header")); }
TEST(NpyErrors, BadMagic) { EXPECT_TRUE(npy_fails_with(std::string("PK\x03\x04xxxxxxxxxxxx"), "bad magic")); }
TEST(NpyErrors, UnsupportedVersion) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "()"), "abcd", 3), "unsupported .npy version 3.0")); }
TEST(NpyErrors, HeaderBeyondFile) {
  std::string bytes = make_npy(dict("<f4", "()"), "");
  bytes[9] = 0x7f;
  EXPECT_TRUE(npy_fails_with(bytes, "runs beyond the end of the file"));
}
TEST(NpyErrors, HeaderOverCap) {
  std::string bytes = make_npy("", "", 2);
  bytes[10] = 0x7f;  // 0x7f0000 bytes, above the 1 MiB cap
  EXPECT_TRUE(npy_fails_with(bytes, "exceeds the cap"));
}
TEST(NpyErrors, BigEndian) { EXPECT_TRUE(npy_fails_with(make_npy(dict(">f4", "()"), "abcd"), "big-endian dtype descr '>f4'")); }
TEST(NpyErrors, FortranOrder) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "(2, 2)", "True"), std::string(16, 'x')), "fortran_order True")); }
TEST(NpyErrors, UnknownDescr) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<c8", "()"), "abcdefgh"), "unsupported dtype descr '<c8'")); }
TEST(NpyErrors, MultiByteWithoutByteOrder) { EXPECT_TRUE(npy_fails_with(make_npy(dict("|f4", "()"), "abcd"), "unsupported dtype descr '|f4'")); }
TEST(NpyErrors, DataTooShort) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "(2, 3)"), std::string(20, 'x')), "data is 20 bytes, expected 24")); }
TEST(NpyErrors, TrailingData) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "(1,)"), std::string(8, 'x')), "data is 8 bytes, expected 4")); }
TEST(NpyErrors, ElementCountOverflow) {
  EXPECT_TRUE(npy_fails_with(make_npy(dict("<f8", "(4294967296, 4294967296)"), ""), "overflows"));
  EXPECT_TRUE(npy_fails_with(make_npy(dict("<f8", "(2305843009213693952,)"), ""), "overflows"));
}
TEST(NpyErrors, DimensionTooLarge) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "(99999999999999999999,)"), ""), "dimension too large")); }
TEST(NpyErrors, NegativeDimension) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "(-1,)"), ""), "expected a non-negative integer dimension")); }
TEST(NpyErrors, OneElementShapeWithoutComma) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "(5)"), std::string(20, 'x')), "needs a trailing comma")); }
TEST(NpyErrors, ShapeNotTuple) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "[5]"), std::string(20, 'x')), "shape must be a tuple")); }
TEST(NpyErrors, TooManyDimensions) {
  std::string shape = "(";
  for (int i = 0; i < 65; ++i) shape += "1, ";
  EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", shape + ")"), "abcd"), "more than 64 dimensions"));
}
TEST(NpyErrors, MissingKey) {
  EXPECT_TRUE(npy_fails_with(make_npy("{'descr': '<f4', 'shape': (1,), }", "abcd"), "must have the keys 'descr', 'fortran_order' and 'shape'"));
}
TEST(NpyErrors, DuplicateKey) {
  EXPECT_TRUE(npy_fails_with(make_npy("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "abcd"), "duplicate key 'descr'"));
}
TEST(NpyErrors, UnknownKey) {
  EXPECT_TRUE(npy_fails_with(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}", "abcd"), "unexpected key 'x'"));
}
TEST(NpyErrors, NotADict) { EXPECT_TRUE(npy_fails_with(make_npy("['<f4']", "abcd"), "header must start with '{'")); }
TEST(NpyErrors, UnterminatedString) { EXPECT_TRUE(npy_fails_with(make_npy("{'descr", ""), "unterminated string")); }
TEST(NpyErrors, EscapeInString) { EXPECT_TRUE(npy_fails_with(make_npy("{'de\\'scr': 1}", ""), "unsupported character in string")); }
TEST(NpyErrors, UnterminatedDict) { EXPECT_TRUE(npy_fails_with(make_npy("{'descr': '<f4'", ""), "expected ',' or '}'")); }
TEST(NpyErrors, BadBool) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "()", "0"), "abcd"), "expected True or False")); }
TEST(NpyErrors, TextAfterDict) { EXPECT_TRUE(npy_fails_with(make_npy(dict("<f4", "()") + "x", "abcd"), "unexpected text after the closing '}'")); }
TEST(NpyErrors, LongString) { EXPECT_TRUE(npy_fails_with(make_npy("{'" + std::string(100, 'k') + "': 1}", ""), "longer than 64 characters")); }
TEST(NpyErrors, MissingFile) {
  const auto result = read_npy("/nonexistent/x.npy");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), error_code::bad_input);
  EXPECT_NE(result.status().message().find("/nonexistent/x.npy"), std::string::npos);
}

TEST(NpyWriteErrors, RejectsTypesNumpyLacks) {
  temp_dir dir;
  const std::string path = (dir / "out.npy").string();
  tensor quantized = patterned(dtype::f32, {4}, 0);
  quantized.kind = encoding_kind::quantized;
  tensor short_data = patterned(dtype::f32, {4}, 0);
  short_data.data.size = 8;
  const std::pair<tensor, std::string> cases[] = {
      {patterned(dtype::bf16, {2}, 0), "dtype BF16 has no .npy equivalent"},
      {tensor::allocate(dtype::u4, {4}), "dtype U4 has no .npy equivalent"},
      {quantized, "quantized tensors cannot be written"},
      {short_data, "tensor holds 8 bytes, expected 16"},
  };
  for (const auto& [t, phrase] : cases) {
    const Status status = write_npy(path, t);
    EXPECT_EQ(status.code(), error_code::bad_input);
    EXPECT_EQ(status.message().rfind(path + ": ", 0), 0u) << status.message();
    EXPECT_NE(status.message().find(phrase), std::string::npos) << status.message();
    EXPECT_FALSE(std::filesystem::exists(path));
  }
}

// ONNX Runtime goldens written by numpy: read them, and check our writer reproduces numpy's bytes.
TEST(NpyReal, MnistGoldens) {
  EP_REQUIRE_SHARED();
  temp_dir dir;
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::shared_dir() / "models/mnist-8/golden")) {
    const auto input = entry.path() / "input_0.npy";
    if (!std::filesystem::exists(input)) continue;
    SCOPED_TRACE(input.string());
    auto t = read_npy(input.string());
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->type, dtype::f32);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{1, 1, 28, 28}));
    const std::string copy = (dir / "copy.npy").string();
    ASSERT_TRUE(write_npy(copy, *t).ok());
    EXPECT_EQ(read_file(copy), read_file(input));
    auto output = read_npy((entry.path() / "output_0.npy").string());
    ASSERT_TRUE(output.ok()) << output.status().message();
    EXPECT_EQ(output->shape, (std::vector<int64_t>{1, 10}));
    ++seen;
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace edgepack

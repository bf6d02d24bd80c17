// safetensors reader/writer: round trips (correct), one test per corrupt-header case (error),
// sharded index, and the real stories260K checkpoint (e2e on shared data).
#include "formats/safetensors.h"

#include <cstring>
#include <numeric>

#include "tests/test_support.h"

namespace edgepack {
namespace {

using testing::read_file;
using testing::temp_dir;
using testing::write_file;

constexpr dtype all_dtypes[] = {dtype::f32, dtype::f16, dtype::bf16, dtype::f64, dtype::i8,  dtype::u8,     dtype::i16,
                                dtype::u16, dtype::i32, dtype::u32,  dtype::i64, dtype::u64, dtype::boolean};

// Tensor whose bytes follow a pattern that depends on `seed`, so mixed-up tensors are noticed.
tensor patterned(dtype type, std::vector<int64_t> shape, int seed) {
  tensor t = tensor::allocate(type, std::move(shape));
  auto* bytes = t.mutable_data_as<unsigned char>();
  for (size_t i = 0; i < t.data.size; ++i) bytes[i] = static_cast<unsigned char>(type == dtype::boolean ? (i + seed) % 2 : i * 37 + seed);
  return t;
}

std::string bytes_of(const tensor& t) { return {reinterpret_cast<const char*>(t.data.data), t.data.size}; }

// A file: u64 LE header length, the header text verbatim, then `data`.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((uint64_t{header.size()} >> (8 * i)) & 0xff);
  return out + header + data;
}

std::shared_ptr<owned_storage> to_storage(const std::string& bytes) {
  const auto* begin = reinterpret_cast<const std::byte*>(bytes.data());
  return std::make_shared<owned_storage>(std::vector<std::byte>(begin, begin + bytes.size()));
}

::testing::AssertionResult fails_with(const std::string& bytes, const std::string& phrase) {
  temp_dir dir;
  const std::string path = (dir / "bad.safetensors").string();
  write_file(path, bytes);
  const auto result = read_safetensors(path);
  if (result.ok()) return ::testing::AssertionFailure() << "read succeeded, expected an error containing '" << phrase << "'";
  const Status& status = result.status();
  if (status.code() != error_code::bad_input) return ::testing::AssertionFailure() << "code " << error_code_name(status.code());
  if (status.message().rfind(path, 0) != 0) return ::testing::AssertionFailure() << "message does not start with the path: " << status.message();
  if (status.message().find(phrase) == std::string::npos)
    return ::testing::AssertionFailure() << "message lacks '" << phrase << "': " << status.message();
  return ::testing::AssertionSuccess() << status.message();
}

// One valid F32 [2] tensor "w" over 8 data bytes, with a replaceable entry.
std::string one_tensor(const std::string& entry, const std::string& data = std::string(8, '\1')) {
  return make_file("{\"w\":" + entry + "}", data);
}

TEST(SafetensorsRoundTrip, EveryDtype) {
  temp_dir dir;
  for (dtype type : all_dtypes) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    const std::map<std::string, tensor> tensors{{"a", patterned(type, {2, 3}, 1)}, {"b", patterned(type, {5}, 2)}};
    const std::string path = (dir / "t.safetensors").string();
    ASSERT_TRUE(write_safetensors(path, tensors, {{"format", "pt"}}).ok());
    auto read = read_safetensors(path);
    ASSERT_TRUE(read.ok()) << read.status().message();
    ASSERT_EQ(read->tensors.size(), 2u);
    for (const auto& [name, t] : tensors) {
      const tensor& back = read->tensors.at(name);
      EXPECT_EQ(back.type, type);
      EXPECT_EQ(back.shape, t.shape);
      EXPECT_EQ(bytes_of(back), bytes_of(t));
    }
    EXPECT_EQ(read->metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  }
}

TEST(SafetensorsRoundTrip, ZeroCopyViewsIntoTheMapping) {
  temp_dir dir;
  const std::string path = (dir / "t.safetensors").string();
  ASSERT_TRUE(write_safetensors(path, {{"x", patterned(dtype::f32, {4, 4}, 3)}}, {}).ok());
  auto read = read_safetensors(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  const tensor& x = read->tensors.at("x");
  EXPECT_EQ(x.data.owner.get(), read->file.get());
  EXPECT_GE(x.data.data, read->file->data());
  EXPECT_LE(x.data.data + x.data.size, read->file->data() + read->file->size());
}

TEST(SafetensorsRoundTrip, DeterministicSortedAndPadded) {
  temp_dir dir;
  // Inserted in one order, written in name order; a 1-byte tensor first makes "b" start unaligned.
  std::map<std::string, tensor> tensors;
  tensors["b"] = patterned(dtype::f32, {3}, 5);
  tensors["a"] = patterned(dtype::u8, {3}, 4);
  const std::string p1 = (dir / "1.safetensors").string(), p2 = (dir / "2.safetensors").string();
  ASSERT_TRUE(write_safetensors(p1, tensors, {{"k", "v"}}).ok());
  ASSERT_TRUE(write_safetensors(p2, tensors, {{"k", "v"}}).ok());
  const std::string bytes = read_file(p1);
  EXPECT_EQ(bytes, read_file(p2));
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  const std::string header = bytes.substr(8, header_size);
  EXPECT_EQ(header,
            "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"data_offsets\":[0,3],\"dtype\":\"U8\",\"shape\":[3]},"
            "\"b\":{\"data_offsets\":[3,15],\"dtype\":\"F32\",\"shape\":[3]}}    ");
  EXPECT_EQ(bytes.substr(8 + header_size), bytes_of(tensors["a"]) + bytes_of(tensors["b"]));
  // "b" sits at an odd offset: the reader hands out an aligned copy with the same bytes.
  auto read = read_safetensors(p1);
  ASSERT_TRUE(read.ok()) << read.status().message();
  const tensor& b = read->tensors.at("b");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data.data) % alignof(float), 0u);
  EXPECT_NE(b.data.owner.get(), read->file.get());
  EXPECT_EQ(bytes_of(b), bytes_of(tensors["b"]));
}

TEST(SafetensorsRoundTrip, UnpaddedHeaderGivesAlignedCopy) {
  const float values[2] = {1.5f, -2.25f};
  const std::string data(reinterpret_cast<const char*>(values), sizeof values);
  temp_dir dir;
  const std::string path = (dir / "odd.safetensors").string();
  write_file(path, make_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data));  // 53-byte header
  auto read = read_safetensors(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  const tensor& w = read->tensors.at("w");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data.data) % alignof(float), 0u);
  EXPECT_EQ(w.data_as<float>()[0], 1.5f);
  EXPECT_EQ(w.data_as<float>()[1], -2.25f);
}

TEST(SafetensorsRoundTrip, EmptyTensorsAndUnsortedOffsets) {
  // Entries are not sorted by offset in name order; an empty tensor sits at offset 8 (between two).
  const std::string header =
      "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},"
      "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]}}";
  auto read = read_safetensors_from_memory(to_storage(make_file(header, "abcdefgh")), "mem");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(bytes_of(read->tensors.at("a")), "efgh");
  EXPECT_EQ(bytes_of(read->tensors.at("b")), "abcd");
  EXPECT_EQ(read->tensors.at("e").shape, (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(read->tensors.at("e").data.size, 0u);
}

TEST(SafetensorsRoundTrip, EmptyFileWithNoTensors) {
  temp_dir dir;
  const std::string path = (dir / "empty.safetensors").string();
  ASSERT_TRUE(write_safetensors(path, {}, {}).ok());
  auto read = read_safetensors(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_TRUE(read->tensors.empty());
}

// --- corrupt files: each names the file, and the problem --------------------------------------

TEST(SafetensorsErrors, ShorterThanEightBytes) { EXPECT_TRUE(fails_with("abc", "shorter than the 8-byte header length")); }
TEST(SafetensorsErrors, EmptyFile) { EXPECT_TRUE(fails_with("", "shorter than the 8-byte header length")); }

TEST(SafetensorsErrors, HeaderLengthOverCap) {
  std::string bytes = make_file("{}", "");
  const uint64_t huge = (uint64_t{100} << 20) + 1;
  std::memcpy(bytes.data(), &huge, 8);
  EXPECT_TRUE(fails_with(bytes, "exceeds the cap"));
}

TEST(SafetensorsErrors, HeaderLengthBeyondFile) {
  std::string bytes = make_file("{}", "");
  bytes[0] = 100;
  EXPECT_TRUE(fails_with(bytes, "runs beyond the end of the file"));
}

TEST(SafetensorsErrors, HeaderNotJson) { EXPECT_TRUE(fails_with(make_file("{\"w\": [1, 2", ""), "not valid JSON")); }
TEST(SafetensorsErrors, HeaderNotObject) { EXPECT_TRUE(fails_with(make_file("[1, 2]  ", ""), "header is not a JSON object")); }
TEST(SafetensorsErrors, HeaderInvalidUtf8) { EXPECT_TRUE(fails_with(make_file("{\"\xff\": 1}", ""), "not valid JSON")); }
TEST(SafetensorsErrors, HeaderTooDeep) {
  EXPECT_TRUE(fails_with(make_file(std::string(100, '[') + std::string(100, ']'), ""), "nested 100 levels deep"));
}

TEST(SafetensorsErrors, MetadataNotObject) {
  EXPECT_TRUE(fails_with(make_file("{\"__metadata__\": [\"x\"]}", ""), "'__metadata__' must be an object"));
}
TEST(SafetensorsErrors, MetadataValueNotString) {
  EXPECT_TRUE(fails_with(make_file("{\"__metadata__\": {\"n\": 3}}", ""), "'__metadata__' value for 'n' must be a string"));
}

TEST(SafetensorsErrors, EntryNotObject) { EXPECT_TRUE(fails_with(one_tensor("[1]"), "tensor 'w': entry must be a JSON object")); }
TEST(SafetensorsErrors, MissingDtype) {
  EXPECT_TRUE(fails_with(one_tensor("{\"shape\":[2],\"data_offsets\":[0,8]}"), "tensor 'w': missing 'dtype'"));
}
TEST(SafetensorsErrors, DtypeNotString) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":1,\"shape\":[2],\"data_offsets\":[0,8]}"), "tensor 'w': 'dtype' must be a string"));
}
TEST(SafetensorsErrors, UnknownDtype) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}"), "tensor 'w': unknown dtype 'F8_E4M3'"));
}
TEST(SafetensorsErrors, SubByteDtype) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"U4\",\"shape\":[16],\"data_offsets\":[0,8]}"), "tensor 'w': sub-byte dtype 'U4'"));
}
TEST(SafetensorsErrors, MissingShape) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}"), "tensor 'w': missing 'shape'"));
}
TEST(SafetensorsErrors, ShapeNotArray) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}"), "tensor 'w': 'shape' must be an array"));
}
TEST(SafetensorsErrors, NegativeDimension) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), "shape dimension must be a non-negative integer, got -2"));
}
TEST(SafetensorsErrors, FractionalDimension) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}"), "shape dimension must be a non-negative integer"));
}
TEST(SafetensorsErrors, MissingOffsets) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[2]}"), "tensor 'w': missing 'data_offsets'"));
}
TEST(SafetensorsErrors, OffsetsWrongLength) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}"), "'data_offsets' must be an array [begin, end]"));
}
TEST(SafetensorsErrors, OffsetsNotIntegers) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,\"8\"]}"), "'data_offsets' must hold non-negative integers"));
}
TEST(SafetensorsErrors, BeginAfterEnd) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}"), "data_offsets begin 8 is after end 0"));
}
TEST(SafetensorsErrors, ElementCountOverflow) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}"), "overflows"));
}
TEST(SafetensorsErrors, ElementBytesOverflow) {
  // 2^61 elements pass the element-count cap but times 8 bytes wraps 64 bits.
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}"), "overflows"));
}
TEST(SafetensorsErrors, SizeMismatch) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}"), "tensor 'w': byte size 8 from data_offsets does not match 12 bytes"));
}
TEST(SafetensorsErrors, OffsetsBeyondData) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}"), "tensor 'w': data_offsets end 16 is beyond the data section (8 bytes)"));
}
TEST(SafetensorsErrors, Overlap) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
  EXPECT_TRUE(fails_with(make_file(header, std::string(12, 'x')), "tensor 'b': bytes [4, 12) overlap tensor 'a'"));
}
TEST(SafetensorsErrors, HoleBetweenTensors) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
  EXPECT_TRUE(fails_with(make_file(header, std::string(12, 'x')), "tensor 'b': hole in the data section: bytes [4, 8)"));
}
TEST(SafetensorsErrors, HoleAtStart) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}"), "tensor 'w': hole in the data section: bytes [0, 4)"));
}
TEST(SafetensorsErrors, TrailingBytes) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"), "hole in the data section: bytes [4, 8) after the last tensor"));
}
TEST(SafetensorsErrors, DuplicateTensorName) {
  const std::string header =
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
  EXPECT_TRUE(fails_with(make_file(header, std::string(8, 'x')), "duplicate tensor name 'w'"));
}
TEST(SafetensorsErrors, DuplicateKeyInsideEntry) {
  EXPECT_TRUE(fails_with(one_tensor("{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"), "duplicate key 'dtype'"));
}
TEST(SafetensorsErrors, EmptyTensorName) {
  EXPECT_TRUE(fails_with(make_file("{\"\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", std::string(8, 'x')), "empty tensor name"));
}
TEST(SafetensorsErrors, MissingFile) {
  const auto result = read_safetensors("/nonexistent/model.safetensors");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), error_code::bad_input);
  EXPECT_NE(result.status().message().find("/nonexistent/model.safetensors"), std::string::npos);
}
TEST(SafetensorsErrors, FromMemoryNamesTheSource) {
  auto result = read_safetensors_from_memory(std::make_shared<owned_storage>(3), "buffer-7");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), error_code::bad_input);
  EXPECT_EQ(result.status().message().rfind("buffer-7: ", 0), 0u) << result.status().message();
}

TEST(SafetensorsWriteErrors, RejectsWhatTheFormatCannotHold) {
  temp_dir dir;
  const std::string path = (dir / "out.safetensors").string();
  tensor packed = tensor::allocate(dtype::u4, {4});
  tensor short_data = patterned(dtype::f32, {4}, 0);
  short_data.data.size = 12;
  tensor quantized = patterned(dtype::f32, {4}, 0);
  quantized.kind = encoding_kind::quantized;
  const std::pair<std::map<std::string, tensor>, std::string> cases[] = {
      {{{"p", packed}}, "tensor 'p': sub-byte dtype U4"},
      {{{"s", short_data}}, "tensor 's': holds 12 bytes, expected 16"},
      {{{"q", quantized}}, "tensor 'q': is quantized"},
      {{{"__metadata__", patterned(dtype::f32, {1}, 0)}}, "name is reserved"},
      {{{"\xff", patterned(dtype::f32, {1}, 0)}}, "must be UTF-8"},
  };
  for (const auto& [tensors, phrase] : cases) {
    const Status status = write_safetensors(path, tensors, {});
    EXPECT_EQ(status.code(), error_code::bad_input) << phrase;
    EXPECT_EQ(status.message().rfind(path, 0), 0u) << status.message();
    EXPECT_NE(status.message().find(phrase), std::string::npos) << status.message();
    EXPECT_FALSE(std::filesystem::exists(path)) << "a failed write must leave nothing behind";
  }
}

// --- sharded checkpoints -----------------------------------------------------------------------

struct sharded_fixture {
  temp_dir dir;
  std::string index = (dir / "model.safetensors.index.json").string();
  std::map<std::string, tensor> shard1{{"a", patterned(dtype::f32, {2, 2}, 1)}, {"b", patterned(dtype::bf16, {3}, 2)}};
  std::map<std::string, tensor> shard2{{"c", patterned(dtype::i64, {2}, 3)}};
  sharded_fixture() {
    EXPECT_TRUE(write_safetensors((dir / "model-00001-of-00002.safetensors").string(), shard1, {}).ok());
    EXPECT_TRUE(write_safetensors((dir / "model-00002-of-00002.safetensors").string(), shard2, {}).ok());
  }
  void write_index(const std::string& weight_map) {
    write_file(index, "{\"metadata\": {\"total_size\": 48, \"note\": \"x\"}, \"weight_map\": {" + weight_map + "}}");
  }
  static std::string standard_map() {
    return "\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\", "
           "\"c\": \"model-00002-of-00002.safetensors\"";
  }
  ::testing::AssertionResult fails_with(const std::string& expected_path, const std::string& phrase) {
    const auto result = read_safetensors_index(index);
    if (result.ok()) return ::testing::AssertionFailure() << "read succeeded";
    const std::string& message = result.status().message();
    if (result.status().code() != error_code::bad_input) return ::testing::AssertionFailure() << "wrong code: " << message;
    if (message.rfind(expected_path, 0) != 0) return ::testing::AssertionFailure() << "does not start with " << expected_path << ": " << message;
    if (message.find(phrase) == std::string::npos) return ::testing::AssertionFailure() << "lacks '" << phrase << "': " << message;
    return ::testing::AssertionSuccess();
  }
};

TEST(SafetensorsIndex, ReadsTwoShards) {
  sharded_fixture f;
  f.write_index(sharded_fixture::standard_map());
  auto set = read_safetensors_index(f.index);
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->tensors.size(), 3u);
  for (const auto* shard : {&f.shard1, &f.shard2})
    for (const auto& [name, t] : *shard) {
      EXPECT_EQ(set->tensors.at(name).type, t.type);
      EXPECT_EQ(set->tensors.at(name).shape, t.shape);
      EXPECT_EQ(bytes_of(set->tensors.at(name)), bytes_of(t));
    }
  EXPECT_EQ(set->files, (std::vector<std::string>{(f.dir / "model-00001-of-00002.safetensors").string(),
                                                  (f.dir / "model-00002-of-00002.safetensors").string()}));
  EXPECT_EQ(set->metadata, (std::map<std::string, std::string>{{"note", "x"}, {"total_size", "48"}}));
}

TEST(SafetensorsIndex, ShardNameWithSlash) {
  sharded_fixture f;
  f.write_index("\"a\": \"sub/model.safetensors\"");
  EXPECT_TRUE(f.fails_with(f.index, "tensor 'a': shard file name 'sub/model.safetensors' must be a plain file name"));
}
TEST(SafetensorsIndex, ShardNameAbsolute) {
  sharded_fixture f;
  f.write_index("\"a\": \"/etc/passwd\"");
  EXPECT_TRUE(f.fails_with(f.index, "must be a plain file name"));
}
TEST(SafetensorsIndex, ShardNameDotDot) {
  sharded_fixture f;
  f.write_index("\"a\": \"..\"");
  EXPECT_TRUE(f.fails_with(f.index, "must not contain '..'"));
}
TEST(SafetensorsIndex, ListedTensorMissingFromShard) {
  sharded_fixture f;
  f.write_index(sharded_fixture::standard_map() + ", \"z\": \"model-00002-of-00002.safetensors\"");
  EXPECT_TRUE(f.fails_with(f.index, "tensor 'z': listed in weight_map but missing from shard 'model-00002-of-00002.safetensors'"));
}
TEST(SafetensorsIndex, TensorInShardButNotListed) {
  sharded_fixture f;
  f.write_index("\"a\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\"");
  EXPECT_TRUE(f.fails_with((f.dir / "model-00001-of-00002.safetensors").string(), "tensor 'b': present in the shard but not listed"));
}
TEST(SafetensorsIndex, TensorInTheWrongShard) {
  sharded_fixture f;
  f.write_index("\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\", "
                "\"c\": \"model-00001-of-00002.safetensors\", \"x\": \"model-00002-of-00002.safetensors\"");
  EXPECT_TRUE(f.fails_with((f.dir / "model-00002-of-00002.safetensors").string(), "tensor 'c': present in this shard but the weight_map"));
}
TEST(SafetensorsIndex, DuplicateAcrossShards) {
  sharded_fixture f;
  ASSERT_TRUE(write_safetensors((f.dir / "model-00002-of-00002.safetensors").string(), {{"a", patterned(dtype::f32, {1}, 0)}, {"c", f.shard2["c"]}}, {}).ok());
  f.write_index(sharded_fixture::standard_map());
  EXPECT_TRUE(f.fails_with(f.index, "tensor 'a': duplicate tensor, present in shards 'model-00001-of-00002.safetensors' and 'model-00002-of-00002.safetensors'"));
}
TEST(SafetensorsIndex, DuplicateInWeightMap) {
  sharded_fixture f;
  f.write_index(sharded_fixture::standard_map() + ", \"a\": \"model-00002-of-00002.safetensors\"");
  EXPECT_TRUE(f.fails_with(f.index, "duplicate key 'a'"));
}
TEST(SafetensorsIndex, MissingWeightMap) {
  sharded_fixture f;
  write_file(f.index, "{\"metadata\": {}}");
  EXPECT_TRUE(f.fails_with(f.index, "missing 'weight_map'"));
}
TEST(SafetensorsIndex, WeightMapValueNotString) {
  sharded_fixture f;
  f.write_index("\"a\": 1");
  EXPECT_TRUE(f.fails_with(f.index, "tensor 'a': weight_map value must be a shard file name"));
}
TEST(SafetensorsIndex, MissingShardFile) {
  sharded_fixture f;
  f.write_index("\"a\": \"model-00003-of-00002.safetensors\"");
  EXPECT_TRUE(f.fails_with((f.dir / "model-00003-of-00002.safetensors").string(), "cannot open"));
}
TEST(SafetensorsIndex, CorruptShardNamesTheShard) {
  sharded_fixture f;
  write_file(f.dir / "model-00002-of-00002.safetensors", "xx");
  f.write_index(sharded_fixture::standard_map());
  EXPECT_TRUE(f.fails_with((f.dir / "model-00002-of-00002.safetensors").string(), "shorter than the 8-byte header length"));
}
TEST(SafetensorsIndex, IndexNotJson) {
  sharded_fixture f;
  write_file(f.index, "{\"weight_map\": ");
  EXPECT_TRUE(f.fails_with(f.index, "not valid JSON"));
}

// --- real checkpoint ---------------------------------------------------------------------------

TEST(SafetensorsReal, Stories260K) {
  EP_REQUIRE_SHARED();
  const auto path = testing::shared_dir() / "models/stories260K-hf/model.safetensors";
  auto file = read_safetensors(path.string());
  ASSERT_TRUE(file.ok()) << file.status().message();
  // 5 layers x 9 weights + embedding + final norm; the lm_head is tied to the embedding.
  EXPECT_EQ(file->tensors.size(), 47u);
  EXPECT_EQ(file->metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  const tensor& embed = file->tensors.at("model.embed_tokens.weight");
  EXPECT_EQ(embed.type, dtype::f32);
  EXPECT_EQ(embed.shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(embed.data.owner.get(), file->file.get());  // zero-copy
  EXPECT_EQ(file->tensors.at("model.layers.4.mlp.down_proj.weight").shape, (std::vector<int64_t>{64, 172}));
  uint64_t total = 0;
  for (const auto& [name, t] : file->tensors) total += t.data.size;
  EXPECT_EQ(total + 8 + 4856, file->file->size());
}

}  // namespace
}  // namespace edgepack

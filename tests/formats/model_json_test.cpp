// JSON form of the IR: exact round trips (doubles bit for bit, byte strings, type tags) and
// error messages that name the JSON path of the bad field.
#include <cstring>
#include <limits>
#include <random>

#include "formats/model_json.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

// Through text, as in a file: dump then parse.
ojson through_text(const ojson& j) { return ojson::parse(j.dump()); }

TEST(ModelJson, RandomDoublesRoundTripBitExactly) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    if (i % 4 == 0) bits &= 0x800FFFFFFFFFFFFFull;  // subnormals
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (std::isnan(value)) continue;
    auto back = json_to_double(through_text(double_to_json(value)), "x");
    ASSERT_TRUE(back.ok());
    uint64_t back_bits;
    std::memcpy(&back_bits, &*back, sizeof back_bits);
    ASSERT_EQ(bits, back_bits) << value;
  }
}

TEST(ModelJson, NonFiniteDoublesUseNamedStrings) {
  EXPECT_EQ(double_to_json(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(double_to_json(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(double_to_json(std::nan("")), "NaN");
  EXPECT_TRUE(std::isnan(*json_to_double(ojson("NaN"), "x")));
  EXPECT_FALSE(json_to_double(ojson("nan"), "x").ok());
}

TEST(ModelJson, AttributeTypeTagsKeepIntAndFloatApart) {
  const attribute_value one_int = int64_t{1};
  const attribute_value one_float = 1.0;
  EXPECT_EQ(attribute_to_json(one_int).dump(), R"({"type":"int","value":1})");
  EXPECT_EQ(attribute_to_json(one_float).dump(), R"({"type":"float","value":1.0})");
  for (const attribute_value& v : {one_int, one_float, attribute_value(std::string("s")),
                                   attribute_value(std::vector<int64_t>{1, -2}), attribute_value(std::vector<double>{0.5})}) {
    auto back = attribute_from_json(through_text(attribute_to_json(v)), "a");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, v);
  }
}

TEST(ModelJson, ByteStringsFallBackToHex) {
  EXPECT_EQ(bytes_to_json("\xe2\x96\x81hi"), "\xe2\x96\x81hi");
  EXPECT_EQ(bytes_to_json(std::string("\xff\x00", 2)).dump(), R"({"hex":"ff00"})");
  EXPECT_EQ(bytes_to_json("\xed\xa0\x80").dump(), R"({"hex":"eda080"})");  // UTF-16 surrogate
  EXPECT_EQ(bytes_to_json("\xc0\x80").dump(), R"({"hex":"c080"})");        // overlong NUL
  EXPECT_EQ(*bytes_from_json(ojson::parse(R"({"hex":"C3A9"})"), "p"), "\xc3\xa9");
  auto odd = bytes_from_json(ojson::parse(R"({"hex":"abc"})"), "vocabulary.pieces[9]");
  EXPECT_EQ(odd.status().message(), "vocabulary.pieces[9].hex: odd number of hex digits");
}

TEST(ModelJson, ErrorsNameTheJsonPath) {
  auto n = ojson::parse(R"({"name":"n","op_type":"Op","domain":"","inputs":[],"outputs":["y"],
                            "attributes":{"epsilon":{"type":"float","value":true}}})");
  auto parsed = node_from_json(n, "graph.nodes[3]");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), error_code::bad_input);
  EXPECT_EQ(parsed.status().message(), "graph.nodes[3].attributes.epsilon.value: expected number");

  n["attributes"]["epsilon"] = {{"type", "tensor"}, {"value", 1}};
  EXPECT_EQ(node_from_json(n, "graph.nodes[3]").status().message(),
            "graph.nodes[3].attributes.epsilon.type: unknown attribute type 'tensor' (expected int, float, string, ints, floats or graph)");
  n.erase("attributes");
  EXPECT_EQ(node_from_json(n, "graph.nodes[3]").status().message(), "graph.nodes[3].attributes: missing");
  n["attributes"] = ojson::object();
  n["inputs"] = {"a", 5};
  EXPECT_EQ(node_from_json(n, "graph.nodes[3]").status().message(), "graph.nodes[3].inputs[1]: expected string");

  auto info = ojson::parse(R"({"name":"x","dtype":"F33","shape":[]})");
  EXPECT_EQ(value_info_from_json(info, "graph.inputs[0]").status().message(), "graph.inputs[0].dtype: unknown dtype 'F33'");
  info = ojson::parse(R"({"name":"x","dtype":"F32","shape":[1,-2]})");
  EXPECT_EQ(value_info_from_json(info, "graph.inputs[0]").status().message(),
            "graph.inputs[0].shape[1]: expected non-negative integer");
  EXPECT_EQ(json_to_int(ojson::parse("18446744073709551615"), "a.b").status().message(),
            "a.b: integer 18446744073709551615 is out of range");
  EXPECT_EQ(json_to_int(ojson(1.5), "a.b").status().message(), "a.b: expected integer");
}

TEST(ModelJson, ValueInfoDims) {
  value_info v{"x", dtype::bf16, {{3, ""}, {-1, "seq"}, {-1, ""}}};
  const ojson j = value_info_to_json(v);
  EXPECT_EQ(j.dump(), R"({"name":"x","dtype":"BF16","shape":[3,"seq",null]})");
  auto back = value_info_from_json(through_text(j), "v");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape[0].value, 3);
  EXPECT_EQ(back->shape[1].symbol, "seq");
  EXPECT_EQ(back->shape[2].value, -1);
  EXPECT_EQ(back->shape[2].symbol, "");
}

TEST(ModelJson, VocabularyScoreCountMustMatch) {
  auto j = ojson::parse(R"({"bos_id":1,"eos_id":2,"pieces":["a","b"],"scores":[0.5]})");
  EXPECT_EQ(vocabulary_from_json(j, "vocabulary").status().message(), "vocabulary.scores: 1 scores for 2 pieces");
}

TEST(ModelJson, NestingDepthScanIgnoresBracketsInStrings) {
  EXPECT_EQ(json_nesting_depth(R"({"a":[[1]],"b":"[[[[[[\"[["})"), 3u);
  EXPECT_EQ(json_nesting_depth("1"), 0u);
}

}  // namespace
}  // namespace edgepack

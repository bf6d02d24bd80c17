// Default weight selection and matrix views (passes/weight_selection.h) on small hand-built graphs:
// one case per reader kind, plus shared weights, disagreeing readers, the tiny-tensor threshold
// and --include/--exclude.
#include <gtest/gtest.h>

#include "passes/quantize_rtn.h"
#include "passes/weight_selection.h"
#include "tests/passes/graph_test_util.h"

namespace edgepack {
namespace {

using graph_test::make_node;

void add_weight(graph& g, const std::string& name, std::vector<int64_t> shape, dtype type = dtype::f32) {
  tensor t = tensor::allocate(type, std::move(shape));
  if (type == dtype::f32) {
    float* p = t.mutable_data_as<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>((i * 37) % 101) / 101.0f - 0.5f;
  }
  g.weights[name] = std::move(t);
}

std::map<std::string, selected_weight> select(const graph& g, weight_selection_options options = {}) {
  auto selected = select_weights(g, options);
  EXPECT_TRUE(selected.ok()) << selected.status().message();
  std::map<std::string, selected_weight> by_name;
  if (selected.ok())
    for (const auto& s : *selected) by_name[s.name] = s;
  return by_name;
}

const weight_view default_view{};
const weight_view transposed_view{-1, true};
const weight_view channels_view{1, false};

TEST(WeightSelection, GemmTransBVariants) {
  graph g;
  add_weight(g, "b_t1", {64, 32});
  add_weight(g, "b_t0", {32, 64});
  add_weight(g, "a_weight", {64, 32});
  add_weight(g, "bias", {64, 32});
  g.nodes.push_back(make_node("Gemm", {"x", "b_t1"}, "y1", {{"transB", int64_t{1}}}));
  g.nodes.push_back(make_node("Gemm", {"x", "b_t0"}, "y2"));
  g.nodes.push_back(make_node("Gemm", {"a_weight", "x", "bias"}, "y3", {{"transB", int64_t{1}}}));
  const auto s = select(g);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at("b_t1").view, default_view);
  EXPECT_EQ(s.at("b_t1").reader, "Gemm transB=1");
  EXPECT_EQ(s.at("b_t0").view, transposed_view);
  EXPECT_FALSE(s.count("a_weight"));  // Gemm A stays float
  EXPECT_FALSE(s.count("bias"));      // Gemm C stays float
}

TEST(WeightSelection, MatMulTwoDimensionalBIsTransposedBatchedStaysFloat) {
  graph g;
  add_weight(g, "w2", {48, 40});
  add_weight(g, "w3", {4, 48, 40});
  add_weight(g, "a_side", {40, 48});
  g.nodes.push_back(make_node("MatMul", {"x", "w2"}, "y"));
  g.nodes.push_back(make_node("MatMul", {"x", "w3"}, "z"));
  g.nodes.push_back(make_node("MatMul", {"a_side", "x"}, "u"));
  const auto s = select(g);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.at("w2").view, transposed_view);
}

TEST(WeightSelection, ConvAndConvTransposeGroupOverChannelsAndTaps) {
  graph g;
  add_weight(g, "conv_w", {16, 8, 3, 3});
  add_weight(g, "conv_b", {2048});
  add_weight(g, "conv1d_w", {32, 16, 5});
  add_weight(g, "deconv_w", {64, 8, 2, 2});
  g.nodes.push_back(make_node("Conv", {"x", "conv_w", "conv_b"}, "y"));
  g.nodes.push_back(make_node("Conv", {"s", "conv1d_w"}, "t"));
  g.nodes.push_back(make_node("ConvTranspose", {"y", "deconv_w"}, "z"));
  const auto s = select(g);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.at("conv_w").view, channels_view);
  EXPECT_EQ(s.at("conv1d_w").view, channels_view);
  EXPECT_EQ(s.at("deconv_w").view, channels_view);
  EXPECT_EQ(s.at("deconv_w").reader, "ConvTranspose");
  EXPECT_FALSE(s.count("conv_b"));  // biases stay float
  const quant_encoding enc = encoding_for(quant_encoding{}, s.at("conv_w").view);
  EXPECT_EQ(quant_view_of({16, 8, 3, 3}, enc).cols, 72);
  EXPECT_EQ(weight_view_text({16, 8, 3, 3}, enc), "cols: dims 1-3");
}

TEST(WeightSelection, RecurrentWeightsUseDefaultViewBiasesStayFloat) {
  for (const std::string op : {"LSTM", "GRU"}) {
    graph g;
    const int64_t gates = op == "LSTM" ? 4 : 3;
    add_weight(g, "W", {1, gates * 32, 24});
    add_weight(g, "R", {1, gates * 32, 32});
    add_weight(g, "B", {1, 2 * gates * 32 * 8});
    g.nodes.push_back(make_node(op, {"x", "W", "R", "B"}, "y"));
    const auto s = select(g);
    ASSERT_EQ(s.size(), 2u) << op;
    EXPECT_EQ(s.at("W").view, default_view);
    EXPECT_EQ(s.at("R").view, default_view);
    EXPECT_EQ(s.at("R").reader, op + " R");
  }
}

TEST(WeightSelection, SharedWeightNeedsOneAgreeingLayout) {
  graph g;
  add_weight(g, "agree", {64, 64});
  add_weight(g, "disagree", {64, 64});
  add_weight(g, "tied", {64, 64});
  g.nodes.push_back(make_node("MatMul", {"x", "agree"}, "a1"));
  g.nodes.push_back(make_node("Gemm", {"x", "agree"}, "a2"));  // transB = 0: transposed as well
  g.nodes.push_back(make_node("MatMul", {"x", "disagree"}, "d1"));
  g.nodes.push_back(make_node("Gemm", {"x", "disagree"}, "d2", {{"transB", int64_t{1}}}));
  g.nodes.push_back(make_node("Gemm", {"x", "tied"}, "t1", {{"transB", int64_t{1}}}));
  g.nodes.push_back(make_node("Gather", {"tied", "ids"}, "t2"));
  const auto s = select(g);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.at("agree").view, transposed_view);
  EXPECT_EQ(s.at("agree").reader, "MatMul, Gemm transB=0");
}

TEST(WeightSelection, TinyTensorThreshold) {
  graph g;
  add_weight(g, "small", {8, 1, 5, 5});   // 200 elements
  add_weight(g, "edge", {32, 32});        // exactly 1024
  add_weight(g, "below", {31, 33});       // 1023
  g.nodes.push_back(make_node("Conv", {"x", "small"}, "y"));
  g.nodes.push_back(make_node("MatMul", {"x", "edge"}, "z"));
  g.nodes.push_back(make_node("MatMul", {"x", "below"}, "u"));
  auto s = select(g);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s.count("edge"));
  weight_selection_options all;
  all.min_elements = 0;
  EXPECT_EQ(select(g, all).size(), 3u);
  weight_selection_options include_small;
  include_small.include_regex = "^small$";
  s = select(g, include_small);  // --include overrides the threshold, keeping the reader's view
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at("small").view, channels_view);
}

TEST(WeightSelection, IncludeAndExclude) {
  graph g;
  add_weight(g, "embed", {64, 32});
  add_weight(g, "norm", {64});
  add_weight(g, "cube", {4, 16, 16});
  add_weight(g, "linear", {64, 32});
  add_weight(g, "ids", {64, 32}, dtype::i64);
  g.nodes.push_back(make_node("Gather", {"embed", "i"}, "e"));
  g.nodes.push_back(make_node("Mul", {"e", "norm"}, "n"));
  g.nodes.push_back(make_node("Add", {"n", "cube"}, "c"));
  g.nodes.push_back(make_node("Gemm", {"c", "linear"}, "y", {{"transB", int64_t{1}}}));
  weight_selection_options options;
  options.include_regex = "embed";
  auto s = select(g, options);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at("embed").view, default_view);  // 2-D without a GEMM reader: default view
  EXPECT_EQ(s.at("embed").reader, "--include");
  options.exclude_regex = "lin";
  s = select(g, options);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s.count("embed"));

  options = {};
  options.include_regex = "^norm$";
  auto bad = select_weights(g, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), error_code::bad_usage);
  EXPECT_NE(bad.status().message().find("--include matches 'norm' (shape rank 1), which no MatMul, Gemm"), std::string::npos)
      << bad.status().message();
  options.include_regex = "cube";
  EXPECT_FALSE(select_weights(g, options).ok());
  options.include_regex = "ids";
  bad = select_weights(g, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("which is not a dense float weight"), std::string::npos);
  options.include_regex = "(";
  EXPECT_FALSE(select_weights(g, options).ok());
}

TEST(WeightSelection, UnreadAndNonOnnxDomainWeightsStayFloat) {
  graph g;
  add_weight(g, "unread", {64, 64});
  add_weight(g, "custom", {64, 64});
  node n = make_node("MatMul", {"x", "custom"}, "y");
  n.domain = "com.example";
  g.nodes.push_back(n);
  EXPECT_TRUE(select(g).empty());
}

// The pass applies each weight's view: a Conv weight comes out with col_axis 1 and per output
// channel scales at w8; a MatMul B comes out transposed.
TEST(WeightSelection, PassAppliesViewsToTheScheme) {
  model m;
  add_weight(m.g, "conv_w", {16, 8, 3, 3});
  add_weight(m.g, "mm_w", {72, 40});
  m.g.nodes.push_back(make_node("Conv", {"x", "conv_w"}, "y"));
  m.g.nodes.push_back(make_node("MatMul", {"y", "mm_w"}, "z"));
  quantize_rtn_options options;
  options.encoding.bits = 8;
  options.encoding.group_size = 0;
  options.threads = 1;
  auto result = quantize_rtn(m, options);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const tensor& conv = result->out.g.weights.at("conv_w");
  ASSERT_TRUE(conv.is_quantized());
  EXPECT_EQ(conv.quant.col_axis, 1);
  EXPECT_EQ(conv.scales.size, 16u * 2u);  // one f16 scale per output channel
  const tensor& mm = result->out.g.weights.at("mm_w");
  ASSERT_TRUE(mm.is_quantized());
  EXPECT_TRUE(mm.quant.transposed);
  EXPECT_EQ(mm.scales.size, 40u * 2u);  // one per output column N
  auto decoded = to_float_vector(mm);
  ASSERT_TRUE(decoded.ok());
  const float* original = m.g.weights.at("mm_w").data_as<float>();
  for (size_t i = 0; i < decoded->size(); ++i) EXPECT_NEAR((*decoded)[i], original[i], 0.01f) << i;
}

}  // namespace
}  // namespace edgepack

namespace edgepack {
namespace {

// Weights read inside If/Loop bodies (hoisted to the top-level table by the reader) are found
// through the bodies, at any depth, and a read outside a GEMM anywhere keeps them float.
TEST(WeightSelection, ReadsInsideSubgraphsCount) {
  auto inner = std::make_shared<graph>();
  inner->nodes.push_back(make_node("LSTM", {"x", "lstm_w", "lstm_r"}, "h"));
  inner->outputs.push_back({"h", dtype::f32, {}});
  auto outer_branch = std::make_shared<graph>();
  outer_branch->nodes.push_back(make_node("If", {"c"}, "h2", {{"then_branch", std::shared_ptr<const graph>(inner)}, {"else_branch", std::shared_ptr<const graph>(inner)}}));
  outer_branch->nodes.push_back(make_node("Reshape", {"shared_w", "shape"}, "r"));
  outer_branch->outputs.push_back({"h2", dtype::f32, {}});
  graph g;
  add_weight(g, "lstm_w", {1, 256, 64});
  add_weight(g, "lstm_r", {1, 256, 64});
  add_weight(g, "shared_w", {64, 64});
  g.nodes.push_back(make_node("MatMul", {"x", "shared_w"}, "y"));
  g.nodes.push_back(make_node("If", {"c"}, "z", {{"then_branch", std::shared_ptr<const graph>(outer_branch)}, {"else_branch", std::shared_ptr<const graph>(outer_branch)}}));
  const auto s = select(g);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at("lstm_w").view, default_view);
  EXPECT_EQ(s.at("lstm_r").view, default_view);
  EXPECT_FALSE(s.count("shared_w"));  // also read by a Reshape inside a branch
}

}  // namespace
}  // namespace edgepack

// If/Loop subgraphs: the ONNX reader (outer-scope reads, nested If in Loop, Constants and
// initializers inside bodies), their errors, and the .epk / graph JSON round trip.
#include <gtest/gtest.h>

#include "formats/epk.h"
#include "formats/model_json.h"
#include "runtime_ref/interpreter.h"
#include "tests/formats/onnx_test_model.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

using namespace onnx_test;
using testing::temp_dir;

onnx::GraphProto* add_graph_attr(onnx::NodeProto* n, const std::string& key) {
  auto* a = n->add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::GRAPH);
  auto* g = a->mutable_g();
  g->set_name(key);
  return g;
}

void add_constant_f32(onnx::GraphProto* g, const std::string& out, std::vector<int64_t> dims, std::vector<float> values) {
  auto* n = add_node(g, "Constant", {}, {out});
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(T::FLOAT);
  for (auto d : dims) t->add_dims(d);
  for (auto v : values) t->add_float_data(v);
}

// y = If(cond) then x + w (w: branch initializer) else x * k (k: branch Constant).
onnx::ModelProto if_model() {
  auto mp = base_model();
  auto* g = mp.mutable_graph();
  add_value(g->mutable_input(), "cond", T::BOOL, {});
  add_value(g->mutable_input(), "x", T::FLOAT, {"3"});
  add_value(g->mutable_output(), "y", T::FLOAT, {"3"});
  auto* n = add_node(g, "If", {"cond"}, {"y"}, "choose");
  auto* then_g = add_graph_attr(n, "then_branch");
  add_f32(then_g, "w", {3}, {1, 2, 3});
  add_node(then_g, "Add", {"x", "w"}, {"t"}, "then_add");
  add_value(then_g->mutable_output(), "t", T::FLOAT, {"3"});
  auto* else_g = add_graph_attr(n, "else_branch");
  add_constant_f32(else_g, "k", {}, {3});
  add_node(else_g, "Mul", {"x", "k"}, {"e"}, "else_mul");
  add_value(else_g->mutable_output(), "e", T::FLOAT, {"3"});
  return mp;
}

tensor bool_scalar(bool v) {
  tensor t = tensor::allocate(dtype::boolean, {});
  t.mutable_data_as<uint8_t>()[0] = v ? 1 : 0;
  return t;
}

std::vector<float> run_if(const graph& g, bool cond) {
  auto interp = interpreter::create(g);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return {};
  auto out = interp->run({{"cond", bool_scalar(cond)}, {"x", tensor::from_values<float>(dtype::f32, {3}, std::vector<float>{1, 1, 2})}});
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  return values_of<float>(out->at("y"));
}

TEST(OnnxSubgraph, IfWithOuterScopeAndBranchWeights) {
  auto m = parse(if_model());
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->g.nodes.size(), 1u);
  const graph* then_g = m->g.nodes[0].graph_attr("then_branch");
  ASSERT_NE(then_g, nullptr);
  EXPECT_TRUE(then_g->weights.empty());
  EXPECT_TRUE(m->g.weights.count("w"));  // hoisted initializer
  EXPECT_TRUE(m->g.weights.count("k"));  // hoisted Constant
  EXPECT_EQ(run_if(m->g, true), (std::vector<float>{2, 3, 5}));
  EXPECT_EQ(run_if(m->g, false), (std::vector<float>{3, 3, 6}));
}

// Loop(M, "", s) with body (i, c, s) -> (c, s + x * float(i) if i == 2 else s + 1, scan), x outer.
onnx::ModelProto loop_model() {
  auto mp = base_model();
  auto* g = mp.mutable_graph();
  add_value(g->mutable_input(), "m", T::INT64, {});
  add_value(g->mutable_input(), "x", T::FLOAT, {"1"});
  add_value(g->mutable_input(), "s0", T::FLOAT, {"1"});
  add_value(g->mutable_output(), "s_final", T::FLOAT, {"1"});
  add_value(g->mutable_output(), "s_all", T::FLOAT, {"?", "1"});
  auto* loop = add_node(g, "Loop", {"m", "", "s0"}, {"s_final", "s_all"}, "loop");
  auto* body = add_graph_attr(loop, "body");
  add_value(body->mutable_input(), "i", T::INT64, {});
  add_value(body->mutable_input(), "c", T::BOOL, {});
  add_value(body->mutable_input(), "s", T::FLOAT, {"1"});
  auto* two = body->add_initializer();
  two->set_name("two");
  two->set_data_type(T::INT64);
  two->add_int64_data(2);
  add_node(body, "Equal", {"i", "two"}, {"is_two"}, "is_two");
  auto* inner = add_node(body, "If", {"is_two"}, {"s_next"}, "inner");
  auto* then_g = add_graph_attr(inner, "then_branch");
  add_node(then_g, "Add", {"s", "x"}, {"s_plus_x"}, "plus_x");
  add_value(then_g->mutable_output(), "s_plus_x", T::FLOAT, {"1"});
  auto* else_g = add_graph_attr(inner, "else_branch");
  add_constant_f32(else_g, "one", {1}, {1});
  add_node(else_g, "Add", {"s", "one"}, {"s_plus_1"}, "plus_1");
  add_value(else_g->mutable_output(), "s_plus_1", T::FLOAT, {"1"});
  add_node(body, "Identity", {"c"}, {"c_out"}, "keep_cond");
  add_node(body, "Identity", {"s_next"}, {"scan"}, "scan");
  add_value(body->mutable_output(), "c_out", T::BOOL, {});
  add_value(body->mutable_output(), "s_next", T::FLOAT, {"1"});
  add_value(body->mutable_output(), "scan", T::FLOAT, {"1"});
  return mp;
}

TEST(OnnxSubgraph, LoopWithNestedIfReadsTwoScopesOut) {
  auto m = parse(loop_model());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto interp = interpreter::create(m->g);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto out = interp->run({{"m", tensor::from_values<int64_t>(dtype::i64, {}, std::vector<int64_t>{4})},
                          {"x", tensor::from_values<float>(dtype::f32, {1}, std::vector<float>{10})},
                          {"s0", tensor::from_values<float>(dtype::f32, {1}, std::vector<float>{0})}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  // i=0: 1, i=1: 2, i=2: 12, i=3: 13.
  EXPECT_EQ(values_of<float>(out->at("s_final")), (std::vector<float>{13}));
  EXPECT_EQ(out->at("s_all").shape, (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(values_of<float>(out->at("s_all")), (std::vector<float>{1, 2, 12, 13}));
}

TEST(OnnxSubgraph, MissingElseBranch) {
  auto mp = if_model();
  auto* attrs = mp.mutable_graph()->mutable_node(0)->mutable_attribute();
  attrs->RemoveLast();
  expect_bad(parse(mp), "node 'choose' (If): has no subgraph attribute 'else_branch'");
}

TEST(OnnxSubgraph, BranchOutputCountMismatch) {
  auto mp = if_model();
  auto* else_g = mp.mutable_graph()->mutable_node(0)->mutable_attribute(1)->mutable_g();
  add_value(else_g->mutable_output(), "x", T::FLOAT, {"3"});
  expect_bad(parse(mp), "node 'choose' (If): else_branch has 2 outputs, the node has 1");
}

TEST(OnnxSubgraph, BranchReadsUnknownValue) {
  auto mp = if_model();
  mp.mutable_graph()->mutable_node(0)->mutable_attribute(0)->mutable_g()->mutable_node(0)->set_input(0, "nope");
  expect_bad(parse(mp), "node 'choose' (If) attribute 'then_branch': node 'then_add' (Add) reads 'nope', which nothing produces before it");
}

TEST(OnnxSubgraph, UnsupportedOpInsideBranchIsListedWithTopLevelOnes) {
  auto mp = loop_model();
  auto* loop = mp.mutable_graph()->mutable_node(0);
  auto* body = loop->mutable_attribute(0)->mutable_g();
  body->mutable_node(1)->mutable_attribute(1)->mutable_g()->mutable_node(1)->set_op_type("Gizmo");  // else_branch Add
  add_node(mp.mutable_graph(), "Widget", {"x"}, {"unused"}, "widget");
  auto m = parse(mp);
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto interp = interpreter::create(m->g);
  ASSERT_FALSE(interp.ok());
  EXPECT_EQ(interp.status().code(), error_code::bad_input);
  EXPECT_EQ(interp.status().message(), "unsupported operators: Gizmo (in 'loop'.body/'inner'.else_branch), Widget");
}

onnx::ModelProto nested_ifs(int levels) {
  auto mp = base_model();
  auto* g = mp.mutable_graph();
  add_value(g->mutable_input(), "cond", T::BOOL, {});
  add_value(g->mutable_input(), "x", T::FLOAT, {"3"});
  add_value(g->mutable_output(), "y", T::FLOAT, {"3"});
  onnx::GraphProto* scope = g;
  std::string out = "y";
  for (int level = 0; level < levels; ++level) {
    auto* n = add_node(scope, "If", {"cond"}, {out}, "if_" + std::to_string(level));
    auto* else_g = add_graph_attr(n, "else_branch");
    add_node(else_g, "Identity", {"x"}, {"e" + std::to_string(level)});
    add_value(else_g->mutable_output(), "e" + std::to_string(level), T::FLOAT, {"3"});
    scope = add_graph_attr(n, "then_branch");
    out = "t" + std::to_string(level);
    add_value(scope->mutable_output(), out, T::FLOAT, {"3"});
  }
  add_node(scope, "Identity", {"x"}, {out});
  return mp;
}

TEST(OnnxSubgraph, NestingDepthLimit) {
  auto ok = parse(nested_ifs(max_subgraph_depth));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(run_if(ok->g, true), (std::vector<float>{1, 1, 2}));
  expect_bad(parse(nested_ifs(max_subgraph_depth + 1)), "node 'if_16' (If) attribute 'else_branch': subgraphs nest deeper than 16 levels");
  auto deep = parse(nested_ifs(max_subgraph_depth + 1));
  EXPECT_EQ(deep.status().message().rfind("mem.onnx: node 'if_0' (If) attribute 'then_branch': ", 0), 0u) << deep.status().message();
}

TEST(OnnxSubgraph, CliRefusesTooDeepNestingWithExit3) {
  temp_dir dir;
  const std::string path = write_model(dir / "deep.onnx", nested_ifs(max_subgraph_depth + 1));
  const auto r = testing::run_cli({"inspect", path});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("node 'if_0' (If)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nest deeper than 16"), std::string::npos) << r.err;
}

TEST(OnnxSubgraph, EpkRoundTripKeepsIfRunnable) {
  auto m = parse(if_model());
  ASSERT_TRUE(m.ok()) << m.status().message();
  temp_dir dir;
  const std::string path = (dir / "if.epk").string();
  ASSERT_TRUE(write_epk(path, *m, {}).ok());
  auto back = read_epk(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(graph_to_json(back->g), graph_to_json(m->g));
  EXPECT_EQ(run_if(back->g, true), (std::vector<float>{2, 3, 5}));
  EXPECT_EQ(run_if(back->g, false), (std::vector<float>{3, 3, 6}));
}

TEST(OnnxSubgraph, EpkRoundTripLoop) {
  auto m = parse(loop_model());
  ASSERT_TRUE(m.ok()) << m.status().message();
  temp_dir dir;
  const std::string path = (dir / "loop.epk").string();
  ASSERT_TRUE(write_epk(path, *m, {}).ok());
  auto back = read_epk(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(graph_to_json(back->g), graph_to_json(m->g));
}

TEST(OnnxSubgraph, EpkWriterRefusesUnhoistedSubgraphWeights) {
  auto m = parse(if_model());
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto branch = std::make_shared<graph>(*m->g.nodes[0].graph_attr("then_branch"));
  branch->weights["w"] = m->g.weights.at("w");
  m->g.weights.erase("w");
  m->g.nodes[0].attributes["then_branch"] = std::shared_ptr<const graph>(branch);
  ASSERT_TRUE(m->g.validate().ok());
  temp_dir dir;
  Status s = write_epk((dir / "bad.epk").string(), *m, {});
  EXPECT_EQ(s.code(), error_code::bad_input);
  EXPECT_NE(s.message().find("graph.nodes[0].attributes.then_branch.value: subgraph of node 'choose' holds weights ('w')"), std::string::npos)
      << s.message();
}

TEST(OnnxSubgraph, GraphJsonErrors) {
  auto m = parse(if_model());
  ASSERT_TRUE(m.ok()) << m.status().message();
  ojson j = graph_to_json(m->g);
  EXPECT_EQ(j["nodes"][0]["attributes"]["then_branch"]["type"], "graph");
  ojson bad = j;
  bad["nodes"][0]["attributes"]["then_branch"]["value"] = 5;
  EXPECT_EQ(graph_from_json(bad, "graph").status().message(), "graph.nodes[0].attributes.then_branch.value: expected object");
  bad = j;
  bad["nodes"][0]["attributes"]["else_branch"]["value"]["nodes"][0]["inputs"] = ojson::array({1});
  EXPECT_EQ(graph_from_json(bad, "graph").status().message(),
            "graph.nodes[0].attributes.else_branch.value.nodes[0].inputs[0]: expected string");
  bad = j;
  bad["nodes"][0]["attributes"]["else_branch"]["value"].erase("outputs");
  EXPECT_EQ(graph_from_json(bad, "graph").status().code(), error_code::bad_input);
  // Too deep: wrap the then_branch in 16 more levels of If.
  ojson attr = j["nodes"][0]["attributes"]["then_branch"];
  for (int level = 0; level < max_subgraph_depth; ++level) {
    ojson wrapper = j["nodes"][0];
    wrapper["attributes"]["then_branch"] = attr;
    ojson sub = ojson::object();
    sub["inputs"] = ojson::array();
    sub["outputs"] = ojson::array();
    sub["nodes"] = ojson::array({wrapper});
    attr = ojson::object();
    attr["type"] = "graph";
    attr["value"] = sub;
  }
  bad = j;
  bad["nodes"][0]["attributes"]["then_branch"] = attr;
  auto parsed = graph_from_json(bad, "graph");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("subgraphs nest deeper than 16 levels"), std::string::npos) << parsed.status().message();
}

}  // namespace
}  // namespace edgepack

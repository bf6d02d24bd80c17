// If and Loop through the interpreter: hand-computed goldens on tiny graphs built in the IR,
// outer-scope reads, nested bodies, scan outputs, and the errors.
#include <gtest/gtest.h>

#include "runtime_ref/interpreter.h"
#include "tests/runtime_ref/kernel_test_util.h"

namespace edgepack {
namespace {

using testing::f32;
using testing::i64;
using testing::values_of;

value_info info(const std::string& name, dtype type, std::vector<int64_t> dims) {
  value_info v{name, type, {}};
  for (auto d : dims) v.shape.push_back({d, ""});
  return v;
}

node make_node(const std::string& name, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

tensor bool_tensor(bool v) {
  tensor t = tensor::allocate(dtype::boolean, {});
  t.mutable_data_as<uint8_t>()[0] = v ? 1 : 0;
  return t;
}

// y = If(cond) then x + a else x * b, with x from the outer scope and a, b weights of each branch.
graph if_graph(dtype cond_type) {
  auto then_branch = std::make_shared<graph>();
  then_branch->weights["a"] = f32({3}, {1, 2, 3});
  then_branch->nodes.push_back(make_node("add", "Add", {"x", "a"}, {"t"}));
  then_branch->outputs.push_back(info("t", dtype::f32, {3}));
  auto else_branch = std::make_shared<graph>();
  else_branch->weights["b"] = f32({3}, {2, 2, 2});
  else_branch->nodes.push_back(make_node("mul", "Mul", {"x", "b"}, {"e"}));
  else_branch->outputs.push_back(info("e", dtype::f32, {3}));
  graph g;
  g.inputs = {info("cond", cond_type, {}), info("x", dtype::f32, {3})};
  node n = make_node("if", "If", {"cond"}, {"y"});
  n.attributes["then_branch"] = std::shared_ptr<const graph>(then_branch);
  n.attributes["else_branch"] = std::shared_ptr<const graph>(else_branch);
  g.nodes.push_back(std::move(n));
  g.outputs.push_back(info("y", dtype::f32, {3}));
  return g;
}

std::vector<float> run_single(const graph& g, tensor_map inputs, const std::string& output) {
  auto interp = interpreter::create(g);
  EXPECT_TRUE(interp.ok()) << interp.status().message();
  if (!interp.ok()) return {};
  auto out = interp->run(inputs);
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  return values_of(out->at(output));
}

TEST(ControlFlow, IfPicksBranchWithOuterScope) {
  const graph g = if_graph(dtype::boolean);
  EXPECT_EQ(run_single(g, {{"cond", bool_tensor(true)}, {"x", f32({3}, {1, 1, 1})}}, "y"), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(run_single(g, {{"cond", bool_tensor(false)}, {"x", f32({3}, {1, 1, 1})}}, "y"), (std::vector<float>{2, 2, 2}));
}

TEST(ControlFlow, IfNumericConditions) {
  const graph gi = if_graph(dtype::i64);
  EXPECT_EQ(run_single(gi, {{"cond", i64({}, {7})}, {"x", f32({3}, {0, 0, 0})}}, "y"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(run_single(gi, {{"cond", i64({}, {0})}, {"x", f32({3}, {1, 2, 3})}}, "y"), (std::vector<float>{2, 4, 6}));
  const graph gf = if_graph(dtype::f32);
  EXPECT_EQ(run_single(gf, {{"cond", f32({}, {-0.0f})}, {"x", f32({3}, {1, 2, 3})}}, "y"), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(run_single(gf, {{"cond", f32({}, {0.5f})}, {"x", f32({3}, {1, 2, 3})}}, "y"), (std::vector<float>{2, 4, 6}));
}

TEST(ControlFlow, IfConditionMustBeOneElement) {
  graph g = if_graph(dtype::f32);
  g.inputs[0] = info("cond", dtype::f32, {2});
  auto interp = interpreter::create(g);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto out = interp->run({{"cond", f32({2}, {1, 1})}, {"x", f32({3}, {1, 1, 1})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), error_code::bad_input);
  EXPECT_NE(out.status().message().find("node 'if' (If): the condition must hold exactly one element"), std::string::npos)
      << out.status().message();
}

// Loop(M, cond, s) with body (i, c, s) -> (c, s + float(i) [+ x when i == 1], scan s'), x outer.
// Nested If inside the body reads x from two scopes out.
graph loop_graph() {
  auto then_branch = std::make_shared<graph>();
  then_branch->nodes.push_back(make_node("addx", "Add", {"s2", "x"}, {"s3_then"}));
  then_branch->outputs.push_back(info("s3_then", dtype::f32, {1}));
  auto else_branch = std::make_shared<graph>();
  else_branch->nodes.push_back(make_node("keep", "Identity", {"s2"}, {"s3_else"}));
  else_branch->outputs.push_back(info("s3_else", dtype::f32, {1}));
  auto body = std::make_shared<graph>();
  body->inputs = {info("i", dtype::i64, {}), info("c", dtype::boolean, {}), info("s", dtype::f32, {1})};
  body->weights["one"] = i64({}, {1});
  node cast = make_node("cast", "Cast", {"i"}, {"fi"});
  cast.attributes["to"] = int64_t{1};
  body->nodes.push_back(std::move(cast));
  body->nodes.push_back(make_node("acc", "Add", {"s", "fi"}, {"s2"}));
  body->nodes.push_back(make_node("is_one", "Equal", {"i", "one"}, {"eq"}));
  node inner = make_node("inner_if", "If", {"eq"}, {"s3"});
  inner.attributes["then_branch"] = std::shared_ptr<const graph>(then_branch);
  inner.attributes["else_branch"] = std::shared_ptr<const graph>(else_branch);
  body->nodes.push_back(std::move(inner));
  body->nodes.push_back(make_node("cond_out", "Identity", {"c"}, {"c_out"}));
  body->outputs = {info("c_out", dtype::boolean, {}), info("s3", dtype::f32, {1}), info("s3", dtype::f32, {1})};
  graph g;
  g.inputs = {info("m", dtype::i64, {}), info("x", dtype::f32, {1}), info("s0", dtype::f32, {1})};
  node loop = make_node("loop", "Loop", {"m", "", "s0"}, {"s_final", "s_scan"});
  loop.attributes["body"] = std::shared_ptr<const graph>(body);
  g.nodes.push_back(std::move(loop));
  g.outputs = {info("s_final", dtype::f32, {1}), info("s_scan", dtype::f32, {-1, 1})};
  return g;
}

TEST(ControlFlow, LoopCarriedScanAndNestedIf) {
  auto interp = interpreter::create(loop_graph());
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto out = interp->run({{"m", i64({}, {3})}, {"x", f32({1}, {10})}, {"s0", f32({1}, {0})}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  // i=0: 0 + 0 = 0; i=1: 0 + 1 + 10 = 11; i=2: 11 + 2 = 13.
  EXPECT_EQ(values_of(out->at("s_final")), (std::vector<float>{13}));
  EXPECT_EQ(out->at("s_scan").shape, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(values_of(out->at("s_scan")), (std::vector<float>{0, 11, 13}));
}

TEST(ControlFlow, LoopZeroIterations) {
  auto interp = interpreter::create(loop_graph());
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto out = interp->run({{"m", i64({}, {0})}, {"x", f32({1}, {10})}, {"s0", f32({1}, {5})}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(values_of(out->at("s_final")), (std::vector<float>{5}));
  EXPECT_EQ(out->at("s_scan").shape, (std::vector<int64_t>{0, 1}));
}

// while (s <= 10) s = s * 2, with no trip count: cond alone stops the loop.
TEST(ControlFlow, LoopConditionOnly) {
  auto body = std::make_shared<graph>();
  body->inputs = {info("i", dtype::i64, {}), info("c", dtype::boolean, {}), info("s", dtype::f32, {})};
  body->weights["two"] = f32({}, {2});
  body->weights["ten"] = f32({}, {10});
  body->nodes.push_back(make_node("double", "Mul", {"s", "two"}, {"s2"}));
  // cond_out = (Clip(s2, max 10) == s2), i.e. s2 <= 10.
  body->nodes.push_back(make_node("clip", "Clip", {"s2", "", "ten"}, {"clipped"}));
  body->nodes.push_back(make_node("cond", "Equal", {"clipped", "s2"}, {"c_out"}));
  body->outputs = {info("c_out", dtype::boolean, {}), info("s2", dtype::f32, {}), info("i", dtype::i64, {})};
  graph g;
  g.inputs = {info("s0", dtype::f32, {})};
  g.weights["go"] = bool_tensor(true);
  node loop = make_node("while", "Loop", {"", "go", "s0"}, {"s_final", "iterations"});
  loop.attributes["body"] = std::shared_ptr<const graph>(body);
  g.nodes.push_back(std::move(loop));
  g.outputs = {info("s_final", dtype::f32, {}), info("iterations", dtype::i64, {-1})};
  auto interp = interpreter::create(g);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto out = interp->run({{"s0", f32({}, {1})}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  // 1 -> 2 -> 4 -> 8 -> 16 (16 > 10 stops): 4 iterations, i = 0..3.
  EXPECT_EQ(values_of(out->at("s_final")), (std::vector<float>{16}));
  const tensor& its = out->at("iterations");
  ASSERT_EQ(its.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(std::vector<int64_t>(its.data_as<int64_t>(), its.data_as<int64_t>() + 4), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(ControlFlow, LoopWithoutTripCountOrCondition) {
  graph g = loop_graph();
  g.nodes[0].inputs[0] = "";
  auto interp = interpreter::create(g);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto out = interp->run({{"m", i64({}, {3})}, {"x", f32({1}, {10})}, {"s0", f32({1}, {0})}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("node 'loop' (Loop): has neither a trip count M nor a condition"), std::string::npos)
      << out.status().message();
}

TEST(ControlFlow, UnsupportedOpInsideBranchIsNamedWithItsPath) {
  graph g = loop_graph();
  auto body = std::make_shared<graph>(*g.nodes[0].graph_attr("body"));
  auto then_branch = std::make_shared<graph>(*body->nodes[3].graph_attr("then_branch"));
  then_branch->nodes[0].op_type = "Frobnicate";
  body->nodes[3].attributes["then_branch"] = std::shared_ptr<const graph>(then_branch);
  body->nodes[0].op_type = "Bogus";
  g.nodes[0].attributes["body"] = std::shared_ptr<const graph>(body);
  auto interp = interpreter::create(g);
  ASSERT_FALSE(interp.ok());
  EXPECT_EQ(interp.status().code(), error_code::bad_input);
  EXPECT_EQ(interp.status().message(),
            "unsupported operators: Bogus (in 'loop'.body), Frobnicate (in 'loop'.body/'inner_if'.then_branch)");
}

TEST(ControlFlow, KernelWithoutInterpreterFails) {
  const tensor cond = bool_tensor(true);
  auto r = testing::run_op("If", {&cond}, {});
  EXPECT_EQ(r.status.code(), error_code::bad_input);
  EXPECT_NE(r.status.message().find("needs the interpreter"), std::string::npos) << r.status.message();
}

TEST(ControlFlow, ValidateRejectsBadStructure) {
  graph g = if_graph(dtype::boolean);
  auto extra = std::make_shared<graph>(*g.nodes[0].graph_attr("else_branch"));
  extra->outputs.push_back(extra->outputs[0]);
  g.nodes[0].attributes["else_branch"] = std::shared_ptr<const graph>(extra);
  Status s = g.validate();
  EXPECT_EQ(s.code(), error_code::bad_input);
  EXPECT_EQ(s.message(), "node 'if' (If): else_branch has 2 outputs, the node has 1");

  graph h = if_graph(dtype::boolean);
  auto reads_later = std::make_shared<graph>(*h.nodes[0].graph_attr("then_branch"));
  reads_later->nodes[0].inputs[0] = "nowhere";
  h.nodes[0].attributes["then_branch"] = std::shared_ptr<const graph>(reads_later);
  s = h.validate();
  EXPECT_EQ(s.message(), "node 'if' (If) attribute 'then_branch': node 'add' (Add) reads 'nowhere', which nothing produces before it");
}

TEST(ControlFlow, HoistKeepsResultsAndRenamesClashes) {
  graph g = if_graph(dtype::boolean);
  // Both branches name their weight "k": the hoisted copies must stay distinct.
  auto t = std::make_shared<graph>(*g.nodes[0].graph_attr("then_branch"));
  auto e = std::make_shared<graph>(*g.nodes[0].graph_attr("else_branch"));
  t->weights = {{"k", f32({3}, {1, 2, 3})}};
  t->nodes[0].inputs[1] = "k";
  e->weights = {{"k", f32({3}, {2, 2, 2})}};
  e->nodes[0].inputs[1] = "k";
  g.nodes[0].attributes["then_branch"] = std::shared_ptr<const graph>(t);
  g.nodes[0].attributes["else_branch"] = std::shared_ptr<const graph>(e);
  ASSERT_TRUE(hoist_subgraph_weights(g).ok());
  EXPECT_EQ(g.weights.size(), 2u);
  EXPECT_TRUE(g.weights.count("k"));
  EXPECT_TRUE(g.weights.count("k__sg1"));
  EXPECT_TRUE(g.nodes[0].graph_attr("then_branch")->weights.empty());
  EXPECT_EQ(run_single(g, {{"cond", bool_tensor(true)}, {"x", f32({3}, {1, 1, 1})}}, "y"), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(run_single(g, {{"cond", bool_tensor(false)}, {"x", f32({3}, {1, 1, 1})}}, "y"), (std::vector<float>{2, 2, 2}));
}

}  // namespace
}  // namespace edgepack

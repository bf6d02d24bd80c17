// Opset upgrade rules (see the header; table in docs/export.md). Every rule is keyed by the op
// version the old opset resolves to and the version `target` resolves to.
#include "formats/onnx_opset_upgrade.h"

#include <cmath>
#include <set>

namespace edgepack {
namespace {

// Ops whose semantics did not change between opset 7 and 23 in anything a model read by the ONNX
// reader can use (later versions only add types or optional attributes with the old default).
const std::set<std::string>& unchanged_ops() {
  static const std::set<std::string> ops{
      "Add",       "Sub",          "Mul",        "Div",        "Sigmoid",          "Gather",        "Gemm",          "MatMul",
      "Reshape",   "Conv",         "MaxPool",    "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Relu",          "LeakyRelu",
      "HardSigmoid", "HardSwish",  "Tanh",       "Sqrt",       "Exp",              "Log",           "Reciprocal",    "Neg",
      "Abs",       "Pow",          "ConvTranspose", "Identity", "Shape",           "Flatten",       "Transpose",     "Concat",
      "Cast",      "Equal",        "Where",      "ConstantOfShape", "LSTM",        "Sin",           "Cos",           "Expand",
      "Range",     "Trilu",        "If",         "Loop",       "RMSNormalization", "RotaryEmbedding", "Attention"};
  return ops;
}

class upgrader {
 public:
  upgrader(graph& root, int64_t from, int64_t target) : root_(root), from_(from), target_(target) { collect_names(root); }

  Status run(graph& g) {
    std::vector<node> out;
    out.reserve(g.nodes.size());
    for (node& n : g.nodes) {
      if (!n.domain.empty()) {
        out.push_back(std::move(n));
        continue;
      }
      EP_RETURN_IF_ERROR(upgrade_node(n, out));
    }
    g.nodes = std::move(out);
    return Status::ok_status();
  }

 private:
  void collect_names(const graph& g) {
    for (const auto& [name, w] : g.weights) names_.insert(name);
    for (const auto& v : g.inputs) names_.insert(v.name);
    for (const auto& n : g.nodes) {
      names_.insert(n.name);
      for (const auto& o : n.outputs) names_.insert(o);
      for (const auto& [key, value] : n.attributes)
        if (const auto* body = std::get_if<std::shared_ptr<const graph>>(&value); body && *body) collect_names(**body);
    }
  }

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  std::string add_i64(const node& n, const std::string& what, const std::vector<int64_t>& values) {
    const std::string name = fresh(n.name + "." + what);
    root_.weights.emplace(name, tensor::from_values<int64_t>(dtype::i64, {static_cast<int64_t>(values.size())}, values));
    return name;
  }
  std::string add_f32_scalar(const node& n, const std::string& what, double value) {
    const std::string name = fresh(n.name + "." + what);
    const float v = static_cast<float>(value);
    root_.weights.emplace(name, tensor::from_values<float>(dtype::f32, {}, std::span<const float>(&v, 1)));
    return name;
  }

  Status refuse(const node& n, const std::string& why) const {
    return bad_input("node '" + n.name + "' (" + n.op_type + "): cannot upgrade from ai.onnx opset " + std::to_string(from_) + " to " +
                     std::to_string(target_) + ": " + why);
  }
  // True when the op's attribute form (before `version`) must become the input form.
  bool crosses(int64_t version) const { return from_ < version && target_ >= version; }

  // Moves INTS attribute `key` to input slot `slot` (filling skipped optional slots with "").
  void attr_to_input(node& n, const std::string& key, size_t slot) {
    const auto it = n.attributes.find(key);
    if (it == n.attributes.end()) return;
    const auto* ints = std::get_if<std::vector<int64_t>>(&it->second);
    const std::vector<int64_t> values = ints ? *ints : std::vector<int64_t>{};
    n.attributes.erase(it);
    if (n.inputs.size() <= slot) n.inputs.resize(slot + 1);
    n.inputs[slot] = add_i64(n, key, values);
  }

  Status upgrade_subgraphs(node& n) {
    for (auto& [key, value] : n.attributes) {
      auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body == nullptr || *body == nullptr) continue;
      auto copy = std::make_shared<graph>(**body);
      EP_RETURN_IF_ERROR(run(*copy).with_context("node '" + n.name + "' (" + n.op_type + ") attribute '" + key + "'"));
      copy->opset_imports[""] = target_;
      value = std::shared_ptr<const graph>(std::move(copy));
    }
    return Status::ok_status();
  }

  Status upgrade_node(node& n, std::vector<node>& out) {
    const std::string& op = n.op_type;
    if (unchanged_ops().count(op)) {
      EP_RETURN_IF_ERROR(upgrade_subgraphs(n));
    } else if (op == "Clip") {
      if (crosses(11)) {
        const double lo = n.float_attr("min", -INFINITY), hi = n.float_attr("max", INFINITY);
        const bool has_lo = n.attributes.count("min") > 0, has_hi = n.attributes.count("max") > 0;
        n.attributes.erase("min");
        n.attributes.erase("max");
        n.inputs.resize(1);
        if (has_lo || has_hi) n.inputs.push_back(has_lo ? add_f32_scalar(n, "min", lo) : std::string());
        if (has_hi) n.inputs.push_back(add_f32_scalar(n, "max", hi));
      }
    } else if (op == "Slice") {
      if (crosses(10)) {
        if (!n.attributes.count("starts") || !n.attributes.count("ends")) return refuse(n, "Slice without starts/ends attributes");
        attr_to_input(n, "starts", 1);
        attr_to_input(n, "ends", 2);
        attr_to_input(n, "axes", 3);
      }
    } else if (op == "Pad") {
      if (crosses(11)) {
        if (!n.attributes.count("pads")) return refuse(n, "Pad without a pads attribute");
        const double value = n.float_attr("value", 0.0);
        n.attributes.erase("value");
        attr_to_input(n, "pads", 1);
        if (value != 0.0) n.inputs.push_back(add_f32_scalar(n, "value", value));
      }
    } else if (op == "Squeeze" || op == "Unsqueeze" || op == "ReduceSum") {
      if (crosses(13)) attr_to_input(n, "axes", 1);
    } else if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin") {
      if (crosses(18)) attr_to_input(n, "axes", 1);
    } else if (op == "Split") {
      if (crosses(13)) attr_to_input(n, "split", 1);
      if (crosses(18) && (n.inputs.size() < 2 || n.inputs[1].empty()) && !n.attributes.count("num_outputs"))
        n.attributes["num_outputs"] = static_cast<int64_t>(n.outputs.size());
    } else if (op == "Softmax") {
      if (crosses(13)) return upgrade_softmax(n, out);
    } else if (op == "BatchNormalization") {
      if (n.attributes.count("spatial")) {
        if (n.int_attr("spatial", 1) != 1) return refuse(n, "spatial = 0 has no equivalent after opset 9");
        n.attributes.erase("spatial");
      }
      n.attributes.erase("consumed_inputs");
      for (size_t i = 1; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty()) return refuse(n, "training-mode outputs (mean/var) are not supported");
      n.outputs.resize(1);
    } else if (op == "Dropout") {
      for (size_t i = 1; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty()) return refuse(n, "the mask output has no inference-time equivalent");
      n.op_type = "Identity";
      n.inputs.resize(1);
      n.outputs.resize(1);
      n.attributes.clear();
    } else if (op == "Upsample") {
      return upgrade_upsample(n, out);
    } else if (op == "Resize") {
      if (from_ < 11) return refuse(n, "Resize-10 has no exact rule here (re-export the model at opset 11 or later)");
    } else {
      return refuse(n, "no upgrade rule for this op (supported: the ops in docs/export.md)");
    }
    out.push_back(std::move(n));
    return Status::ok_status();
  }

  // Before 13, Softmax flattened its input to 2-D at `axis` (default 1) and normalised the rows.
  // axis -1 means the same thing in both; otherwise Flatten(axis) -> Softmax(-1) -> Reshape(Shape(x)).
  Status upgrade_softmax(node& n, std::vector<node>& out) {
    const int64_t axis = n.int_attr("axis", 1);
    if (axis == -1) {
      n.attributes["axis"] = int64_t{-1};
      out.push_back(std::move(n));
      return Status::ok_status();
    }
    const std::string x = n.inputs.at(0), y = n.outputs.at(0);
    const std::string flat = fresh(n.name + ".flat"), soft = fresh(n.name + ".soft2d"), shape = fresh(n.name + ".shape");
    out.push_back(node{fresh(n.name + ".flatten"), "Flatten", "", {x}, {flat}, {{"axis", axis}}});
    out.push_back(node{n.name, "Softmax", "", {flat}, {soft}, {{"axis", int64_t{-1}}}});
    out.push_back(node{fresh(n.name + ".shape_of"), "Shape", "", {x}, {shape}, {}});
    out.push_back(node{fresh(n.name + ".reshape"), "Reshape", "", {soft, shape}, {y}, {}});
    return Status::ok_status();
  }

  // Upsample (removed at 10) -> Resize(X, roi "", scales) with the old index mapping: asymmetric
  // coordinates, nearest rounding down.
  Status upgrade_upsample(node& n, std::vector<node>& out) {
    const auto mode_it = n.attributes.find("mode");
    std::string mode = "nearest";
    if (mode_it != n.attributes.end())
      if (const auto* s = std::get_if<std::string>(&mode_it->second)) mode = *s;
    if (mode != "nearest" && mode != "linear") return refuse(n, "mode '" + mode + "'");
    std::string scales;
    if (n.inputs.size() >= 2 && !n.inputs[1].empty()) {
      scales = n.inputs[1];
    } else if (const auto it = n.attributes.find("scales"); it != n.attributes.end()) {
      const auto* values = std::get_if<std::vector<double>>(&it->second);
      if (values == nullptr) return refuse(n, "scales attribute is not a list of floats");
      std::vector<float> f(values->begin(), values->end());
      scales = fresh(n.name + ".scales");
      root_.weights.emplace(scales, tensor::from_values<float>(dtype::f32, {static_cast<int64_t>(f.size())}, f));
    } else {
      return refuse(n, "no scales");
    }
    node r{n.name, "Resize", "", {n.inputs.at(0), "", scales}, {n.outputs.at(0)}, {}};
    r.attributes["mode"] = mode;
    r.attributes["coordinate_transformation_mode"] = std::string("asymmetric");
    if (mode == "nearest") r.attributes["nearest_mode"] = std::string("floor");
    out.push_back(std::move(r));
    return Status::ok_status();
  }

  graph& root_;
  int64_t from_;
  int64_t target_;
  std::set<std::string> names_;
};

}  // namespace

Status upgrade_opset(graph& g, int64_t target) {
  const auto it = g.opset_imports.find("");
  const int64_t from = it == g.opset_imports.end() ? target : it->second;
  if (from >= target) return Status::ok_status();
  if (target > opset_upgrade_max_target)
    return bad_usage("opset upgrade target " + std::to_string(target) + " is above " + std::to_string(opset_upgrade_max_target));
  graph copy = g;
  upgrader u(copy, from, target);
  EP_RETURN_IF_ERROR(u.run(copy));
  copy.opset_imports[""] = target;
  g = std::move(copy);
  return Status::ok_status();
}

}  // namespace edgepack

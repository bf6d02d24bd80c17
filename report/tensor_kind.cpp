#include "report/tensor_kind.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace edgepack::report {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The parts of a name between '.' or '/' ("model.layers.0.wq" -> model, layers, 0, wq).
std::vector<std::string> components(const std::string& name) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : name) {
    if (c == '.' || c == '/') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

bool has_component(const std::vector<std::string>& parts, std::initializer_list<const char*> wanted) {
  return std::any_of(parts.begin(), parts.end(), [&](const std::string& p) {
    return std::any_of(wanted.begin(), wanted.end(), [&](const char* w) { return p == w; });
  });
}

bool contains_any(const std::string& s, std::initializer_list<const char*> wanted) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const char* w) { return s.find(w) != std::string::npos; });
}

bool is_norm_op(const std::string& op) {
  return op == "RMSNormalization" || op == "LayerNormalization" || op == "BatchNormalization" || op == "InstanceNormalization" ||
         op == "GroupNormalization" || op == "SimplifiedLayerNormalization" || op == "SkipLayerNormalization";
}

std::string kind_from_use(const graph& g, const std::string& name) {
  for (const auto& n : g.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] != name) continue;
      if (n.op_type == "Conv" || n.op_type == "ConvTranspose") return "conv";
      if (n.op_type == "Gather" && i == 0) return "embedding";
      if (is_norm_op(n.op_type) && i > 0) return "norm";
    }
  }
  return "";
}

std::string kind_from_name(const std::string& name) {
  const std::string s = lower(name);
  const auto parts = components(s);
  if (contains_any(s, {"embed", "tok_embeddings"}) || has_component(parts, {"wte", "wpe"})) return "embedding";
  if (contains_any(s, {"lm_head", "classifier"}) || s == "output.weight" || s == "output") return "output";
  if (contains_any(s, {"norm"})) return "norm";
  if (contains_any(s, {"attn", "attention", "q_proj", "k_proj", "v_proj", "o_proj"}) || has_component(parts, {"wq", "wk", "wv", "wo"}))
    return "attention";
  if (contains_any(s, {"mlp", "ffn", "feed_forward", "gate_proj", "up_proj", "down_proj"}) || has_component(parts, {"w1", "w2", "w3"})) return "mlp";
  return "";
}

// Does `value` reach a graph output through at most `depth` pass-through ops?
bool reaches_output(const graph& g, const std::string& value, int depth) {
  for (const auto& out : g.outputs)
    if (out.name == value) return true;
  if (depth == 0) return false;
  static const std::set<std::string> pass_through = {"Add", "Reshape", "Flatten", "Squeeze", "Identity", "Softmax", "LogSoftmax"};
  for (const auto& n : g.nodes) {
    if (!pass_through.count(n.op_type) || std::find(n.inputs.begin(), n.inputs.end(), value) == n.inputs.end()) continue;
    for (const auto& o : n.outputs)
      if (reaches_output(g, o, depth - 1)) return true;
  }
  return false;
}

bool is_classifier_weight(const graph& g, const std::string& name) {
  for (const auto& n : g.nodes) {
    if (n.op_type != "MatMul" && n.op_type != "Gemm") continue;
    if (n.inputs.size() < 2 || (n.inputs[0] != name && n.inputs[1] != name)) continue;
    for (const auto& o : n.outputs)
      if (reaches_output(g, o, 4)) return true;
  }
  return false;
}

}  // namespace

std::string tensor_kind(const graph& g, const std::string& name) {
  if (std::string k = kind_from_use(g, name); !k.empty()) return k;
  if (std::string k = kind_from_name(name); !k.empty()) return k;
  if (is_classifier_weight(g, name)) return "output";
  return "other";
}

const std::vector<std::string>& tensor_kinds() {
  static const std::vector<std::string> kinds = {"embedding", "attention", "mlp", "output", "norm", "conv", "other"};
  return kinds;
}

}  // namespace edgepack::report

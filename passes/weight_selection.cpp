#include "passes/weight_selection.h"

#include <map>
#include <optional>
#include <regex>

namespace edgepack {

namespace {

Expected<std::regex> compile(const std::string& pattern, const char* flag) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return bad_usage(std::string(flag) + " '" + pattern + "' is not a valid regular expression: " + e.what());
  }
}

// How one node reads one weight: a matrix view, or nullopt when the read is not a GEMM weight
// operand (the weight must then stay float by default).
struct weight_use {
  std::optional<weight_view> view;
  std::string reader;
};

weight_use use_of(const node& n, size_t slot, const tensor& w) {
  const size_t rank = w.shape.size();
  const bool onnx = n.domain.empty() || n.domain == "ai.onnx";
  if (!onnx || slot != 1) {
    // LSTM/GRU/RNN read W at slot 1 and R at slot 2; every other weight operand is slot 1.
    if (onnx && slot == 2 && rank == 3 && (n.op_type == "LSTM" || n.op_type == "GRU" || n.op_type == "RNN")) return {weight_view{}, n.op_type + " R"};
    return {std::nullopt, n.op_type};
  }
  if (n.op_type == "Gemm" && rank == 2) {
    if (n.int_attr("transB", 0) == 1) return {weight_view{}, "Gemm transB=1"};
    return {weight_view{-1, true}, "Gemm transB=0"};
  }
  if (n.op_type == "MatMul" && rank == 2) return {weight_view{-1, true}, "MatMul"};
  if ((n.op_type == "Conv" || n.op_type == "ConvTranspose") && rank >= 3) return {weight_view{1, false}, n.op_type};
  if ((n.op_type == "LSTM" || n.op_type == "GRU" || n.op_type == "RNN") && rank == 3) return {weight_view{}, n.op_type + " W"};
  return {std::nullopt, n.op_type};
}

struct weight_readers {
  std::vector<weight_use> uses;
  // The one view all readers agree on, when every read is a GEMM weight operand.
  std::optional<weight_view> agreed() const {
    if (uses.empty()) return std::nullopt;
    for (const auto& u : uses)
      if (!u.view || !(*u.view == *uses.front().view)) return std::nullopt;
    return uses.front().view;
  }
  // The view of the GEMM readers alone when they agree (for --include).
  std::optional<weight_view> gemm_view() const {
    std::optional<weight_view> view;
    for (const auto& u : uses) {
      if (!u.view) continue;
      if (view && !(*view == *u.view)) return std::nullopt;
      view = u.view;
    }
    return view;
  }
  std::string reader() const {
    std::string text;
    for (const auto& u : uses) {
      if (text.find(u.reader) != std::string::npos) continue;
      text += (text.empty() ? "" : ", ") + u.reader;
    }
    return text;
  }
};

// Records every read of a weight by the nodes of `body` and of the If/Loop bodies nested in it.
// The reader hoists subgraph weights into the top-level table under unique names, and a body may
// not redefine an outer name, so a name found in `weights` is that weight wherever it is read.
void collect_reads(const graph& body, const std::map<std::string, tensor>& weights, std::map<std::string, weight_readers>& readers) {
  for (const auto& n : body.nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const auto it = weights.find(n.inputs[i]);
      if (it == weights.end()) continue;
      readers[it->first].uses.push_back(use_of(n, i, it->second));
    }
    for (const auto& [key, value] : n.attributes)
      if (const auto* sub = std::get_if<std::shared_ptr<const graph>>(&value); sub != nullptr && *sub != nullptr) collect_reads(**sub, weights, readers);
  }
}

}  // namespace

Expected<std::vector<selected_weight>> select_weights(const graph& g, const weight_selection_options& options) {
  std::map<std::string, weight_readers> readers;
  collect_reads(g, g.weights, readers);
  std::optional<std::regex> include, exclude;
  if (!options.include_regex.empty()) {
    EP_ASSIGN_OR_RETURN(include, compile(options.include_regex, "--include"));
  }
  if (!options.exclude_regex.empty()) {
    EP_ASSIGN_OR_RETURN(exclude, compile(options.exclude_regex, "--exclude"));
  }
  std::vector<selected_weight> selected;
  for (const auto& [name, weight] : g.weights) {
    const bool is_float = !weight.is_quantized() && dtype_is_float(weight.type) && !weight.shape.empty();
    const auto it = readers.find(name);
    const weight_readers none{};
    const weight_readers& r = it == readers.end() ? none : it->second;
    std::optional<selected_weight> chosen;
    if (const auto view = r.agreed(); is_float && view && weight.numel() >= options.min_elements) chosen = selected_weight{name, *view, r.reader()};
    if (include && std::regex_search(name, *include)) {
      if (!is_float) return bad_usage("--include matches '" + name + "', which is not a dense float weight");
      if (const auto view = r.gemm_view()) {
        chosen = selected_weight{name, *view, r.reader()};
      } else if (weight.shape.size() == 2) {
        chosen = selected_weight{name, weight_view{}, "--include"};
      } else {
        return bad_usage("--include matches '" + name + "' (shape rank " + std::to_string(weight.shape.size()) +
                         "), which no MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU or RNN node reads as its weight; only 2-D weights can be "
                         "added without such a reader");
      }
    }
    if (exclude && std::regex_search(name, *exclude)) chosen.reset();
    if (chosen) selected.push_back(std::move(*chosen));
  }
  return selected;
}

quant_encoding encoding_for(const quant_encoding& scheme, const weight_view& view) {
  quant_encoding enc = scheme;
  enc.col_axis = view.col_axis;
  enc.transposed = view.transposed;
  return enc;
}

std::string weight_view_text(const std::vector<int64_t>& shape, const quant_encoding& enc) {
  if (enc.transposed) return "cols: dim 0, transposed";
  if (enc.col_axis < 0) return "";
  const auto last = static_cast<int64_t>(shape.size()) - 1;
  if (enc.col_axis == last) return "cols: dim " + std::to_string(last);
  return "cols: dims " + std::to_string(enc.col_axis) + "-" + std::to_string(last);
}

}  // namespace edgepack

#include "passes/quantize_gptq.h"

#include <Eigen/Dense>
#include <chrono>
#include <cmath>

#include "calibration/hessian.h"
#include "core/parallel.h"
#include "passes/quantize_rtn.h"
#include "runtime_ref/graph_segment.h"

namespace edgepack {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

struct stage {
  std::string activation;          // X, the Gemm A input all weights of the stage read
  size_t first_node = 0;           // first Gemm reading one of them
  std::vector<std::string> weights;  // name order
};

// The activation a weight is read with when GPTQ can handle it: every reader is a Gemm with this
// weight as B, transB = 1, transA = 0, and all readers share one A. Empty otherwise.
std::string gptq_activation(const graph& g, const std::string& weight, size_t* first_node) {
  std::string activation;
  bool found = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    bool reads = false;
    for (size_t k = 0; k < n.inputs.size(); ++k) reads = reads || n.inputs[k] == weight;
    for (const auto& [key, value] : n.attributes) {
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body != nullptr && *body != nullptr && (*body)->outer_references().count(weight)) return {};
    }
    if (!reads) continue;
    if (n.op_type != "Gemm" || !n.domain.empty() || n.inputs.size() < 2 || n.inputs[1] != weight || n.inputs[0] == weight ||
        n.int_attr("transB", 0) != 1 || n.int_attr("transA", 0) != 0 || (n.inputs.size() > 2 && n.inputs[2] == weight))
      return {};
    if (found && n.inputs[0] != activation) return {};
    if (!found) *first_node = i;
    activation = n.inputs[0];
    found = true;
  }
  return found ? activation : std::string{};
}

nlohmann::json gptq_stats_json(const gptq_stats& s) {
  return {{"damp", s.damp_fraction},         {"damp_lambda", s.damp_absolute}, {"damp_escalations", s.damp_escalations},
          {"dead_columns", s.dead_columns},  {"loss", s.total_error},          {"static_groups", s.static_groups},
          {"warnings", s.warnings}};
}

double frobenius_relative(std::span<const float> w, std::span<const float> q) {
  double num = 0, den = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = static_cast<double>(w[i]) - q[i];
    num += d * d;
    den += static_cast<double>(w[i]) * w[i];
  }
  return den > 0 ? std::sqrt(num / den) : 0.0;
}

}  // namespace

double relative_output_error(std::span<const float> w, std::span<const float> q, int64_t rows, int64_t cols, std::span<const double> hessian) {
  using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const matrix> h(hessian.data(), cols, cols);
  matrix wm(rows, cols), em(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    wm.data()[i] = w[static_cast<size_t>(i)];
    em.data()[i] = static_cast<double>(w[static_cast<size_t>(i)]) - q[static_cast<size_t>(i)];
  }
  const double num = ((em * h).cwiseProduct(em)).sum();
  const double den = ((wm * h).cwiseProduct(wm)).sum();
  return den > 0 ? std::sqrt(std::max(0.0, num) / den) : 0.0;
}

Expected<quantize_gptq_result> quantize_gptq_model(const model& m, const std::vector<tensor_map>& windows, const quantize_gptq_options& options) {
  if (windows.empty()) return bad_usage("GPTQ needs at least one calibration window");
  quantize_gptq_result result;
  result.windows = static_cast<int64_t>(windows.size());
  graph work = m.g;  // weights are replaced by their quantized versions stage by stage
  std::vector<stage> stages;
  std::map<std::string, nlohmann::json> stats_by_name;
  for (const auto& [name, encoding] : options.weights) {
    const tensor* w = m.g.find_weight(name);
    if (w == nullptr) return bad_usage("tensor '" + name + "' is not a weight of the model");
    size_t first = 0;
    const std::string activation = w->shape.size() == 2 ? gptq_activation(m.g, name, &first) : std::string{};
    if (activation.empty()) {  // not a linear layer GPTQ can calibrate: RTN
      quantize_rtn_options rtn;
      rtn.encoding = encoding;
      rtn.rows.scale_search_steps = options.layer.scale_search_steps;
      rtn.threads = options.threads;
      quantized_tensor_stats s;
      auto q = quantize_tensor_rtn(*w, rtn, &s);
      if (!q.ok()) return q.status().with_context("tensor '" + name + "'");
      result.quantized[name] = std::move(q).value();
      auto j = quantized_tensor_stats_json(name, s);
      j["method"] = "rtn";
      j["scheme"] = quant_encoding_name(encoding);
      j["note"] = "not the B input of Gemm transB=1 nodes sharing one input: round-to-nearest";
      stats_by_name[name] = std::move(j);
      continue;
    }
    auto it = std::find_if(stages.begin(), stages.end(), [&](const stage& s) { return s.activation == activation; });
    if (it == stages.end()) {
      stages.push_back({activation, first, {}});
      it = std::prev(stages.end());
    }
    it->first_node = std::min(it->first_node, first);
    it->weights.push_back(name);
  }
  std::sort(stages.begin(), stages.end(), [](const stage& a, const stage& b) { return a.first_node < b.first_node; });
  result.stages = static_cast<int64_t>(stages.size());

  // Per-window state: the values live at `cursor`.
  size_t cursor = 0;
  std::vector<tensor_map> states(windows.size());
  {
    const std::set<std::string> live = graph_segment::live_before(work, 0);
    for (size_t k = 0; k < windows.size(); ++k)
      for (const auto& name : live) {
        const auto it = windows[k].find(name);
        if (it == windows[k].end()) return bad_usage("calibration window " + std::to_string(k) + " lacks graph input '" + name + "'");
        states[k].emplace(name, it->second);
      }
  }
  const int threads = resolve_thread_count(options.threads);
  for (size_t s = 0; s < stages.size(); ++s) {
    const stage& st = stages[s];
    auto t0 = clock_type::now();
    EP_ASSIGN_OR_RETURN(graph_segment segment, graph_segment::create(work, cursor, st.first_node, states[0]));
    std::vector<Status> errors(windows.size(), Status::ok_status());
    parallel_for(static_cast<int64_t>(windows.size()), threads, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) errors[static_cast<size_t>(k)] = segment.run(states[static_cast<size_t>(k)]);
    });
    for (size_t k = 0; k < errors.size(); ++k)
      if (!errors[k].ok()) return errors[k].with_context("calibration window " + std::to_string(k));
    cursor = st.first_node;
    result.seconds_forward += seconds_since(t0);

    t0 = clock_type::now();
    const tensor& first_weight = *work.find_weight(st.weights.front());
    const int64_t in = first_weight.shape[1];
    hessian_options hopt;
    hopt.threads = options.threads;
    hessian_accumulator acc(in, hopt);
    for (size_t k = 0; k < states.size(); ++k) {
      const tensor& x = states[k].at(st.activation);
      if (x.type != dtype::f32 || x.is_quantized() || x.shape.size() != 2 || x.shape[1] != in)
        return bad_input("GPTQ: input '" + st.activation + "' of '" + st.weights.front() + "' is " + std::string(dtype_name(x.type)) + " " +
                         shape_to_string(x.shape) + ", expected f32 [rows, " + std::to_string(in) + "]");
      EP_RETURN_IF_ERROR(acc.add_rows(x.data_as<float>(), x.shape[0]));
    }
    const std::vector<double> h = acc.hessian();
    result.seconds_hessian += seconds_since(t0);

    t0 = clock_type::now();
    for (const auto& name : st.weights) {
      const tensor& original = *m.g.find_weight(name);
      if (original.shape[1] != in)
        return bad_input("GPTQ: weight '" + name + "' " + shape_to_string(original.shape) + " does not match its input's " + std::to_string(in) + " columns");
      EP_ASSIGN_OR_RETURN(std::vector<float> w, to_float_vector(original));
      gptq_options layer = options.layer;
      layer.encoding = options.weights.at(name);
      layer.threads = options.threads;
      auto q = gptq_quantize(w, original.shape[0], in, h, layer);
      if (!q.ok()) return q.status().with_context("GPTQ of tensor '" + name + "'");
      EP_ASSIGN_OR_RETURN(std::vector<float> decoded, to_float_vector(q->weight));
      nlohmann::json j = {{"name", name},
                          {"method", "gptq"},
                          {"scheme", quant_encoding_name(layer.encoding)},
                          {"relative_error", frobenius_relative(w, decoded)},
                          {"calib_output_error", relative_output_error(w, decoded, original.shape[0], in, h)},
                          {"hessian_rows", acc.count()},
                          {"bytes_before", original.stored_bytes()},
                          {"bytes_after", q->weight.stored_bytes()}};
      j.update(gptq_stats_json(q->stats));
      stats_by_name[name] = std::move(j);
      work.weights[name] = q->weight;
      result.quantized[name] = std::move(q->weight);
    }
    result.seconds_quantize += seconds_since(t0);
    if (options.progress) options.progress(static_cast<int64_t>(s + 1), result.stages, "stage " + std::to_string(s + 1) + ": " + st.activation);
  }
  for (auto& [name, j] : stats_by_name) result.tensors.push_back(std::move(j));
  return result;
}

}  // namespace edgepack

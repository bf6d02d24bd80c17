#include "passes/calibrated_stages.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "calibration/hessian.h"
#include "core/parallel.h"
#include "passes/float_targets.h"
#include "passes/gptq_observers.h"
#include "runtime_ref/graph_segment.h"

namespace edgepack {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

struct stage {
  gptq_observer observer;            // the first weight's; every weight of the stage has the same key
  std::vector<std::string> weights;  // name order
};

}  // namespace

std::vector<float> to_view_matrix(const std::vector<float>& w, const std::vector<int64_t>& shape, const quant_encoding& view) {
  if (!view.transposed) return w;
  const int64_t k = shape[0], n = shape[1];
  std::vector<float> t(w.size());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) t[static_cast<size_t>(r * k + c)] = w[static_cast<size_t>(c * n + r)];
  return t;
}

std::vector<float> from_view_matrix(const std::vector<float>& matrix, const std::vector<int64_t>& shape, const quant_encoding& view) {
  if (!view.transposed) return matrix;
  const int64_t k = shape[0], n = shape[1];
  std::vector<float> t(matrix.size());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) t[static_cast<size_t>(c * n + r)] = matrix[static_cast<size_t>(r * k + c)];
  return t;
}

double relative_weight_error(std::span<const float> w, std::span<const float> q) {
  double num = 0, den = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = static_cast<double>(w[i]) - q[i];
    num += d * d;
    den += static_cast<double>(w[i]) * w[i];
  }
  return den > 0 ? std::sqrt(num / den) : 0.0;
}

Expected<calibrated_stages_result> run_calibrated_stages(const model& m, const std::vector<tensor_map>& windows,
                                                         const calibrated_stages_options& options) {
  if (windows.empty()) return bad_usage("calibration needs at least one window");
  calibrated_stages_result result;
  result.windows = static_cast<int64_t>(windows.size());
  graph work = m.g;  // weights are replaced by their compressed versions stage by stage
  std::vector<stage> stages;
  std::map<std::string, nlohmann::json> stats_by_name;
  for (const auto& [name, view] : options.weights) {
    const tensor* w = m.g.find_weight(name);
    if (w == nullptr) return bad_usage("tensor '" + name + "' is not a weight of the model");
    std::string why;
    std::optional<gptq_observer> observer = find_gptq_observer(m.g, name, &why);
    if (observer && quant_view_of(w->shape, view).cols != observer->dim) {
      why = "its matrix view has " + std::to_string(quant_view_of(w->shape, view).cols) + " columns, the input " + std::to_string(observer->dim);
      observer.reset();
    }
    if (!observer) {
      auto c = options.fallback(name, *w, why);
      if (!c.ok()) return c.status().with_context("tensor '" + name + "'");
      result.weights[name] = std::move(c->weight);
      stats_by_name[name] = std::move(c->stats);
      continue;
    }
    const std::string key = observer->key();
    auto it = std::find_if(stages.begin(), stages.end(), [&](const stage& s) { return s.observer.key() == key; });
    if (it == stages.end()) {
      stages.push_back({*observer, {}});
      it = std::prev(stages.end());
    }
    it->observer.first_node = std::min(it->observer.first_node, observer->first_node);
    it->weights.push_back(name);
  }
  std::sort(stages.begin(), stages.end(), [](const stage& a, const stage& b) {
    return a.observer.first_node != b.observer.first_node ? a.observer.first_node < b.observer.first_node : a.observer.key() < b.observer.key();
  });
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
  // Float targets: the same windows through the unmodified graph.
  std::vector<tensor_map> float_states;
  if (options.float_targets) float_states = states;
  const int threads = resolve_thread_count(options.threads);
  for (size_t s = 0; s < stages.size(); ++s) {
    const stage& st = stages[s];
    auto t0 = clock_type::now();
    EP_ASSIGN_OR_RETURN(graph_segment segment, graph_segment::create(work, cursor, st.observer.first_node, states[0]));
    std::optional<graph_segment> float_segment;
    if (options.float_targets) {
      EP_ASSIGN_OR_RETURN(graph_segment fs, graph_segment::create(m.g, cursor, st.observer.first_node, float_states[0]));
      float_segment.emplace(std::move(fs));
    }
    std::vector<Status> errors(windows.size(), Status::ok_status());
    parallel_for(static_cast<int64_t>(windows.size()), threads, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        errors[static_cast<size_t>(k)] = segment.run(states[static_cast<size_t>(k)]);
        if (float_segment && errors[static_cast<size_t>(k)].ok()) errors[static_cast<size_t>(k)] = float_segment->run(float_states[static_cast<size_t>(k)]);
      }
    });
    for (size_t k = 0; k < errors.size(); ++k)
      if (!errors[k].ok()) return errors[k].with_context("calibration window " + std::to_string(k));
    cursor = st.observer.first_node;
    result.seconds_forward += seconds_since(t0);

    t0 = clock_type::now();
    hessian_options hopt;
    hopt.threads = options.threads;
    // With float targets, one accumulator over the paired rows [x~, x] gives H and the cross term.
    const gptq_observer observer = options.float_targets ? paired_observer(st.observer) : st.observer;
    hessian_accumulator acc(observer.dim, hopt);
    for (size_t k = 0; k < states.size(); ++k) {
      const auto x = states[k].find(st.observer.activation);
      if (x == states[k].end()) return internal_error("calibration: input '" + st.observer.activation + "' is not live before its reader");
      Status added = Status::ok_status();
      if (options.float_targets) {
        const auto xf = float_states[k].find(st.observer.activation);
        if (xf == float_states[k].end()) return internal_error("calibration: input '" + st.observer.activation + "' is not live in the float model");
        auto paired = paired_activation(st.observer, x->second, xf->second);
        added = paired.ok() ? observe_hessian_rows(observer, *paired, acc) : paired.status();
      } else {
        added = observe_hessian_rows(observer, x->second, acc);
      }
      if (!added.ok()) return added.with_context("weight '" + st.weights.front() + "', calibration window " + std::to_string(k));
    }
    split_hessian hs;
    if (options.float_targets)
      hs = split_paired_hessian(acc.hessian(), st.observer.dim);
    else
      hs.h = acc.hessian();
    const std::vector<double>& h = hs.h;
    result.seconds_hessian += seconds_since(t0);

    t0 = clock_type::now();
    for (const auto& name : st.weights) {
      const tensor& original = *m.g.find_weight(name);
      stage_weight sw;
      sw.name = name;
      sw.original = &original;
      sw.view = options.weights.at(name);
      const quant_matrix_view v = quant_view_of(original.shape, sw.view);
      sw.rows = v.rows;
      sw.cols = v.cols;
      EP_ASSIGN_OR_RETURN(std::vector<float> dense, to_float_vector(original));
      sw.matrix = to_view_matrix(dense, original.shape, sw.view);
      sw.hessian = h;
      sw.hessian_rows = acc.count();
      if (options.float_targets) {
        auto target = float_target_weight(sw.matrix, sw.rows, sw.cols, h, hs.cross, options.float_target_damp);
        if (!target.ok()) return target.status().with_context("tensor '" + name + "'");
        sw.target = std::move(*target);
      }
      auto c = options.compress(sw);
      if (!c.ok()) return c.status().with_context("tensor '" + name + "'");
      stats_by_name[name] = std::move(c->stats);
      work.weights[name] = c->weight;
      result.weights[name] = std::move(c->weight);
    }
    result.seconds_compress += seconds_since(t0);
    if (options.progress) options.progress(static_cast<int64_t>(s + 1), result.stages, "stage " + std::to_string(s + 1) + ": " + st.observer.activation);
  }
  for (auto& [name, j] : stats_by_name) result.tensors.push_back(std::move(j));
  return result;
}

}  // namespace edgepack

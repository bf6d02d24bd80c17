#include "runtime_ref/task_check.h"

#include <charconv>
#include <cmath>

#include "runtime_ref/metrics.h"

namespace edgepack {

namespace {

constexpr const char* task_grammar = "tasks: ctc:KEYS.txt, argmax, binary-map[:P]";

// "[3, 1]" for several rows, "3" for one.
std::string class_list(const std::vector<int64_t>& classes) {
  if (classes.size() == 1) return std::to_string(classes[0]);
  std::string s = "[";
  for (size_t i = 0; i < classes.size(); ++i) s += (i ? ", " : "") + std::to_string(classes[i]);
  return s + "]";
}

struct rows {
  int64_t count = 0;
  int64_t length = 0;
};

Expected<rows> last_axis_rows(const tensor& t, int64_t min_rank) {
  if (static_cast<int64_t>(t.shape.size()) < min_rank || t.shape.back() <= 0)
    return bad_input("output of shape " + shape_to_string(t.shape) + " does not fit the task (needs rank >= " + std::to_string(min_rank) +
                     " and a non-empty last axis)");
  return rows{t.numel() / t.shape.back(), t.shape.back()};
}

Expected<task_outcome> check_argmax(const std::vector<float>& model, const std::vector<float>& base, rows r) {
  std::vector<int64_t> ours, theirs;
  int64_t same = 0;
  for (int64_t i = 0; i < r.count; ++i) {
    const size_t at = static_cast<size_t>(i * r.length), n = static_cast<size_t>(r.length);
    ours.push_back(argmax(std::span<const float>(model).subspan(at, n)));
    theirs.push_back(argmax(std::span<const float>(base).subspan(at, n)));
    same += ours.back() == theirs.back();
  }
  task_outcome out;
  out.model_answer = class_list(ours);
  out.base_answer = class_list(theirs);
  out.agreement = r.count ? static_cast<double>(same) / static_cast<double>(r.count) : 1.0;
  out.kept = same == r.count;
  return out;
}

Expected<task_outcome> check_ctc(const task_spec& spec, const std::vector<float>& model, const std::vector<float>& base, const tensor& shape_of) {
  if (shape_of.shape.size() != 3) return bad_input("CTC output must be [batch, time, classes], got " + shape_to_string(shape_of.shape));
  const int64_t batch = shape_of.shape[0], steps = shape_of.shape[1], classes = shape_of.shape[2];
  const size_t per_item = static_cast<size_t>(steps * classes);
  task_outcome out;
  int64_t same = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const size_t at = static_cast<size_t>(b) * per_item;
    EP_ASSIGN_OR_RETURN(std::string ours, ctc_greedy_text(std::span<const float>(model).subspan(at, per_item), steps, classes, spec.charset));
    EP_ASSIGN_OR_RETURN(std::string theirs, ctc_greedy_text(std::span<const float>(base).subspan(at, per_item), steps, classes, spec.charset));
    same += ours == theirs;
    out.model_answer += (b ? "\n" : "") + ours;
    out.base_answer += (b ? "\n" : "") + theirs;
  }
  out.agreement = batch ? static_cast<double>(same) / static_cast<double>(batch) : 1.0;
  out.kept = same == batch;
  return out;
}

task_outcome check_binary_map(const task_spec& spec, const std::vector<float>& model, const std::vector<float>& base) {
  size_t same = 0;
  for (size_t i = 0; i < model.size(); ++i) same += (model[i] > spec.threshold) == (base[i] > spec.threshold);
  task_outcome out;
  out.agreement = model.empty() ? 1.0 : static_cast<double>(same) / static_cast<double>(model.size());
  out.kept = out.agreement >= spec.min_agreement;
  return out;
}

}  // namespace

const char* task_kind_name(task_kind kind) {
  switch (kind) {
    case task_kind::ctc: return "ctc";
    case task_kind::argmax: return "argmax";
    case task_kind::binary_map: return "binary-map";
  }
  return "?";
}

Expected<task_spec> parse_task_spec(const std::string& text) {
  task_spec spec;
  spec.text = text;
  if (text == "argmax") {
    spec.kind = task_kind::argmax;
    return spec;
  }
  if (text.rfind("ctc:", 0) == 0) {
    if (text.size() == 4) return bad_usage("--task 'ctc:' needs the keys file: ctc:KEYS.txt");
    spec.kind = task_kind::ctc;
    EP_ASSIGN_OR_RETURN(spec.charset, read_ctc_keys(text.substr(4)));
    return spec;
  }
  if (text == "binary-map" || text.rfind("binary-map:", 0) == 0) {
    spec.kind = task_kind::binary_map;
    if (text.size() > 11) {
      const std::string value = text.substr(11);
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), spec.threshold);
      if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(spec.threshold))
        return bad_usage("--task '" + text + "': threshold '" + value + "' is not a number (binary-map:0.3)");
    }
    return spec;
  }
  return bad_usage("--task '" + text + "' is not a task (" + task_grammar + ")");
}

Expected<task_outcome> check_task(const task_spec& spec, const tensor& model_output, const tensor& base_output) {
  if (model_output.shape != base_output.shape)
    return bad_input("output shapes differ: " + shape_to_string(model_output.shape) + " vs " + shape_to_string(base_output.shape));
  EP_ASSIGN_OR_RETURN(std::vector<float> model, to_float_vector(model_output));
  EP_ASSIGN_OR_RETURN(std::vector<float> base, to_float_vector(base_output));
  switch (spec.kind) {
    case task_kind::argmax: {
      EP_ASSIGN_OR_RETURN(rows r, last_axis_rows(base_output, 1));
      return check_argmax(model, base, r);
    }
    case task_kind::ctc: return check_ctc(spec, model, base, base_output);
    case task_kind::binary_map: return check_binary_map(spec, model, base);
  }
  return internal_error("unknown task kind");
}

}  // namespace edgepack

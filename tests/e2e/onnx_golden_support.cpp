#include "tests/e2e/onnx_golden_support.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/model_loader.h"
#include "formats/npy.h"
#include "runtime_ref/interpreter.h"
#include "runtime_ref/metrics.h"

namespace edgepack::testing {

namespace {

std::vector<float> floats_of(const tensor& t) {
  auto values = to_float_vector(t);
  return values.ok() ? *values : std::vector<float>{};
}

}  // namespace

golden_case_result run_golden_case(const std::filesystem::path& model_path, const std::filesystem::path& case_dir, double factor, double floor) {
  golden_case_result result;
  std::ifstream manifest_file(case_dir / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(manifest_file, nullptr, false);
  if (manifest.is_discarded()) {
    result.error = "cannot parse " + (case_dir / "manifest.json").string();
    return result;
  }
  auto m = load_model(model_path.string(), {});
  if (!m.ok()) {
    result.error = m.status().message();
    return result;
  }
  auto interp = interpreter::create(m->g);
  if (!interp.ok()) {
    result.error = interp.status().message();
    return result;
  }
  const int steps = manifest.value("num_steps", 1);
  const nlohmann::json carry = manifest.value("state_carry", nlohmann::json::object());
  tensor_map previous_outputs;
  for (int step = 0; step < steps; ++step) {
    const std::filesystem::path dir = steps == 1 ? case_dir : case_dir / ("step_" + std::to_string(step));
    const nlohmann::json& io = steps == 1 ? manifest : manifest["steps"][step];
    tensor_map inputs;
    for (const auto& in : io["inputs"]) {
      const std::string name = in["name"];
      if (step > 0 && carry.contains(name)) {
        inputs[name] = previous_outputs.at(carry[name].get<std::string>());
        continue;
      }
      auto t = read_npy((dir / std::filesystem::path(in["file"].get<std::string>()).filename()).string());
      if (!t.ok()) {
        result.error = t.status().message();
        return result;
      }
      inputs[name] = *t;
    }
    auto outputs = interp->run(inputs);
    if (!outputs.ok()) {
      result.error = outputs.status().message();
      return result;
    }
    for (const auto& out : io["outputs"]) {
      const std::string name = out["name"];
      auto expected = read_npy((dir / std::filesystem::path(out["file"].get<std::string>()).filename()).string());
      if (!expected.ok() || !outputs->count(name)) {
        result.error = "missing output " + name;
        return result;
      }
      const auto ours = floats_of(outputs->at(name));
      const auto theirs = floats_of(*expected);
      golden_output_result r;
      r.name = name;
      r.step = step;
      r.ort_opt_level_diff = out.value("max_abs_diff_opt_levels", 0.0);
      r.tolerance = std::max(factor * r.ort_opt_level_diff, floor);
      r.max_abs_err = ours.size() == theirs.size() ? max_abs_diff(ours, theirs) : INFINITY;
      result.outputs.push_back(r);
      if (step == 0 && result.outputs.size() == 1 && manifest.contains("predicted_class")) {
        result.predicted_class = static_cast<int>(argmax(ours));
        result.expected_class = manifest["predicted_class"].get<int>();
      }
    }
    previous_outputs = std::move(outputs).value();
  }
  return result;
}

}  // namespace edgepack::testing

#include "runtime_ref/input_sets.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/npy.h"

namespace edgepack {

namespace fs = std::filesystem;

namespace {

bool has_npy_files(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && entry.path().extension() == ".npy") return true;
  return false;
}

bool is_case_dir(const fs::path& dir) {
  std::error_code ec;
  return has_npy_files(dir) || fs::is_directory(dir / "step_0", ec);
}

// "input_<k>" -> k, else -1.
int64_t golden_input_index(const std::string& stem) {
  if (stem.rfind("input_", 0) != 0 || stem.size() == 6) return -1;
  int64_t k = -1;
  const char* first = stem.data() + 6;
  const char* last = stem.data() + stem.size();
  const auto [end, ec] = std::from_chars(first, last, k);
  return ec == std::errc() && end == last ? k : -1;
}

bool is_golden_output(const std::string& stem) {
  return stem.rfind("output_", 0) == 0 && stem.size() > 7 && std::all_of(stem.begin() + 7, stem.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string dims_text(const value_info& info) {
  std::string s = "[";
  for (size_t i = 0; i < info.shape.size(); ++i) s += (i ? ", " : "") + (info.shape[i].value >= 0 ? std::to_string(info.shape[i].value) : info.shape[i].symbol);
  return s + "]";
}

Status check_fits(const fs::path& file, const tensor& t, const value_info& info) {
  if (t.type != info.type)
    return bad_input(file.string() + ": dtype " + std::string(dtype_name(t.type)) + ", but graph input '" + info.name + "' is " +
                     std::string(dtype_name(info.type)));
  bool fits = t.shape.size() == info.shape.size();
  for (size_t i = 0; fits && i < info.shape.size(); ++i) fits = info.shape[i].value < 0 || info.shape[i].value == t.shape[i];
  if (!fits)
    return bad_input(file.string() + ": shape " + shape_to_string(t.shape) + ", but graph input '" + info.name + "' is " + dims_text(info));
  return Status::ok_status();
}

std::string graph_input_names(const graph& g) {
  std::string names;
  for (size_t k = 0; k < g.inputs.size(); ++k) names += (k ? ", " : "") + g.inputs[k].name;
  return names;
}

// One step's files. `carried` inputs may be missing (they come from the previous step).
Expected<tensor_map> read_step(const fs::path& dir, const graph& g, const std::map<std::string, std::string>& carried) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && entry.path().extension() == ".npy") files.push_back(entry.path());
  if (ec) return bad_input(dir.string() + ": cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  std::map<std::string, fs::path> chosen;  // graph input name -> file
  for (const auto& file : files) {
    const std::string stem = file.stem().string();
    if (is_golden_output(stem)) continue;
    std::string name;
    for (const auto& info : g.inputs)
      if (info.name == stem) name = stem;
    if (name.empty()) {
      const int64_t k = golden_input_index(stem);
      if (k >= static_cast<int64_t>(g.inputs.size()))
        return bad_input(file.string() + ": input index " + std::to_string(k) + ", but the graph has " + std::to_string(g.inputs.size()) +
                         " input(s): " + graph_input_names(g));
      if (k < 0)
        return bad_input(file.string() + ": '" + stem + "' is not a graph input (inputs: " + graph_input_names(g) +
                         "; name files <input>.npy or input_<k>.npy)");
      name = g.inputs[static_cast<size_t>(k)].name;
    }
    if (carried.count(name)) continue;
    if (chosen.count(name))
      return bad_input(file.string() + ": graph input '" + name + "' is already given by " + chosen[name].filename().string());
    chosen[name] = file;
  }
  tensor_map inputs;
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    const value_info& info = g.inputs[k];
    if (carried.count(info.name)) continue;
    const auto it = chosen.find(info.name);
    if (it == chosen.end())
      return bad_input(dir.string() + ": no file for graph input '" + info.name + "' (" + info.name + ".npy or input_" + std::to_string(k) + ".npy)");
    EP_ASSIGN_OR_RETURN(tensor t, read_npy(it->second.string()));
    EP_RETURN_IF_ERROR(check_fits(it->second, t, info));
    inputs[info.name] = std::move(t);
  }
  return inputs;
}

Expected<std::map<std::string, std::string>> read_state_carry(const fs::path& dir, const graph& g) {
  std::map<std::string, std::string> carry;
  const fs::path path = dir / "manifest.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return carry;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const nlohmann::json manifest = nlohmann::json::parse(text.str(), nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object()) return bad_input(path.string() + ": not a JSON object");
  if (!manifest.contains("state_carry")) return carry;
  const nlohmann::json& sc = manifest["state_carry"];
  if (!sc.is_object()) return bad_input(path.string() + ": state_carry must be an object {input: output}");
  for (const auto& item : sc.items()) {
    // Plain names, not a structured binding: clang 14 cannot capture bindings in the lambdas below.
    const std::string input = item.key();
    if (!item.value().is_string()) return bad_input(path.string() + ": state_carry['" + input + "'] must be an output name");
    const std::string output = item.value().get<std::string>();
    const bool is_input = std::any_of(g.inputs.begin(), g.inputs.end(), [&](const value_info& v) { return v.name == input; });
    const bool is_output = std::any_of(g.outputs.begin(), g.outputs.end(), [&](const value_info& v) { return v.name == output; });
    if (!is_input || !is_output)
      return bad_input(path.string() + ": state_carry '" + input + "' <- '" + output + "' does not name a graph input and a graph output");
    carry[input] = output;
  }
  return carry;
}

Expected<input_case> read_case(const fs::path& dir, const std::string& name, const graph& g) {
  input_case c;
  c.name = name;
  std::error_code ec;
  if (!fs::is_directory(dir / "step_0", ec)) {
    EP_ASSIGN_OR_RETURN(tensor_map inputs, read_step(dir, g, {}));
    c.steps.push_back(std::move(inputs));
    return c;
  }
  EP_ASSIGN_OR_RETURN(c.state_carry, read_state_carry(dir, g));
  for (int s = 0; fs::is_directory(dir / ("step_" + std::to_string(s)), ec); ++s) {
    EP_ASSIGN_OR_RETURN(tensor_map inputs, read_step(dir / ("step_" + std::to_string(s)), g, s == 0 ? std::map<std::string, std::string>{} : c.state_carry));
    c.steps.push_back(std::move(inputs));
  }
  return c;
}

}  // namespace

Expected<std::vector<input_case>> read_input_cases(const std::string& dir, const graph& g) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return bad_input(dir + ": input folder not found");
  if (!fs::is_directory(dir, ec)) return bad_input(dir + ": not a folder (--inputs names a folder of .npy files)");
  std::vector<input_case> cases;
  if (is_case_dir(dir)) {
    fs::path named = fs::path(dir).lexically_normal();
    if (!named.has_filename()) named = named.parent_path();  // "DIR/" -> "DIR"
    const std::string name = named.filename().string();
    EP_ASSIGN_OR_RETURN(input_case c, read_case(dir, name.empty() || name == "." || name == ".." ? "." : name, g));
    cases.push_back(std::move(c));
    return cases;
  }
  std::vector<fs::path> subdirs;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec) && is_case_dir(entry.path())) subdirs.push_back(entry.path());
  if (ec) return bad_input(dir + ": cannot list the folder: " + ec.message());
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& sub : subdirs) {
    EP_ASSIGN_OR_RETURN(input_case c, read_case(sub, sub.filename().string(), g));
    cases.push_back(std::move(c));
  }
  if (cases.empty())
    return bad_input(dir + ": no input sets: expected .npy files (<input>.npy or input_<k>.npy) in the folder or in its subfolders");
  return cases;
}

}  // namespace edgepack

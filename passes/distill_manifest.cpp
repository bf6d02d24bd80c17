#include "passes/distill_manifest.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/sha256.h"
#include "formats/safetensors.h"

namespace edgepack {

namespace fs = std::filesystem;
using nlohmann::json;

nlohmann::json distill_manifest_json(const distill_targets_written& written, const std::string& tokenizer_sha256, const nlohmann::json& provenance) {
  const distill_spec& s = written.spec;
  json tensors = json::object();
  for (const auto& t : distill_layout(s).tensors) tensors[t.name] = {{"dtype", dtype_name(t.type)}, {"sample_shape", t.sample_shape}};
  int64_t samples = 0;
  for (const auto& shard : written.shards) samples += shard["samples"].get<int64_t>();
  json tokenizer = provenance.value("tokenizer", json::object());
  tokenizer["sha256"] = tokenizer_sha256;
  tokenizer["vocab_size"] = s.vocab_size;
  return {{"format", distill_format_name},
          {"format_version", distill_format_version},
          {"teacher", provenance.value("teacher", json::object())},
          {"tokenizer", tokenizer},
          {"data", provenance.value("data", json::object())},
          {"windows", provenance.value("windows", json::object())},
          {"targets",
           {{"kind", s.top_k == 0 ? "full" : "top_k"},
            {"top_k", s.top_k},
            {"temperature", s.temperature},
            {"logprobs", "log_softmax(logits / temperature), natural log, f32"},
            {"seq", s.seq},
            {"samples", samples},
            {"vocab_size", s.vocab_size},
            {"dim", s.dim},
            {"hidden_layers", s.hidden_layers},
            {"hidden_dtype", dtype_name(s.hidden_type)},
            {"hidden_value", "residual stream after transformer block L (0-based)"}}},
          {"tensors", tensors},
          {"shards", written.shards},
          {"total_bytes", written.bytes}};
}

bool is_distill_targets_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / distill_manifest_file, ec);
}

namespace {

// Typed field access with messages that name the file and the key path.
struct fields {
  std::string file;
  template <class T>
  Expected<T> get(const json& object, const std::string& key, const std::string& where) const {
    const std::string path = where.empty() ? key : where + "." + key;
    if (!object.is_object() || !object.contains(key)) return bad_input(file + ": missing field '" + path + "'");
    const json& v = object[key];
    if constexpr (std::is_same_v<T, std::string>) {
      if (v.is_string()) return v.get<std::string>();
    } else if constexpr (std::is_same_v<T, double>) {
      if (v.is_number()) return v.get<double>();
    } else {
      if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<T>();
    }
    return bad_input(file + ": field '" + path + "' has the wrong type or a negative value: " + v.dump());
  }
};

bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos && name.find('\\') == std::string::npos;
}

}  // namespace

Expected<distill_manifest> read_distill_manifest(const std::string& dir) {
  const std::string file = (fs::path(dir) / distill_manifest_file).string();
  std::ifstream in(file, std::ios::binary);
  if (!in) return bad_input(file + ": cannot open (is " + dir + " a distill-targets directory?)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_distill_manifest(text.str(), file, dir);
}

Expected<distill_manifest> parse_distill_manifest(const std::string& text, const std::string& file, const std::string& dir) {
  distill_manifest m;
  try {
    m.json = json::parse(text);
  } catch (const std::exception& e) {
    return bad_input(file + ": not valid JSON: " + e.what());
  }
  const fields f{file};
  const json& j = m.json;
  EP_ASSIGN_OR_RETURN(std::string format, f.get<std::string>(j, "format", ""));
  if (format != distill_format_name) return bad_input(file + ": format is '" + format + "', expected '" + distill_format_name + "'");
  EP_ASSIGN_OR_RETURN(int64_t version, f.get<int64_t>(j, "format_version", ""));
  if (version != distill_format_version)
    return bad_input(file + ": format_version " + std::to_string(version) + " is not supported (this edgepack reads version " +
                     std::to_string(distill_format_version) + ")");
  if (!j.contains("targets")) return bad_input(file + ": missing field 'targets'");
  const json& t = j["targets"];
  distill_spec& s = m.spec;
  EP_ASSIGN_OR_RETURN(s.top_k, f.get<int64_t>(t, "top_k", "targets"));
  EP_ASSIGN_OR_RETURN(s.temperature, f.get<double>(t, "temperature", "targets"));
  EP_ASSIGN_OR_RETURN(s.seq, f.get<int64_t>(t, "seq", "targets"));
  EP_ASSIGN_OR_RETURN(m.samples, f.get<int64_t>(t, "samples", "targets"));
  EP_ASSIGN_OR_RETURN(s.vocab_size, f.get<int64_t>(t, "vocab_size", "targets"));
  EP_ASSIGN_OR_RETURN(s.dim, f.get<int64_t>(t, "dim", "targets"));
  EP_ASSIGN_OR_RETURN(std::string hidden_dtype, f.get<std::string>(t, "hidden_dtype", "targets"));
  const auto hidden_type = dtype_from_name(hidden_dtype);
  if (!hidden_type || (*hidden_type != dtype::f32 && *hidden_type != dtype::f16))
    return bad_input(file + ": targets.hidden_dtype '" + hidden_dtype + "' is not F32 or F16");
  s.hidden_type = *hidden_type;
  if (!t.contains("hidden_layers") || !t["hidden_layers"].is_array()) return bad_input(file + ": targets.hidden_layers must be an array");
  for (const auto& layer : t["hidden_layers"]) {
    if (!layer.is_number_integer() || layer.get<int64_t>() < 0 || (!s.hidden_layers.empty() && layer.get<int64_t>() <= s.hidden_layers.back()))
      return bad_input(file + ": targets.hidden_layers must hold distinct non-negative layers in ascending order");
    s.hidden_layers.push_back(layer.get<int64_t>());
  }
  if (s.seq < 2 || s.vocab_size < 1 || s.top_k > s.vocab_size || !(s.temperature > 0) || !std::isfinite(s.temperature) || m.samples < 1 || s.dim < 1 || s.seq > (int64_t{1} << 24) ||
      s.vocab_size > (int64_t{1} << 31) - 1 || s.dim > (int64_t{1} << 24))
    return bad_input(file + ": targets describe an impossible layout (seq " + std::to_string(s.seq) + ", vocab " + std::to_string(s.vocab_size) + ", top_k " +
                     std::to_string(s.top_k) + ", samples " + std::to_string(m.samples) + ")");
  if (!j.contains("tokenizer")) return bad_input(file + ": missing field 'tokenizer'");
  EP_ASSIGN_OR_RETURN(m.tokenizer_sha256, f.get<std::string>(j["tokenizer"], "sha256", "tokenizer"));
  if (!j.contains("shards") || !j["shards"].is_array() || j["shards"].empty()) return bad_input(file + ": 'shards' must be a non-empty array");
  int64_t next = 0;
  for (size_t i = 0; i < j["shards"].size(); ++i) {
    const json& e = j["shards"][i];
    const std::string where = "shards[" + std::to_string(i) + "]";
    distill_shard shard;
    EP_ASSIGN_OR_RETURN(shard.file, f.get<std::string>(e, "file", where));
    EP_ASSIGN_OR_RETURN(shard.first_sample, f.get<int64_t>(e, "first_sample", where));
    EP_ASSIGN_OR_RETURN(shard.samples, f.get<int64_t>(e, "samples", where));
    EP_ASSIGN_OR_RETURN(shard.bytes, f.get<uint64_t>(e, "bytes", where));
    EP_ASSIGN_OR_RETURN(shard.sha256, f.get<std::string>(e, "sha256", where));
    if (!plain_file_name(shard.file)) return bad_input(file + ": " + where + ".file '" + shard.file + "' must be a plain file name inside " + dir);
    if (shard.first_sample != next || shard.samples < 1)
      return bad_input(file + ": " + where + " covers samples " + std::to_string(shard.first_sample) + "+" + std::to_string(shard.samples) +
                       ", expected to start at " + std::to_string(next));
    next += shard.samples;
    m.shards.push_back(std::move(shard));
  }
  if (next != m.samples) return bad_input(file + ": the shards hold " + std::to_string(next) + " samples, targets.samples says " + std::to_string(m.samples));
  return m;
}

Expected<std::map<std::string, tensor>> read_distill_shard(const std::string& dir, const distill_manifest& manifest, size_t index) {
  const distill_shard& entry = manifest.shards.at(index);
  const std::string path = (fs::path(dir) / entry.file).string();
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return bad_input(path + ": cannot read shard listed in the manifest: " + ec.message());
  if (size != entry.bytes)
    return bad_input(path + ": shard is " + std::to_string(size) + " bytes, the manifest says " + std::to_string(entry.bytes) + " (truncated or replaced)");
  EP_ASSIGN_OR_RETURN(std::string digest, sha256_file_hex(path));
  if (digest != entry.sha256) return bad_input(path + ": sha256 " + digest + " does not match the manifest's " + entry.sha256 + " (corrupt or modified shard)");
  EP_ASSIGN_OR_RETURN(safetensors_file file, read_safetensors(path));
  const shard_layout layout = distill_layout(manifest.spec);
  if (file.tensors.size() != layout.tensors.size())
    return bad_input(path + ": holds " + std::to_string(file.tensors.size()) + " tensors, the manifest's targets need " + std::to_string(layout.tensors.size()));
  for (const auto& spec : layout.tensors) {
    auto it = file.tensors.find(spec.name);
    if (it == file.tensors.end()) return bad_input(path + ": tensor '" + spec.name + "' is missing");
    std::vector<int64_t> shape{entry.samples};
    shape.insert(shape.end(), spec.sample_shape.begin(), spec.sample_shape.end());
    if (it->second.type != spec.type || it->second.shape != shape)
      return bad_input(path + ": tensor '" + spec.name + "' is " + std::string(dtype_name(it->second.type)) + " " + shape_to_string(it->second.shape) +
                       ", expected " + std::string(dtype_name(spec.type)) + " " + shape_to_string(shape));
  }
  const tensor& ids = file.tensors.at(distill_token_ids);
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t v = ids.data_as<int64_t>()[i];
    if (v < 0 || v >= manifest.spec.vocab_size) return bad_input(path + ": token_ids holds " + std::to_string(v) + ", outside the vocabulary");
  }
  const tensor& values = file.tensors.at(manifest.spec.top_k == 0 ? distill_full_logprobs : distill_topk_logprobs);
  for (int64_t i = 0; i < values.numel(); ++i) {
    const float v = values.data_as<float>()[i];
    if (!std::isfinite(v) || v > 1e-5f)
      return bad_input(path + ": " + (manifest.spec.top_k == 0 ? distill_full_logprobs : distill_topk_logprobs) + " holds " + std::to_string(v) +
                       ", not a log-probability");
  }
  if (manifest.spec.top_k != 0) {
    const tensor& indices = file.tensors.at(distill_topk_indices);
    for (int64_t i = 0; i < indices.numel(); ++i) {
      const int32_t v = indices.data_as<int32_t>()[i];
      if (v < 0 || v >= manifest.spec.vocab_size) return bad_input(path + ": teacher_topk_indices holds " + std::to_string(v) + ", outside the vocabulary");
    }
  }
  return std::move(file.tensors);
}

}  // namespace edgepack

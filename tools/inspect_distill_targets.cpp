#include "tools/inspect_distill_targets.h"

#include <cstdio>
#include <filesystem>

#include "formats/safetensors.h"
#include "passes/distill_manifest.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

namespace {

std::string shape_text(const nlohmann::json& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i].get<int64_t>());
  return s + "]";
}

Status inspect_dir(const std::string& dir, bool json) {
  EP_ASSIGN_OR_RETURN(distill_manifest m, read_distill_manifest(dir));
  // Whole-dataset tensors: [samples, ...sample_shape]; each shard holds a slice along dim 0.
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : distill_layout(m.spec).tensors) {
    std::vector<int64_t> shape{m.samples};
    shape.insert(shape.end(), t.sample_shape.begin(), t.sample_shape.end());
    tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.type)}, {"shape", shape}, {"bytes", t.sample_bytes() * static_cast<uint64_t>(m.samples)}});
  }
  uint64_t bytes = 0;
  for (const auto& shard : m.shards) {
    const std::string path = (std::filesystem::path(dir) / shard.file).string();
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return bad_input(path + ": shard listed in the manifest cannot be read: " + ec.message());
    if (size != shard.bytes) return bad_input(path + ": shard is " + std::to_string(size) + " bytes, the manifest says " + std::to_string(shard.bytes));
    bytes += size;
  }
  const int64_t tokens = m.samples * m.spec.seq;
  const nlohmann::json& j = m.json;
  nlohmann::json out = {{"path", dir},
                        {"format", "distill_targets"},
                        {"teacher", j.value("teacher", nlohmann::json::object())},
                        {"tokenizer", j.value("tokenizer", nlohmann::json::object())},
                        {"data", j.value("data", nlohmann::json::object())},
                        {"windows", j.value("windows", nlohmann::json::object())},
                        {"targets", j["targets"]},
                        {"tensors", tensors},
                        {"shards", j["shards"]},
                        {"file_bytes", bytes},
                        {"bytes_per_1k_tokens", static_cast<double>(bytes) * 1000.0 / static_cast<double>(tokens)}};
  if (json) {
    print_json(out);
    return Status::ok_status();
  }
  const auto& teacher = out["teacher"];
  std::printf("%s: distillation targets, %lld samples x %lld tokens, %zu shard(s), %llu bytes (%.1f KiB per 1k tokens)\n", dir.c_str(),
              static_cast<long long>(m.samples), static_cast<long long>(m.spec.seq), m.shards.size(), static_cast<unsigned long long>(bytes),
              out["bytes_per_1k_tokens"].get<double>() / 1024.0);
  std::printf("teacher: %s; targets: %s, temperature %g, vocab %lld; tokenizer sha256 %s\n", teacher.value("path", std::string("?")).c_str(),
              m.spec.top_k == 0 ? "full log-probs" : ("top-" + std::to_string(m.spec.top_k)).c_str(), m.spec.temperature,
              static_cast<long long>(m.spec.vocab_size), m.tokenizer_sha256.c_str());
  const auto& data = out["data"];
  if (data.is_object() && data.contains("path"))
    std::printf("data: %s [%s], windows: %s\n", data.value("path", std::string()).c_str(), data.value("range", std::string()).c_str(), out["windows"].dump().c_str());
  std::printf("%-28s %-6s %-20s %14s\n", "tensor", "dtype", "shape", "bytes");
  for (const auto& t : tensors)
    std::printf("%-28s %-6s %-20s %14llu\n", t["name"].get<std::string>().c_str(), t["dtype"].get<std::string>().c_str(), shape_text(t["shape"]).c_str(),
                static_cast<unsigned long long>(t["bytes"].get<uint64_t>()));
  for (const auto& s : m.shards)
    std::printf("shard %s: samples %lld..%lld, %llu bytes, sha256 %s\n", s.file.c_str(), static_cast<long long>(s.first_sample),
                static_cast<long long>(s.first_sample + s.samples - 1), static_cast<unsigned long long>(s.bytes), s.sha256.c_str());
  return Status::ok_status();
}

Status inspect_shard(const std::string& path, const safetensors_file& file, bool json) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, t] : file.tensors) tensors.push_back({{"name", name}, {"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"bytes", t.data.size}});
  std::error_code ec;
  nlohmann::json out = {{"path", path}, {"format", "distill_targets_shard"}, {"file_bytes", std::filesystem::file_size(path, ec)},
                        {"metadata", file.metadata}, {"tensors", tensors}};
  if (json) {
    print_json(out);
    return Status::ok_status();
  }
  std::printf("%s: distillation-targets shard, %llu bytes; metadata %s\n", path.c_str(), static_cast<unsigned long long>(out["file_bytes"].get<uint64_t>()),
              out["metadata"].dump().c_str());
  std::printf("%-28s %-6s %-20s %14s\n", "tensor", "dtype", "shape", "bytes");
  for (const auto& t : tensors)
    std::printf("%-28s %-6s %-20s %14llu\n", t["name"].get<std::string>().c_str(), t["dtype"].get<std::string>().c_str(), shape_text(t["shape"]).c_str(),
                static_cast<unsigned long long>(t["bytes"].get<uint64_t>()));
  return Status::ok_status();
}

}  // namespace

std::optional<Status> inspect_distill_targets(const std::string& path, bool json) {
  if (is_distill_targets_dir(path)) return inspect_dir(path, json);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || !path.ends_with(".safetensors")) return std::nullopt;
  auto file = read_safetensors(path);
  if (!file.ok()) return std::nullopt;  // the model reader reports it
  const auto it = file->metadata.find("format");
  if (it == file->metadata.end() || it->second != distill_format_name) return std::nullopt;
  return inspect_shard(path, *file, json);
}

}  // namespace edgepack::cli

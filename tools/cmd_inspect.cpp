// edgepack inspect FILE [--json]: what a model file holds and what it costs in bytes.
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/quant_codes.h"
#include "core/tensor_summary.h"
#include "formats/epk.h"
#include "passes/weight_selection.h"
#include "report/recorded_errors.h"
#include "tools/cli_common.h"
#include "tools/inspect_distill_targets.h"

namespace edgepack::cli {

namespace {

uint64_t path_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return fs::file_size(path, ec);
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path, ec))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

nlohmann::json describe(const model& m, const std::string& path) {
  nlohmann::json tensors = nlohmann::json::array();
  uint64_t params = 0, weight_bytes = 0, quant_params = 0, quant_bytes = 0, param_tensors = 0, sparse_params = 0, sparse_bytes = 0;
  for (const auto& [name, t] : m.g.weights) {
    // Graph constants we generate (rotary tables, reshape shapes) are not parameters.
    const bool derived = is_derived_constant(name);
    const auto count = static_cast<uint64_t>(t.numel());
    const double bits = tensor_bits_per_weight(t);
    tensors.push_back({{"name", name}, {"shape", t.shape}, {"encoding", tensor_encoding_text(t)}, {"bytes", t.stored_bytes()}, {"bits_per_weight", bits},
                       {"parameter", !derived}});
    // Non-default matrix views (docs/format.md §5) only, so LLM listings keep their keys.
    if (t.is_quantized() && (t.quant.col_axis >= 0 || t.quant.transposed)) {
      tensors.back()["col_axis"] = t.quant.col_axis;
      tensors.back()["transposed"] = t.quant.transposed;
      tensors.back()["view"] = weight_view_text(t.shape, t.quant);
    }
    if (t.is_sparse()) {
      // bits_per_weight above already counts every blob: values, scales, zeros and index metadata.
      const uint64_t metadata = t.indices.size + t.mask.size + t.row_offsets.size;
      tensors.back()["layout"] = sparse_encoding_name(t.sparsity);
      tensors.back()["sparsity"] = tensor_zero_fraction(t);
      tensors.back()["metadata_bytes"] = metadata;
      tensors.back()["metadata_bits_per_weight"] = count ? 8.0 * static_cast<double>(metadata) / static_cast<double>(count) : 0.0;
    }
    if (derived) continue;
    if (t.is_sparse()) {
      sparse_params += count;
      sparse_bytes += t.stored_bytes();
    }
    ++param_tensors;
    params += count;
    weight_bytes += t.stored_bytes();
    if (t.is_quantized()) {
      quant_params += count;
      quant_bytes += t.stored_bytes();
    }
  }
  nlohmann::json j = {{"path", path},
                      {"format", m.format},
                      {"file_bytes", path_bytes(path)},
                      {"parameters", params},
                      {"parameter_tensors", param_tensors},
                      {"weight_bytes", weight_bytes},
                      {"bits_per_weight", params ? 8.0 * static_cast<double>(weight_bytes) / static_cast<double>(params) : 0.0},
                      {"quantized_parameters", quant_params},
                      {"quantized_bits_per_weight", quant_params ? 8.0 * static_cast<double>(quant_bytes) / static_cast<double>(quant_params) : 0.0},
                      {"sparse_parameters", sparse_params},
                      {"sparse_bits_per_weight", sparse_params ? 8.0 * static_cast<double>(sparse_bytes) / static_cast<double>(sparse_params) : 0.0},
                      {"nodes", m.g.nodes.size()},
                      {"tensors", tensors}};
  if (m.llm) {
    const llm_config& c = *m.llm;
    j["architecture"] = {{"type", c.architecture}, {"dim", c.dim},         {"hidden_dim", c.hidden_dim}, {"layers", c.layers},
                         {"heads", c.heads},       {"kv_heads", c.kv_heads}, {"head_dim", c.head_dim},    {"vocab_size", c.vocab_size},
                         {"max_seq_len", c.max_seq_len}, {"rope_theta", c.rope_theta}, {"norm_eps", c.norm_eps}, {"tied_embeddings", c.tied_embeddings}};
  }
  j["tokenizer"] = m.vocab.empty() ? nlohmann::json(nullptr) : nlohmann::json({{"pieces", m.vocab.pieces.size()}});
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : m.sources) sources.push_back({{"path", s.path}, {"sha256", s.sha256}, {"bytes", s.bytes}});
  j["sources"] = sources;
  return j;
}

// Copies the per-tensor relative_error (||W - Q||_F / ||W||_F) of the recorded quantize stats
// (extra.pass.tensors[], see cmd_quantize) onto the tensor entries, so inspect shows per-layer error.
void add_relative_errors(nlohmann::json& j) {
  const auto errors = report::recorded_relative_errors(j["provenance"]["extra"]);
  for (auto& t : j["tensors"]) {
    const auto it = errors.find(t["name"].get<std::string>());
    if (it != errors.end()) t["relative_error"] = it->second;
  }
}

void print_human(const nlohmann::json& j) {
  std::printf("%s: %s, %llu bytes on disk\n", j["path"].get<std::string>().c_str(), j["format"].get<std::string>().c_str(),
              static_cast<unsigned long long>(j["file_bytes"].get<uint64_t>()));
  if (j.contains("architecture")) {
    const auto& a = j["architecture"];
    std::printf("architecture: %s, dim %lld, hidden %lld, %lld layers, %lld heads / %lld KV heads, head_dim %lld, vocab %lld, context %lld%s\n",
                a["type"].get<std::string>().c_str(), a["dim"].get<long long>(), a["hidden_dim"].get<long long>(), a["layers"].get<long long>(),
                a["heads"].get<long long>(), a["kv_heads"].get<long long>(), a["head_dim"].get<long long>(), a["vocab_size"].get<long long>(),
                a["max_seq_len"].get<long long>(), a["tied_embeddings"].get<bool>() ? ", tied embeddings" : "");
  }
  std::printf("parameters: %llu in %zu tensors, %llu weight bytes, %.3f bits per weight overall", static_cast<unsigned long long>(j["parameters"].get<uint64_t>()),
              static_cast<size_t>(j["parameter_tensors"].get<uint64_t>()), static_cast<unsigned long long>(j["weight_bytes"].get<uint64_t>()), j["bits_per_weight"].get<double>());
  if (j["quantized_parameters"].get<uint64_t>() > 0)
    std::printf("; quantized: %llu parameters at %.3f bits per weight", static_cast<unsigned long long>(j["quantized_parameters"].get<uint64_t>()),
                j["quantized_bits_per_weight"].get<double>());
  if (j["sparse_parameters"].get<uint64_t>() > 0)
    std::printf("; sparse: %llu parameters at %.3f bits per weight (incl. scales, zeros, indices/masks)",
                static_cast<unsigned long long>(j["sparse_parameters"].get<uint64_t>()), j["sparse_bits_per_weight"].get<double>());
  // Per-layer quantization error, when the file records it (quantize stats in "extra").
  bool has_error = false;
  for (const auto& t : j["tensors"]) has_error = has_error || t.contains("relative_error");
  std::printf("\n%-52s %-16s %-12s %12s %8s%s\n", "tensor", "shape", "encoding", "bytes", "bits/w", has_error ? "  rel.error" : "");
  for (const auto& t : j["tensors"]) {
    std::string shape = "[";
    for (size_t i = 0; i < t["shape"].size(); ++i) shape += (i ? "," : "") + std::to_string(t["shape"][i].get<int64_t>());
    shape += "]";
    const std::string encoding = t["encoding"].get<std::string>() + (t.contains("view") ? " (" + t["view"].get<std::string>() + ")" : "");
    std::printf("%-52s %-16s %-12s %12llu %8.3f", t["name"].get<std::string>().c_str(), shape.c_str(), encoding.c_str(),
                static_cast<unsigned long long>(t["bytes"].get<uint64_t>()), t["bits_per_weight"].get<double>());
    if (t.contains("relative_error")) std::printf("  %9.6f", t["relative_error"].get<double>());
    if (t.contains("layout"))
      std::printf("  %s, %.1f %% zeros, metadata %.3f bits/w", t["layout"].get<std::string>().c_str(), 100.0 * t["sparsity"].get<double>(),
                  t["metadata_bits_per_weight"].get<double>());
    std::printf("\n");
  }
  if (j.contains("provenance")) {
    const auto& p = j["provenance"];
    std::printf("written by edgepack %s (.epk %s) from a %s model", p["edgepack_version"].get<std::string>().c_str(),
                p["format_version"].get<std::string>().c_str(), p["source_format"].get<std::string>().c_str());
    if (p["extra"].contains("options")) std::printf("; options %s", p["extra"]["options"].dump().c_str());
    std::printf("\n");
  }
  for (const auto& s : j["sources"])
    std::printf("source: %s (%llu bytes, sha256 %s)\n", s["path"].get<std::string>().c_str(), static_cast<unsigned long long>(s["bytes"].get<uint64_t>()),
                s["sha256"].get<std::string>().empty() ? "not recorded" : s["sha256"].get<std::string>().c_str());
}

}  // namespace

void register_inspect(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto options = std::make_shared<load_options>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show architecture, tensors, encodings and sizes of a model file");
  cmd->add_option("file", *path, "llama2.c .bin, Hugging Face directory, .safetensors or .epk")->required();
  cmd->add_flag("--json", *json, "Print JSON on stdout");
  add_tokenizer_option(*cmd, *options);
  cmd->callback([path, json, options, &exit_code] {
    if (auto targets = inspect_distill_targets(*path, *json)) {  // a distill-targets directory or shard
      exit_code = report(*targets);
      return;
    }
    auto m = load(*path, *options);
    if (!m.ok()) {
      exit_code = report(m.status());
      return;
    }
    nlohmann::json j = describe(*m, *path);
    if (m->format == "epk") {
      // What made the file: edgepack version, source format and the pass options/statistics.
      auto meta = read_epk_metadata(*path);
      if (!meta.ok()) {
        exit_code = report(meta.status());
        return;
      }
      const auto& md = meta->at("metadata");
      j["provenance"] = {{"edgepack_version", md.value("edgepack_version", "")}, {"source_format", md.value("source_format", "")},
                         {"format_version", md.value("format_version", "")}, {"extra", md.value("extra", nlohmann::json::object())}};
      add_relative_errors(j);
    }
    if (*json) print_json(j);
    else print_human(j);
    exit_code = 0;
  });
}

}  // namespace edgepack::cli

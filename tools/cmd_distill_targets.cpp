// edgepack distill-targets TEACHER --data TEXT -o DIR [--top-k K|full] [--temperature T]
// [--hidden-layers LIST] [--samples N --seq L]: the teacher's targets for knowledge distillation as
// size-bounded safetensors shards plus manifest.json (docs/distill.md).
#include <charconv>
#include <cstdio>
#include <filesystem>

#include "calibration/calib_windows.h"
#include "calibration/text_source.h"
#include "core/atomic_file.h"
#include "core/sha256.h"
#include "passes/distill_manifest.h"
#include "runtime_ref/kernel_threads.h"
#include "tools/cli_common.h"
#include "tools/progress.h"
#include "tools/provenance.h"

namespace edgepack::cli {

namespace {

struct distill_args {
  std::string teacher, data, range, output;
  int64_t samples = 128, seq = 256;
  uint64_t seed = 0;
  std::string sampling = "random";
  std::string top_k = "64";
  double temperature = 1.0;
  std::string hidden_layers, hidden_dtype = "f32";
  std::string shard_size = "256MiB";
  bool force = false, json = false;
  load_options load;
};

Expected<int64_t> parse_count(const std::string& text, const std::string& option) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return bad_usage(option + " '" + text + "' is not an integer");
  return value;
}

Expected<int64_t> parse_top_k(const std::string& text) {
  if (text == "full") return int64_t{0};
  EP_ASSIGN_OR_RETURN(int64_t k, parse_count(text, "--top-k"));
  if (k < 0) return bad_usage("--top-k " + text + " must be at least 1 (or 'full' / 0 for the full log-probs)");
  return k;
}

// "268435456", "256MiB", "256M", "64K", "1G", "1GiB": binary multiples.
Expected<uint64_t> parse_size(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  const std::string suffix = text.substr(digits);
  int shift = -1;
  if (suffix.empty() || suffix == "B") shift = 0;
  if (suffix == "K" || suffix == "KiB" || suffix == "k") shift = 10;
  if (suffix == "M" || suffix == "MiB") shift = 20;
  if (suffix == "G" || suffix == "GiB") shift = 30;
  if (digits == 0 || ec != std::errc() || ptr != text.data() + digits || shift < 0 || value == 0 || value > (uint64_t{1} << (62 - shift)))
    return bad_usage("--shard-size '" + text + "' is not a positive size (bytes, or with K/KiB, M/MiB, G/GiB)");
  return value << shift;
}

Expected<std::vector<int64_t>> parse_layers(const std::string& text) {
  std::vector<int64_t> layers;
  if (text.empty()) return layers;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    EP_ASSIGN_OR_RETURN(int64_t layer, parse_count(text.substr(start, comma - start), "--hidden-layers item"));
    layers.push_back(layer);
    start = comma + 1;
  }
  std::sort(layers.begin(), layers.end());
  return layers;
}

nlohmann::json source_list(const std::vector<source_file>& sources) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : sources) list.push_back({{"path", s.path}, {"sha256", s.sha256}, {"bytes", s.bytes}});
  return list;
}

Status run_distill_targets(const distill_args& args) {
  distill_target_options options;
  EP_ASSIGN_OR_RETURN(options.spec.top_k, parse_top_k(args.top_k));
  options.spec.temperature = args.temperature;
  EP_ASSIGN_OR_RETURN(options.spec.hidden_layers, parse_layers(args.hidden_layers));
  if (args.hidden_dtype != "f32" && args.hidden_dtype != "f16") return bad_usage("--hidden-dtype must be f32 or f16, got '" + args.hidden_dtype + "'");
  options.spec.hidden_type = args.hidden_dtype == "f16" ? dtype::f16 : dtype::f32;
  EP_ASSIGN_OR_RETURN(options.shard_bytes, parse_size(args.shard_size));
  EP_ASSIGN_OR_RETURN(calib_sampling sampling, parse_calib_sampling(args.sampling, "--sampling"));
  if (!std::isfinite(args.temperature) || args.temperature <= 0) return bad_usage("--temperature must be a positive finite number");
  EP_ASSIGN_OR_RETURN(staged_directory out, staged_directory::create(args.output, distill_manifest_file, args.force));

  EP_ASSIGN_OR_RETURN(model teacher, load(args.teacher, args.load));
  if (!teacher.llm) return bad_input(args.teacher + ": distill-targets needs a decoder-only language model (no LLM config)");
  if (teacher.vocab.empty()) return bad_usage(args.teacher + ": the model has no tokenizer to cut --data with; pass --tokenizer tok.bin");
  options.spec.seq = args.seq;
  options.spec.vocab_size = teacher.llm->vocab_size;
  options.spec.dim = teacher.llm->dim;
  EP_RETURN_IF_ERROR(check_distill_spec(options.spec, *teacher.llm));
  if (args.seq > teacher.llm->max_seq_len)
    return bad_usage("--seq " + std::to_string(args.seq) + " exceeds the teacher's context of " + std::to_string(teacher.llm->max_seq_len));
  auto hashes = start_source_hashing(teacher.sources);

  EP_ASSIGN_OR_RETURN(std::string text, read_text_file(args.data, {args.range}));
  calib_window_options wo;
  wo.samples = args.samples;
  wo.seq = args.seq;
  wo.seed = args.seed;
  wo.sampling = sampling;
  wo.flag_prefix = "--";
  EP_ASSIGN_OR_RETURN(calib_windows windows, make_calibration_windows(text, teacher.vocab, wo, args.data + (args.range.empty() ? "" : " [" + args.range + "]")));
  EP_ASSIGN_OR_RETURN(std::string data_sha, sha256_file_hex(args.data));
  std::error_code ec;
  const uint64_t data_bytes = std::filesystem::file_size(args.data, ec);

  const auto& spec = options.spec;
  options.shard_metadata = {{"format", distill_format_name},
                            {"format_version", std::to_string(distill_format_version)},
                            {"top_k", std::to_string(spec.top_k)},
                            {"temperature", nlohmann::json(spec.temperature).dump()},
                            {"seq", std::to_string(spec.seq)},
                            {"vocab_size", std::to_string(spec.vocab_size)}};
  set_kernel_threads(globals().threads);
  const auto count = static_cast<int64_t>(windows.windows.size());
  info("teacher targets for " + std::to_string(count) + " windows of " + std::to_string(spec.seq) + " tokens (" +
       (spec.top_k == 0 ? std::string("full log-probs") : "top-" + std::to_string(spec.top_k)) + ", T " + nlohmann::json(spec.temperature).dump() + ")");
  std::optional<progress_bar> progress;
  options.progress = [&](int64_t done, int64_t total) {
    if (!progress) progress.emplace("distill-targets", total);
    progress->update(done);
    if (done == total) progress->finish();
  };
  auto written = write_distill_targets(teacher, windows.windows, options, out.path());
  if (!written.ok()) return written.status().with_context(args.teacher);
  EP_ASSIGN_OR_RETURN(std::vector<source_file> sources, finish_source_hashing(std::move(hashes)));

  const llm_config& c = *teacher.llm;
  nlohmann::json provenance = {
      {"teacher",
       {{"path", args.teacher},
        {"format", teacher.format},
        {"sources", source_list(sources)},
        {"architecture", {{"dim", c.dim}, {"layers", c.layers}, {"heads", c.heads}, {"kv_heads", c.kv_heads}, {"vocab_size", c.vocab_size}}}}},
      {"tokenizer", {{"pieces", teacher.vocab.pieces.size()}, {"bos_id", teacher.vocab.bos_id}, {"eos_id", teacher.vocab.eos_id}}},
      {"data", {{"path", args.data}, {"sha256", data_sha}, {"bytes", data_bytes}, {"range", args.range}, {"stream_tokens", windows.stream_tokens}}},
      {"windows", {{"sampling", args.sampling}, {"seed", args.seed}, {"samples", count}, {"seq", args.seq}, {"bos_first", true}}}};
  nlohmann::json manifest = distill_manifest_json(*written, vocabulary_sha256(teacher.vocab), provenance);
  manifest["edgepack_version"] = EDGEPACK_VERSION;
  const std::string text_out = manifest.dump(2) + "\n";
  EP_RETURN_IF_ERROR(write_file_atomically((std::filesystem::path(out.path()) / distill_manifest_file).string(), std::as_bytes(std::span<const char>(text_out))));
  EP_RETURN_IF_ERROR(out.commit());

  const double tokens = static_cast<double>(count * spec.seq);
  const double per_1k = static_cast<double>(written->bytes) / tokens * 1000.0;
  if (args.json) {
    print_json({{"output", args.output},
                {"samples", count},
                {"seq", spec.seq},
                {"top_k", spec.top_k},
                {"temperature", spec.temperature},
                {"hidden_layers", spec.hidden_layers},
                {"shards", written->shards.size()},
                {"bytes", written->bytes},
                {"bytes_per_1k_tokens", per_1k}});
  } else {
    std::printf("%s: %lld samples x %lld tokens, %zu shard(s), %llu bytes (%.1f KiB per 1k tokens)\n", args.output.c_str(), static_cast<long long>(count),
                static_cast<long long>(spec.seq), written->shards.size(), static_cast<unsigned long long>(written->bytes), per_1k / 1024.0);
  }
  return Status::ok_status();
}

}  // namespace

void register_distill_targets(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<distill_args>();
  CLI::App* cmd = app.add_subcommand("distill-targets", "Run a teacher LLM over text and store its distillation targets (top-K log-probs, hidden states)");
  cmd->add_option("teacher", args->teacher, "Teacher language model (llama2.c .bin, Hugging Face directory, .epk)")->required();
  cmd->add_option("--data", args->data, "UTF-8 text the windows are cut from")->required();
  cmd->add_option("-o,--output", args->output, "Output directory (created; written under a staging name and renamed when complete)")->required();
  cmd->add_option("--range", args->range, "Character range BEGIN:END of --data (as quantize --calib-range)");
  cmd->add_option("--samples", args->samples, "Windows (as quantize --calib-samples)")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--seq", args->seq, "Tokens per window, BOS first")->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  cmd->add_option("--seed", args->seed, "Seed of the random window starts")->capture_default_str();
  cmd->add_option("--sampling", args->sampling, "random (seeded starts) or sequential (consecutive windows)")->capture_default_str();
  cmd->add_option("--top-k", args->top_k, "Teacher log-probs kept per position: K largest, or 'full' (also 0) for the whole vocabulary")->capture_default_str();
  cmd->add_option("--temperature", args->temperature, "Targets are log_softmax(logits / T)")->capture_default_str();
  cmd->add_option("--hidden-layers", args->hidden_layers, "Also store the residual stream after these blocks (comma list, 0-based)");
  cmd->add_option("--hidden-dtype", args->hidden_dtype, "f32 or f16 for hidden states")->capture_default_str();
  cmd->add_option("--shard-size", args->shard_size, "Largest shard file (bytes, or K/KiB, M/MiB, G/GiB)")->capture_default_str();
  cmd->add_flag("--force", args->force, "Replace an existing distill-targets directory (one holding manifest.json)");
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] { exit_code = report(run_distill_targets(*args)); });
}

}  // namespace edgepack::cli

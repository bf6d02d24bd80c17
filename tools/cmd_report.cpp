// edgepack report OUT.epk [--base MODEL] [-o out.json|out.md|out.html] [--json]: the compression
// report of an .epk (docs/reports.md). Size sections come from the file's tensor table (with --base,
// also the stored size before and the relative error of every tensor); recipe, passes and quality
// come from what `compress` stored in the metadata (extra.report, extra.recipe).
#include <filesystem>
#include <iostream>

#include "formats/epk.h"
#include "report/recorded_errors.h"
#include "report/report.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

namespace {

struct report_args {
  std::string epk;
  std::string base;
  std::string output;
  bool json = false;
  load_options base_options;
};

uint64_t on_disk_bytes(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

// The optional sections a stored report may carry, taken only when they have the documented type
// (the metadata is input: a hand-edited file must not crash the renderers or fake the size tables).
void take_stored_sections(const nlohmann::json& extra, nlohmann::json& out) {
  const nlohmann::json stored = extra.contains("report") && extra["report"].is_object() ? extra["report"] : nlohmann::json::object();
  for (const char* key : {"input", "quality"})
    if (stored.contains(key) && stored[key].is_object()) out[key] = stored[key];
  if (stored.contains("passes") && stored["passes"].is_array()) out["passes"] = stored["passes"];
  if (stored.contains("recipe")) out["recipe"] = stored["recipe"];
  else if (extra.contains("recipe")) out["recipe"] = extra["recipe"];
  if (stored.contains("recipe_sha256") && stored["recipe_sha256"].is_string()) out["recipe_sha256"] = stored["recipe_sha256"];
  else if (extra.contains("recipe_sha256") && extra["recipe_sha256"].is_string()) out["recipe_sha256"] = extra["recipe_sha256"];
}

// Stored size tables are reused when no --base is given: they were computed against the real model
// before compression, which this command cannot see without --base.
bool take_stored_sizes(const nlohmann::json& extra, nlohmann::json& out) {
  if (!extra.contains("report") || !extra["report"].is_object()) return false;
  const nlohmann::json& stored = extra["report"];
  if (!stored.contains("totals") || !stored["totals"].is_object() || !stored.contains("tensors") || !stored["tensors"].is_array()) return false;
  out["totals"] = stored["totals"];
  out["tensors"] = stored["tensors"];
  out["by_kind"] = stored.contains("by_kind") && stored["by_kind"].is_array() ? stored["by_kind"] : nlohmann::json::array();
  return true;
}

int run_report(const report_args& args) {
  std::optional<report::report_format> format;
  if (!args.output.empty()) {
    auto f = report::report_format_for_path(args.output);
    if (!f.ok()) return report(f.status());
    format = *f;
  }
  info("reading " + args.epk);
  auto after = read_epk(args.epk);
  if (!after.ok()) return report(after.status());
  auto meta = read_epk_metadata(args.epk);
  if (!meta.ok()) return report(meta.status());
  const nlohmann::json& md = meta->at("metadata");
  const nlohmann::json extra = md.contains("extra") && md["extra"].is_object() ? md["extra"] : nlohmann::json::object();

  nlohmann::json out = {{"edgepack_report", 1}, {"tool", std::string("edgepack ") + EDGEPACK_VERSION}};
  take_stored_sections(extra, out);
  out["output"] = {{"path", args.epk}, {"bytes", on_disk_bytes(args.epk)}};
  if (!args.base.empty()) {
    auto base = load(args.base, args.base_options);
    if (!base.ok()) return report(base.status());
    auto in = report::input_section(args.base, *base);
    if (!in.ok()) return report(in.status());
    out["input"] = *in;
    info("comparing " + std::to_string(after->g.weights.size()) + " tensors with " + args.base);
    out.update(report::size_sections(&*base, *after));
  } else if (!take_stored_sizes(extra, out)) {
    if (!out.contains("input") && !after->sources.empty()) {
      const auto& s = after->sources.front();
      out["input"] = {{"path", s.path}, {"format", md.contains("source_format") ? md["source_format"] : nlohmann::json("")}, {"bytes", s.bytes}};
      if (!s.sha256.empty()) out["input"]["sha256"] = s.sha256;
    }
    out.update(report::size_sections(nullptr, *after));
    // The error the quantize pass measured against the float weights, when the file records it.
    const auto recorded = report::recorded_relative_errors(extra);
    for (auto& t : out["tensors"])
      if (const auto it = recorded.find(t["name"].get<std::string>()); it != recorded.end()) t["rel_error"] = it->second;
  }
  if (format) {
    if (Status s = report::write_report(out, args.output); !s.ok()) return report(s);
    info("wrote " + args.output);
    if (args.json) print_json(out);
  } else {
    std::cout << report::render(out, args.json ? report::report_format::json : report::report_format::markdown);
  }
  return 0;
}

}  // namespace

void register_report(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<report_args>();
  CLI::App* cmd = app.add_subcommand("report", "Size, bits per weight, per-tensor error, passes, quality and recipe of an .epk as JSON, Markdown or HTML");
  cmd->add_option("epk", args->epk, "The compressed model (.epk)")->required();
  cmd->add_option("--base", args->base, "The model before compression: adds its stored sizes and each tensor's relative error");
  cmd->add_option("-o,--output", args->output, "Write the report here (written atomically); .json, .md or .html picks the format");
  cmd->add_flag("--json", args->json, "Print the report as JSON on stdout (default without -o: Markdown)");
  add_tokenizer_option(*cmd, args->base_options);
  cmd->callback([args, &exit_code] { exit_code = run_report(*args); });
}

}  // namespace edgepack::cli

// edgepack compress MODEL --recipe R.json -o OUT.epk [--report PATH] [--json]: runs a recipe's steps
// (prune -> quantize -> pack -> verify, docs/recipes.md) and writes the .epk and the report even when
// verification fails (exit 1), so CI keeps the report of a failed run. --print-recipe shows the
// resolved recipe (all defaults filled).
#include <cstdio>
#include <filesystem>

#include "formats/epk.h"
#include "passes/recipe.h"
#include "report/report.h"
#include "tools/compress_pipeline.h"
#include "tools/provenance.h"

namespace edgepack::cli {

namespace {

struct compress_args {
  std::string input;
  std::string output;
  std::string recipe;
  std::string report_path;
  bool print_recipe = false;
  bool json = false;
  load_options load;
};

// The copy kept in the .epk has no timings or memory figures, so the file stays byte-identical
// between runs and thread counts; the --report file has them.
nlohmann::json without_measurements(nlohmann::json report) {
  for (auto& p : report["passes"]) {
    p.erase("seconds");
    p.erase("peak_rss_bytes");
  }
  return report;
}

Status compress(const compress_args& args, int& exit_code) {
  recipe_source recipe;
  if (args.recipe.empty()) {
    if (!args.print_recipe) return bad_usage("compress needs --recipe FILE.json (see 'edgepack compress --print-recipe' for a starting point)");
    recipe.resolved = default_recipe();
  } else {
    recipe.file = args.recipe;
    EP_ASSIGN_OR_RETURN(recipe.resolved, load_recipe(args.recipe));
  }
  if (args.print_recipe) {
    print_json(recipe.resolved);
    return Status::ok_status();
  }
  if (args.input.empty()) return bad_usage("compress needs the MODEL to compress");
  if (args.output.empty()) return bad_usage("compress needs -o OUT.epk");
  EP_RETURN_IF_ERROR(check_pipeline_args(recipe));
  if (!args.report_path.empty()) EP_RETURN_IF_ERROR(report::report_format_for_path(args.report_path).status());
  for (const std::string& out : {args.output, args.report_path})
    if (!out.empty() && std::filesystem::exists(out) && std::filesystem::exists(args.input) && std::filesystem::equivalent(args.input, out))
      return bad_usage("the output " + out + " is the input model; choose another path");
  if (!args.report_path.empty() && std::filesystem::absolute(args.report_path) == std::filesystem::absolute(args.output))
    return bad_usage("--report " + args.report_path + " is the -o output; choose another path");
  // Both files are written at the end; a missing folder is found now, before any work, so a run
  // never leaves the .epk without its report.
  for (const std::string& out : {args.output, args.report_path}) {
    if (out.empty()) continue;
    std::error_code ec;
    const auto dir = std::filesystem::absolute(out, ec).parent_path();
    if (ec || !std::filesystem::is_directory(dir, ec)) return io_failure(out + ": the folder " + dir.string() + " does not exist");
  }
  EP_ASSIGN_OR_RETURN(model m, load(args.input, args.load));
  EP_RETURN_IF_ERROR(check_recipe_for_model(recipe.resolved, m.llm ? recipe_model_kind::language_model : recipe_model_kind::graph_model, args.recipe));
  auto hashes = start_source_hashing(m.sources);
  EP_ASSIGN_OR_RETURN(pipeline_result r, run_pipeline(recipe, m, args.input, args.output));
  EP_ASSIGN_OR_RETURN(r.out.sources, finish_source_hashing(std::move(hashes)));
  model hashed_input = m;
  hashed_input.sources = r.out.sources;
  const std::string hash = recipe_sha256(recipe.resolved);
  nlohmann::json doc = report::size_sections(&m, r.out);
  doc["edgepack_report"] = 1;
  doc["tool"] = std::string("edgepack ") + EDGEPACK_VERSION;
  EP_ASSIGN_OR_RETURN(doc["input"], report::input_section(args.input, hashed_input));
  doc["recipe"] = recipe.resolved;
  doc["recipe_sha256"] = hash;
  doc["passes"] = r.passes;
  if (!r.quality.is_null()) doc["quality"] = r.quality;
  epk_write_options write_options;
  write_options.extra_metadata = {{"recipe", recipe.resolved}, {"recipe_sha256", hash}, {"report", without_measurements(doc)}};
  info("writing " + args.output);
  EP_RETURN_IF_ERROR(write_epk(args.output, r.out, write_options));
  const auto file_bytes = std::filesystem::file_size(args.output);
  doc["output"] = {{"path", args.output}, {"bytes", file_bytes}};
  if (!args.report_path.empty()) {
    info("writing " + args.report_path);
    EP_RETURN_IF_ERROR(report::write_report(doc, args.report_path));
  }
  if (args.json) {
    nlohmann::json summary = {{"output", doc["output"]}, {"recipe_sha256", hash}, {"totals", doc["totals"]}, {"passes", doc["passes"]}, {"passed", r.passed}};
    if (!args.report_path.empty()) summary["report"] = args.report_path;
    if (doc.contains("quality")) summary["quality"] = doc["quality"];
    print_json(summary);
  } else {
    const auto& t = doc["totals"];
    std::printf("%s: %llu bytes, %.3f bits/weight (%.2fx smaller)%s%s\n", args.output.c_str(), static_cast<unsigned long long>(file_bytes),
                t["bits_per_weight_after"].get<double>(), t["compression_ratio"].get<double>(),
                doc.contains("quality") ? (r.passed ? "; verification passed" : "; verification FAILED") : "",
                args.report_path.empty() ? "" : ("; report " + args.report_path).c_str());
  }
  exit_code = r.passed ? 0 : 1;
  return Status::ok_status();
}

}  // namespace

void register_compress(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<compress_args>();
  CLI::App* cmd = app.add_subcommand("compress", "Run a recipe (prune -> quantize -> pack -> verify) on a model and write .epk and a report");
  cmd->add_option("model", args->input, "Model: ONNX, llama2.c .bin, Hugging Face directory, safetensors or .epk");
  cmd->add_option("--recipe", args->recipe, "Recipe JSON (docs/recipes.md); paths in it are relative to the recipe file");
  cmd->add_option("-o,--output", args->output, "Output .epk path (written atomically)");
  cmd->add_option("--report", args->report_path, "Also write the report: .json, .md or .html by extension (written even when verification fails)");
  cmd->add_flag("--print-recipe", args->print_recipe, "Print the resolved recipe (every default filled in) as JSON and exit; without --recipe, the default recipe");
  cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, &exit_code] {
    const Status s = compress(*args, exit_code);
    if (!s.ok()) exit_code = report(s);
  });
}

}  // namespace edgepack::cli

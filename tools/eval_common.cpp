#include "tools/eval_common.h"

#include "calibration/text_source.h"
#include "calibration/tokenizer.h"
#include "tools/progress.h"

namespace edgepack::cli {

void add_eval_options(CLI::App& cmd, eval_args& args, bool base_required) {
  cmd.add_option("model", args.model_path, "Model to evaluate (any readable format, including .epk)")->required();
  auto* base = cmd.add_option(base_required ? "--against" : "--base", args.base_path,
                              "Reference model: adds KL divergence (mean, p99) and top-1 agreement");
  if (base_required) base->required();
  auto* data = cmd.add_option("--data", args.data_path, "UTF-8 text file to evaluate on");
  auto* range = cmd.add_option("--range", args.range, "Character range BEGIN:END of the text (Python slice; '-60000:' = last 60,000 characters)");
  auto* ctx = cmd.add_option("--ctx", args.ctx, "Context length of each evaluation window")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  if (base_required) {
    data->required();
  } else {
    cmd.add_option("--distill-targets", args.distill_targets,
                   "Directory written by distill-targets: KL divergence to the stored teacher targets, without the teacher (docs/distill.md)")
        ->excludes(base)
        ->excludes(data)
        ->excludes(range)
        ->excludes(ctx);
  }
  cmd.add_option("--protocol", args.protocol, "Scoring protocol: edgepack (every token) or llama.cpp (second half of each chunk)")->capture_default_str();
  cmd.add_option("--max-windows", args.max_windows, "Evaluate at most this many windows (0 = all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd.add_flag("--json", args.json, "Print results as JSON on stdout");
  add_tokenizer_option(cmd, args.load);
}

Expected<eval_result> run_evaluation(const eval_args& args, const model* preloaded, const model* preloaded_base) {
  EP_ASSIGN_OR_RETURN(eval_protocol protocol, parse_eval_protocol(args.protocol));
  if (args.data_path.empty()) return bad_usage("--data is required (or, for eval, --distill-targets DIR)");
  EP_ASSIGN_OR_RETURN(std::string text, read_text_file(args.data_path, {args.range}));
  if (text.empty()) return bad_input(args.data_path + ": the selected text is empty");
  std::optional<model> loaded, base;
  if (!preloaded) {
    EP_ASSIGN_OR_RETURN(loaded, load(args.model_path, args.load));
  }
  const model& m = preloaded ? *preloaded : *loaded;
  if (preloaded_base) base = *preloaded_base;  // a copy shares the tensor bytes (storage is reference counted)
  else if (!args.base_path.empty()) {
    EP_ASSIGN_OR_RETURN(base, load(args.base_path, args.load));
  }
  const vocabulary& vocab = !m.vocab.empty() ? m.vocab : (base ? base->vocab : m.vocab);
  if (vocab.empty()) return bad_usage(args.model_path + ": the model has no tokenizer; pass --tokenizer tok.bin");
  tokenizer tok(vocab);
  const std::vector<int64_t> stream = tok.encode(text, false, false);
  auto session = llm_session::create(m);
  if (!session.ok()) return session.status().with_context(args.model_path);
  std::optional<llm_session> base_session;
  if (base) {
    auto created = llm_session::create(*base);
    if (!created.ok()) return created.status().with_context(args.base_path);
    base_session = std::move(created).value();
  }
  eval_options options;
  options.ctx = args.ctx;
  options.protocol = protocol;
  options.max_windows = args.max_windows;
  std::optional<progress_bar> progress;
  options.progress = [&](int64_t done, int64_t total) {
    if (!progress) progress.emplace("evaluating " + std::to_string(stream.size()) + " tokens", total);
    progress->update(done);
    if (done == total) progress->finish();
  };
  auto result = evaluate_perplexity(*session, base_session ? &*base_session : nullptr, stream, options);
  if (!result.ok()) return result.status().with_context(args.model_path);
  return result;
}

nlohmann::json eval_result_json(const eval_result& r, const eval_args& args) {
  nlohmann::json j = {{"model", args.model_path}, {"data", args.data_path},     {"range", args.range},     {"protocol", args.protocol},
                      {"ctx", args.ctx},          {"ppl", r.ppl},              {"nll", r.nll},            {"tokens", r.tokens},
                      {"windows", r.windows},     {"seconds", r.seconds},      {"tokens_per_second", r.seconds > 0 ? r.tokens / r.seconds : 0.0}};
  if (r.kld_mean) {
    j["base"] = args.base_path;
    j["base_ppl"] = *r.base_ppl;
    j["kld_mean"] = *r.kld_mean;
    j["kld_p99"] = *r.kld_p99;
    j["top1_agreement"] = *r.top1_agreement;
  }
  return j;
}

}  // namespace edgepack::cli

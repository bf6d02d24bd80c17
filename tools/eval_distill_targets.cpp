// eval MODEL --distill-targets DIR: the model (student) against a teacher's stored targets
// (passes/distill_eval.h, docs/distill.md). Output mirrors eval --base.
#include <cstdio>

#include "passes/distill_eval.h"
#include "runtime_ref/kernel_threads.h"
#include "tools/eval_common.h"
#include "tools/progress.h"

namespace edgepack::cli {

Status run_distill_targets_evaluation(const eval_args& args) {
  EP_ASSIGN_OR_RETURN(eval_protocol protocol, parse_eval_protocol(args.protocol));
  EP_ASSIGN_OR_RETURN(distill_manifest manifest, read_distill_manifest(args.distill_targets));
  EP_ASSIGN_OR_RETURN(model m, load(args.model_path, args.load));
  if (!m.vocab.empty() && vocabulary_sha256(m.vocab) != manifest.tokenizer_sha256)
    return bad_usage(args.model_path + ": its tokenizer (sha256 " + vocabulary_sha256(m.vocab) + ") differs from the one the targets in " +
                     args.distill_targets + " were made with (" + manifest.tokenizer_sha256 + ")");
  if (m.vocab.empty()) info(args.model_path + ": no tokenizer to compare with the targets'; checking the vocabulary size only");
  auto session = llm_session::create(m);
  if (!session.ok()) return session.status().with_context(args.model_path);
  set_kernel_threads(globals().threads);
  distill_eval_options options;
  options.protocol = protocol;
  options.max_windows = args.max_windows;
  std::optional<progress_bar> progress;
  options.progress = [&](int64_t done, int64_t total) {
    if (!progress) progress.emplace("evaluating against " + args.distill_targets, total);
    progress->update(done);
    if (done == total) progress->finish();
  };
  auto result = evaluate_against_targets(*session, args.distill_targets, manifest, options);
  if (!result.ok()) return result.status();  // messages name the shard file, or the student and sample
  const eval_result& r = result->metrics;
  const distill_spec& spec = manifest.spec;
  const std::string teacher = manifest.json["teacher"].value("path", std::string());
  const std::string estimator = spec.top_k == 0 ? "exact" : "tail_bucket";
  if (args.json) {
    nlohmann::json j = {{"model", args.model_path},
                        {"distill_targets", args.distill_targets},
                        {"teacher", teacher},
                        {"protocol", args.protocol},
                        {"ctx", spec.seq},
                        {"ppl", r.ppl},
                        {"nll", r.nll},
                        {"tokens", r.tokens},
                        {"windows", r.windows},
                        {"seconds", r.seconds},
                        {"tokens_per_second", r.seconds > 0 ? r.tokens / r.seconds : 0.0},
                        {"top_k", spec.top_k},
                        {"temperature", spec.temperature},
                        {"kld_estimator", estimator},
                        {"kld_mean", *r.kld_mean},
                        {"kld_p99", *r.kld_p99},
                        {"top1_agreement", *r.top1_agreement},
                        {"teacher_tail_mass_mean", result->teacher_tail_mass_mean}};
    if (r.base_ppl) j["base_ppl"] = *r.base_ppl;
    print_json(j);
    return Status::ok_status();
  }
  std::printf("%s: ppl %.4f  nll %.5f  (%lld tokens scored, %lld windows, ctx %lld, protocol %s, %.0f tokens/s)\n", args.model_path.c_str(), r.ppl, r.nll,
              static_cast<long long>(r.tokens), static_cast<long long>(r.windows), static_cast<long long>(spec.seq), args.protocol.c_str(),
              r.tokens / std::max(r.seconds, 1e-9));
  const std::string k = spec.top_k == 0 ? "full log-probs" : "top-" + std::to_string(spec.top_k);
  std::printf("vs targets %s (teacher %s, %s, T %g): KLD mean %.5f  p99 %.5f  top-1 agreement %.2f%%", args.distill_targets.c_str(), teacher.c_str(), k.c_str(),
              spec.temperature, *r.kld_mean, *r.kld_p99, 100.0 * *r.top1_agreement);
  if (spec.top_k != 0) std::printf("  (tail-bucket estimate, <= full KLD; teacher mass outside top-K %.5f)", result->teacher_tail_mass_mean);
  std::printf("\n");
  return Status::ok_status();
}

}  // namespace edgepack::cli

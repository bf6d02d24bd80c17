#include "tools/verify_llm.h"

#include <cstdio>

namespace edgepack::cli {

Expected<verify_outcome> verify_language_model(const eval_args& args, const llm_thresholds& limits, bool text_output, const model* preloaded,
                                               const model* preloaded_base) {
  if (limits.max_kld < 0 && limits.max_ppl_increase < 0 && limits.min_top1 < 0)
    return bad_usage("verify needs at least one threshold: --max-kld, --max-ppl-increase or --min-top1");
  EP_ASSIGN_OR_RETURN(eval_result result, run_evaluation(args, preloaded, preloaded_base));
  const double ppl_increase = result.ppl / *result.base_ppl - 1.0;
  verify_outcome out;
  nlohmann::json checks = nlohmann::json::array();
  out.passed = true;
  auto check = [&](const char* name, double value, double limit, bool upper) {
    if (limit < 0) return;
    const bool ok = upper ? value <= limit : value >= limit;
    out.passed = out.passed && ok;
    checks.push_back({{"check", name}, {"value", value}, {"limit", limit}, {"passed", ok}});
    if (text_output) std::printf("%-4s %s = %.6f (%s %.6f)\n", ok ? "ok" : "FAIL", name, value, upper ? "max" : "min", limit);
  };
  check("kld_mean", *result.kld_mean, limits.max_kld, true);
  check("ppl_increase", ppl_increase, limits.max_ppl_increase, true);
  check("top1_agreement", *result.top1_agreement, limits.min_top1, false);
  out.result = eval_result_json(result, args);
  out.result["ppl_increase"] = ppl_increase;
  out.result["checks"] = checks;
  out.result["passed"] = out.passed;
  out.metrics = {{"ppl_base", *result.base_ppl}, {"ppl", result.ppl},       {"ppl_increase", ppl_increase},
                 {"kld", *result.kld_mean},      {"kld_p99", *result.kld_p99}, {"top1", *result.top1_agreement},
                 {"tokens", result.tokens}};
  if (text_output) std::printf("%s: %s\n", args.model_path.c_str(), out.passed ? "verification passed" : "verification FAILED");
  return out;
}

}  // namespace edgepack::cli

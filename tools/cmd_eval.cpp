// edgepack eval MODEL --data TEXT [--base MODEL]: perplexity, and KLD / top-1 agreement vs a base;
// eval MODEL --distill-targets DIR: the same against stored teacher targets.
#include <cstdio>

#include "tools/eval_common.h"

namespace edgepack::cli {

void register_eval(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<eval_args>();
  CLI::App* cmd = app.add_subcommand("eval", "Perplexity of a language model on text; with --base, KL divergence and top-1 agreement");
  add_eval_options(*cmd, *args, false);
  cmd->callback([args, &exit_code] {
    if (!args->distill_targets.empty()) {
      exit_code = report(run_distill_targets_evaluation(*args));
      return;
    }
    auto result = run_evaluation(*args);
    if (!result.ok()) {
      exit_code = report(result.status());
      return;
    }
    if (args->json) {
      print_json(eval_result_json(*result, *args));
    } else {
      std::printf("%s: ppl %.4f  nll %.5f  (%lld tokens scored, %lld windows, ctx %lld, protocol %s, %.0f tokens/s)\n", args->model_path.c_str(),
                  result->ppl, result->nll, static_cast<long long>(result->tokens), static_cast<long long>(result->windows),
                  static_cast<long long>(args->ctx), args->protocol.c_str(), result->tokens / std::max(result->seconds, 1e-9));
      if (result->kld_mean)
        std::printf("vs %s (ppl %.4f): KLD mean %.5f  p99 %.5f  top-1 agreement %.2f%%\n", args->base_path.c_str(), *result->base_ppl, *result->kld_mean,
                    *result->kld_p99, 100.0 * *result->top1_agreement);
    }
    exit_code = 0;
  });
}

}  // namespace edgepack::cli

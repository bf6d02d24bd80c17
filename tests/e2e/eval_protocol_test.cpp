// eval on the held-out span of the bundled TinyStories text: the llama.cpp protocol reproduces
// llama-perplexity's chunking and scoring (117 chunks, 14,859 scored tokens) and its F32
// perplexity on stories260K (5.8167, DESIGN.md §5); the edgepack protocol scores every token.
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

nlohmann::json eval_json(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-q", "eval", (datasets_dir() / "stories260K/stories260K.bin").string(), "--data",
                                   (datasets_dir() / "tinystories/tinystories_val.txt").string(), "--range=-60000:", "--ctx", "256", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(EvalProtocol, LlamaCppChunkingAndF32Perplexity) {
  const auto j = eval_json({"--protocol", "llama.cpp"});
  EXPECT_EQ(j["windows"].get<int64_t>(), 117);
  EXPECT_EQ(j["tokens"].get<int64_t>(), 14859);
  // Our logits match an independent float32 forward to 1e-5 (tests/e2e/stories260k_logits_test),
  // so perplexities of two float32 implementations should agree to ~1e-4 relative; 5e-4 absolute
  // on 5.8 leaves room for llama.cpp's own kernels without hiding a protocol error (one chunk
  // more or less, or scoring the first half, moves PPL by > 0.01).
  EXPECT_NEAR(j["ppl"].get<double>(), 5.8167, 5e-4);
}

TEST(EvalProtocol, EdgepackScoresEveryToken) {
  const auto j = eval_json({});
  // 30,030 llama.cpp ids include the BOS; every one of the other 30,029 is scored once.
  EXPECT_EQ(j["tokens"].get<int64_t>(), 30029);
  EXPECT_EQ(j["windows"].get<int64_t>(), 118);  // ceil(30029 / 255)
  EXPECT_GT(j["ppl"].get<double>(), 5.0);
  EXPECT_LT(j["ppl"].get<double>(), 8.0);
}

TEST(EvalProtocol, BaseAgainstItselfHasZeroDivergence) {
  const auto j = eval_json({"--base", (datasets_dir() / "stories260K/stories260K.bin").string(), "--max-windows", "3"});
  EXPECT_EQ(j["kld_mean"].get<double>(), 0.0);
  EXPECT_EQ(j["top1_agreement"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["ppl"].get<double>(), j["base_ppl"].get<double>());
}

}  // namespace
}  // namespace edgepack::testing

// Quality gates for RTN on stories260K over the held-out span (edgepack protocol, 30,029 tokens),
// run through `edgepack verify` exactly as a CI job would. Bounds sit just above the measured
// values in docs/benchmarks.md (w8: KLD 0.00052, PPL +0.09 %; w4g32: KLD 0.1015), so a regression
// in the quantizer, the format or the runtime fails here.
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

void expect_verify_passes(const std::string& scheme, const std::vector<std::string>& thresholds) {
  temp_dir dir;
  const std::string model = (datasets_dir() / "stories260K/stories260K.bin").string();
  const std::string out = (dir / (scheme + ".epk")).string();
  auto q = run_cli({"-q", "quantize", model, "-o", out, "--scheme", scheme});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  std::vector<std::string> args = {"-q", "verify", out, "--against", model, "--data", (datasets_dir() / "tinystories/tinystories_val.txt").string(),
                                   "--range=-60000:", "--ctx", "256"};
  args.insert(args.end(), thresholds.begin(), thresholds.end());
  auto v = run_cli(args);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST(RtnQuality, W8WithinTenthOfAPercent) { expect_verify_passes("w8", {"--max-kld", "0.001", "--max-ppl-increase", "0.001"}); }

TEST(RtnQuality, W4g32KeepsKldBelowBound) { expect_verify_passes("w4g32", {"--max-kld", "0.105", "--min-top1", "0.8"}); }

}  // namespace
}  // namespace edgepack::testing

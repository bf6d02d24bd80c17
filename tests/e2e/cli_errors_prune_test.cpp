// prune: bad command lines are rejected with exit 2 and a message saying what is wrong, and
// nothing is written (docs/cli.md, "prune").
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

std::vector<std::string> prune_args(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"prune", bundled_model()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(CliErrorsPrune, SparsityOutsideUnitInterval) {
  expect_error_keeps_output(prune_args({"--sparsity", "1"}), {2, "", "--sparsity '1' must be a fraction in [0, 1)"});
  expect_error_keeps_output(prune_args({"--sparsity", "-0.1"}), {2, "", "--sparsity '-0.1' must be a fraction in [0, 1)"});
  expect_error_keeps_output(prune_args({"--sparsity", "50"}), {2, "", "must be a fraction in [0, 1)"});
  expect_error_keeps_output(prune_args({"--sparsity", "half"}), {2, "", "--sparsity 'half' must be a fraction"});
}

TEST(CliErrorsPrune, NotLessThanM) {
  expect_error_keeps_output(prune_args({"--pattern", "4:4"}), {2, "", "N:M sparsity needs 0 < N < M (got 4:4)"});
  expect_error_keeps_output(prune_args({"--pattern", "5:4"}), {2, "", "0 < N < M (got 5:4)"});
  expect_error_keeps_output(prune_args({"--pattern", "24"}), {2, "", "--pattern '24' must be N:M"});
}

TEST(CliErrorsPrune, PatternWiderThanTheTensor) {
  // stories260K's q/k/v/o/gate/up weights have 64 input columns.
  expect_error_keeps_output(prune_args({"--pattern", "2:128"}),
                            {2, "", "has 64 columns in its matrix view, fewer than M = 128 of s2:128; exclude it (--exclude)"});
}

TEST(CliErrorsPrune, CalibratedMethodsNeedData) {
  expect_error_keeps_output(prune_args({"--method", "wanda", "--pattern", "2:4"}), {2, "", "--method wanda needs calibration data"});
  expect_error_keeps_output(prune_args({"--method", "sparsegpt", "--sparsity", "0.5"}), {2, "", "--method sparsegpt needs calibration data"});
}

TEST(CliErrorsPrune, UnknownMethod) {
  expect_error_keeps_output(prune_args({"--method", "obs", "--sparsity", "0.5"}), {2, "", "--method 'obs' is not available (available: magnitude, wanda, sparsegpt)"});
}

TEST(CliErrorsPrune, MagnitudeRefusesCalibration) {
  expect_error_keeps_output(prune_args({"--sparsity", "0.5", "--calib", bundled_text()}), {2, "", "magnitude pruning uses no calibration data"});
}

TEST(CliErrorsPrune, AmountMissingOrGivenTwice) {
  expect_error_keeps_output(prune_args({}), {2, "", "say how much to prune"});
  expect_error_keeps_output(prune_args({"--sparsity", "0.5", "--pattern", "2:4"}), {2, "", "only one of --sparsity, --pattern and --scheme"});
}

TEST(CliErrorsPrune, JointSchemeNeedsSparseGpt) {
  expect_error_keeps_output(prune_args({"--method", "wanda", "--scheme", "s2:4+w4g32", "--calib", bundled_text()}),
                            {2, "", "prunes and quantizes in one pass, which needs --method sparsegpt"});
  expect_error_keeps_output(prune_args({"--scheme", "w4g32"}), {2, "", "has no sparsity term"});
}

TEST(CliErrorsPrune, GlobalOnlyForUnstructuredMagnitude) {
  expect_error_keeps_output(prune_args({"--pattern", "2:4", "--global"}), {2, "", "--global applies to unstructured sparsity"});
  expect_error_keeps_output(prune_args({"--method", "wanda", "--sparsity", "0.5", "--global", "--calib", bundled_text()}),
                            {2, "", "--global applies to --method magnitude only"});
}

TEST(CliErrorsPrune, BadOverride) {
  expect_error_keeps_output(prune_args({"--pattern", "2:4", "--override", "down_proj=s4:2"}), {2, "", "--override 'down_proj=s4:2'"});
  expect_error_keeps_output(prune_args({"--pattern", "2:4", "--override", "down_proj"}), {2, "", "must look like REGEX=SCHEME"});
}

}  // namespace
}  // namespace edgepack::testing

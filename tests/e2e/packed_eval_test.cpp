// A packed .epk evaluates exactly like its unpacked twin: stories260K pruned 2:4 (f32 values) and
// 2:4 + w4g32 (prune --no-pack, quantize, pack), `edgepack eval` on the packed and on the dense
// file gives the same perplexity and KLD to the last bit. The packed Gemm weights run the
// runtime's sparse_linear kernels, which reproduce the dense GEMM's FMA chains
// (runtime_ref/sparse_linear.h); anything else would show up in these numbers.
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

nlohmann::json eval(const std::string& model) {
  auto r = run_cli({"-q", "eval", model, "--base", bundled_model(), "--data", bundled_text(), "--range=-60000:", "--ctx", "256", "--protocol",
                    "llama.cpp", "--max-windows", "3", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

void expect_same_eval(const nlohmann::json& a, const nlohmann::json& b, const std::string& what) {
  for (const char* key : {"ppl", "nll", "tokens", "kld_mean", "kld_p99", "top1_agreement"}) {
    ASSERT_TRUE(a.contains(key) && b.contains(key)) << what << ": " << key;
    EXPECT_EQ(a[key], b[key]) << what << ": " << key;  // exact: the doubles print with round-trip precision
  }
}

TEST(PackedEval, PackedAndUnpackedStories260kEvaluateIdentically) {
  temp_dir dir;
  const std::string dense = (dir / "dense.epk").string(), packed = (dir / "packed.epk").string(), q = (dir / "q.epk").string(),
                    qpacked = (dir / "qpacked.epk").string();
  auto r = run_cli({"-q", "prune", bundled_model(), "-o", dense, "--pattern", "2:4", "--no-pack"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"-q", "prune", bundled_model(), "-o", packed, "--pattern", "2:4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"-q", "quantize", dense, "--scheme", "w4g32", "-o", q});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"-q", "pack", q, "--pattern", "2:4", "--json", "-o", qpacked});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["packed_tensors"].get<int>(), 35) << r.out;
  expect_same_eval(eval(dense), eval(packed), "2:4 f32");
  const auto a = eval(q), b = eval(qpacked);
  expect_same_eval(a, b, "2:4 + w4g32");
  std::cout << "stories260K 2:4+w4g32, 3 windows: ppl " << a["ppl"] << " (packed " << b["ppl"] << "), kld " << a["kld_mean"] << "\n";
}

}  // namespace
}  // namespace edgepack::testing

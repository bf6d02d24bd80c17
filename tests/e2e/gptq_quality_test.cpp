// GPTQ end to end on stories260K through the CLI: calibrated on the first 200,000 characters, it
// beats RTN at the same scheme in KLD vs the float model on held-out text (the last 60,000
// characters, disjoint), and its file is byte-identical at --threads 1 and 2.
#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

std::vector<std::string> gptq_command(const std::string& out, const std::string& threads) {
  return {"-q", "--threads", threads, "quantize", bundled_model(), "-o", out, "--scheme", "w4g32", "--method", "gptq", "--calib", bundled_text(),
          "--calib-range", ":200000", "--calib-samples", "32", "--calib-seq", "256", "--calib-seed", "1"};
}

double held_out_kld(const std::string& model) {
  auto r = run_cli({"-q", "eval", model, "--base", bundled_model(), "--data", bundled_text(), "--range=-60000:", "--ctx", "256", "--protocol",
                    "llama.cpp", "--max-windows", "40", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out)["kld_mean"].get<double>();
}

TEST(GptqQuality, BeatsRtnOnHeldOutTextAndIsThreadIndependent) {
  temp_dir dir;
  const std::string gptq1 = (dir / "gptq1.epk").string(), gptq2 = (dir / "gptq2.epk").string(), rtn = (dir / "rtn.epk").string();
  auto a = run_cli(gptq_command(gptq1, "1"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = run_cli(gptq_command(gptq2, "2"));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(read_file(gptq1) == read_file(gptq2)) << "GPTQ output differs between --threads 1 and 2";
  auto r = run_cli({"-q", "quantize", bundled_model(), "-o", rtn, "--scheme", "w4g32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double kld_gptq = held_out_kld(gptq1), kld_rtn = held_out_kld(rtn);
  std::printf("held-out KLD (40 llama.cpp chunks): GPTQ w4g32 %.4f, RTN w4g32 %.4f\n", kld_gptq, kld_rtn);
  EXPECT_LT(kld_gptq, 0.9 * kld_rtn);
}

// --tune-epochs on the same 32 windows: lower held-out KLD than GPTQ alone at the same size, the
// tuning recorded in the file, and the same bytes at --threads 1 and 2.
TEST(GptqQuality, EndToEndTuningLowersHeldOutKld) {
  temp_dir dir;
  const std::string plain = (dir / "plain.epk").string();
  auto r = run_cli(gptq_command(plain, "2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string tuned[2];
  for (const char* threads : {"1", "2"}) {
    const std::string out = (dir / (std::string("tuned") + threads + ".epk")).string();
    std::vector<std::string> args = gptq_command(out, threads);
    for (const char* extra : {"--tune-epochs", "3", "--tune-batch", "4", "--json"}) args.push_back(extra);
    r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    tuned[threads[0] - '1'] = out;
  }
  EXPECT_TRUE(read_file(tuned[0]) == read_file(tuned[1])) << "tuned output differs between --threads 1 and 2";
  r = run_cli({"inspect", tuned[0], "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto tune = nlohmann::json::parse(r.out)["provenance"]["extra"]["options"]["gptq"]["tune"];
  EXPECT_EQ(tune["epochs"], 3);
  EXPECT_EQ(tune["steps"], 24);
  EXPECT_LT(tune["kl_last_epoch"].get<double>(), tune["kl_first_epoch"].get<double>());
  const double kld_plain = held_out_kld(plain), kld_tuned = held_out_kld(tuned[0]);
  std::printf("held-out KLD (40 llama.cpp chunks): GPTQ w4g32 %.4f, tuned 3 epochs %.4f\n", kld_plain, kld_tuned);
  EXPECT_LT(kld_tuned, 0.95 * kld_plain);
  // Same size: the codes and scales keep their bits (only the recorded options grow the metadata).
  auto weight_bytes = [](const std::string& path) {
    auto i = run_cli({"inspect", path, "--json"});
    EXPECT_EQ(i.exit_code, 0) << i.err;
    return nlohmann::json::parse(i.out)["weight_bytes"].get<uint64_t>();
  };
  EXPECT_EQ(weight_bytes(plain), weight_bytes(tuned[0]));
}

TEST(GptqQuality, OverridesAndStatsAreRecorded) {
  temp_dir dir;
  const std::string out = (dir / "o.epk").string();
  auto q = run_cli({"-q", "quantize", bundled_model(), "-o", out, "--scheme", "w4g32", "--method", "gptq", "--calib", bundled_text(), "--calib-range",
                    ":200000", "--calib-samples", "4", "--calib-seq", "64", "--override", "down_proj=w8", "--override", "layers\\.0\\..*q_proj=w3g32",
                    "--json"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const auto j = nlohmann::json::parse(q.out);
  ASSERT_EQ(j["tensors"].size(), 35u);
  for (const auto& t : j["tensors"]) {
    const std::string name = t["name"];
    const std::string expected = name.find("down_proj") != std::string::npos ? "w8" : name == "model.layers.0.self_attn.q_proj.weight" ? "w3g32" : "w4g32";
    EXPECT_EQ(t["scheme"], expected) << name;
    EXPECT_EQ(t["method"], "gptq") << name;
    EXPECT_GT(t["damp"].get<double>(), 0.0) << name;
    EXPECT_EQ(t["hessian_rows"], 4 * 64) << name;
    EXPECT_LT(t["calib_output_error"].get<double>(), 0.5) << name;
  }
}

}  // namespace
}  // namespace edgepack::testing

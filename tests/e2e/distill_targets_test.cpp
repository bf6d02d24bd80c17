// distill-targets and eval --distill-targets on stories260K (docs/distill.md): full targets give
// eval --base's KLD on the same windows; top-K estimates stay below it; shards respect their size
// bound and hold the same samples as one shard; output is byte-identical at any thread count; the
// stored values are what the definitions say (top-K order, temperature, f16 hidden states).
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/sha256.h"
#include "formats/model_loader.h"
#include "formats/safetensors.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

std::string teacher() { return (datasets_dir() / "stories260K/stories260K.bin").string(); }
std::string text() { return (datasets_dir() / "tinystories/tinystories_val.txt").string(); }

// Three sequential 128-token windows of the held-out span: the chunks eval --protocol llama.cpp
// --ctx 128 --max-windows 3 runs.
std::vector<std::string> targets_args(const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"-q", "distill-targets", teacher(), "--data", text(), "--range=-60000:", "--sampling", "sequential", "--seq", "128", "-o", out};
  if (std::find(extra.begin(), extra.end(), "--samples") == extra.end()) args.insert(args.end(), {"--samples", "3"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string make_targets(const temp_dir& dir, const std::string& name, const std::vector<std::string>& extra) {
  const std::string out = (dir / name).string();
  auto r = run_cli(targets_args(out, extra));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out;
}

nlohmann::json json_of(const std::vector<std::string>& args) {
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

nlohmann::json eval_targets(const std::string& model, const std::string& dir, const std::string& protocol = "llama.cpp") {
  return json_of({"-q", "eval", model, "--distill-targets", dir, "--protocol", protocol, "--json"});
}

std::string w4g32_student(const temp_dir& dir) {
  const std::string out = (dir / "w4g32.epk").string();
  auto q = run_cli({"-q", "quantize", teacher(), "-o", out, "--scheme", "w4g32"});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  return out;
}

std::vector<float> floats(const tensor& t) { return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.numel()); }

TEST(DistillTargets, FullTargetsGiveEvalBaseKld) {
  temp_dir dir;
  const std::string student = w4g32_student(dir);
  const std::string full = make_targets(dir, "full", {"--top-k", "full"});
  const auto base = json_of({"-q", "eval", student, "--base", teacher(), "--data", text(), "--range=-60000:", "--ctx", "128", "--protocol", "llama.cpp",
                             "--max-windows", "3", "--json"});
  const auto stored = eval_targets(student, full);
  ASSERT_EQ(stored["tokens"], base["tokens"]);
  EXPECT_EQ(stored["tokens"].get<int64_t>(), 3 * 63);
  // Same windows, same student forward: the student side is bit-identical.
  EXPECT_EQ(stored["ppl"].get<double>(), base["ppl"].get<double>());
  EXPECT_EQ(stored["top1_agreement"].get<double>(), base["top1_agreement"].get<double>());
  // The only difference is the teacher's log-probs stored as f32 (relative rounding 6e-8 of
  // |log p| <= ~20): per position the KL moves by at most ~sum p |log p| * 6e-8 * (1 + ...) << 1e-6.
  const double kld = base["kld_mean"].get<double>();
  EXPECT_GT(kld, 0.01);
  EXPECT_NEAR(stored["kld_mean"].get<double>(), kld, 1e-6);
  EXPECT_NEAR(stored["kld_p99"].get<double>(), base["kld_p99"].get<double>(), 1e-5);
  EXPECT_NEAR(stored["base_ppl"].get<double>(), base["base_ppl"].get<double>(), 1e-5);
  EXPECT_EQ(stored["kld_estimator"], "exact");
  // The default protocol scores positions 0..seq-2 of every window.
  EXPECT_EQ(eval_targets(student, full, "edgepack")["tokens"].get<int64_t>(), 3 * 127);
  // The teacher against its own targets: zero divergence, full agreement.
  const auto self = eval_targets(teacher(), full);
  // Not exactly 0: the targets are the teacher's log-probs rounded to f32 (measured 9e-9).
  EXPECT_LT(self["kld_mean"].get<double>(), 1e-7);
  EXPECT_EQ(self["top1_agreement"].get<double>(), 1.0);
}

TEST(DistillTargets, TopKEstimateIsBelowFullAndClose) {
  temp_dir dir;
  const std::string student = w4g32_student(dir);
  const double full = eval_targets(student, make_targets(dir, "full", {"--top-k", "0"}))["kld_mean"].get<double>();
  double previous = 0;
  for (const std::string k : {"8", "32", "512"}) {
    const auto j = eval_targets(student, make_targets(dir, "k" + k, {"--top-k", k}));
    const double estimate = j["kld_mean"].get<double>();
    EXPECT_EQ(j["kld_estimator"], "tail_bucket");
    EXPECT_LE(estimate, full * (1 + 1e-6)) << "K=" << k;  // log-sum inequality (f32 rounding slack)
    EXPECT_GE(estimate, previous * (1 - 1e-6)) << "K=" << k;  // a finer coarsening never lowers it
    previous = estimate;
    if (k == "32") {
      EXPECT_GT(estimate, 0.9 * full);
    }
    if (k == "512") {
      EXPECT_NEAR(estimate, full, 1e-6 * full);  // K = vocab: the exact KL
    }
  }
}

TEST(DistillTargets, ShardsAreBoundedAndHoldTheSameSamples) {
  temp_dir dir;
  const std::string one = make_targets(dir, "one", {"--top-k", "8", "--hidden-layers", "1"});
  // One sample: 128*8 (ids) + 128*8*4*2 (top-K) + 128*64*4 (hidden) = 41,984 bytes + header.
  const std::string many = make_targets(dir, "many", {"--top-k", "8", "--hidden-layers", "1", "--shard-size", "43K"});
  const auto manifest = nlohmann::json::parse(read_file(std::filesystem::path(many) / "manifest.json"));
  ASSERT_EQ(manifest["shards"].size(), 3u);
  const auto single = read_safetensors((std::filesystem::path(one) / "targets-00000.safetensors").string());
  ASSERT_TRUE(single.ok()) << single.status().message();
  for (size_t s = 0; s < 3; ++s) {
    const auto& entry = manifest["shards"][s];
    const auto path = std::filesystem::path(many) / entry["file"].get<std::string>();
    EXPECT_LE(std::filesystem::file_size(path), 43u * 1024);
    EXPECT_EQ(entry["first_sample"].get<int64_t>(), static_cast<int64_t>(s));
    const auto shard = read_safetensors(path.string());
    ASSERT_TRUE(shard.ok()) << shard.status().message();
    EXPECT_EQ(shard->metadata.at("first_sample"), std::to_string(s));
    for (const auto& [name, t] : shard->tensors) {
      const tensor& whole = single->tensors.at(name);
      ASSERT_EQ(t.shape[0], 1);
      const size_t bytes = t.data.size;
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data.data), bytes), std::string(reinterpret_cast<const char*>(whole.data.data) + s * bytes, bytes))
          << name << " sample " << s;
    }
  }
}

TEST(DistillTargets, ByteIdenticalAtAnyThreadCount) {
  temp_dir dir;
  const std::string a = make_targets(dir, "t1", {"--threads", "1", "--hidden-layers", "0,4"});
  const std::string b = make_targets(dir, "t2", {"--threads", "2", "--hidden-layers", "0,4"});
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(a)) {
    ++files;
    EXPECT_EQ(read_file(entry.path()), read_file(std::filesystem::path(b) / entry.path().filename())) << entry.path().filename();
  }
  EXPECT_EQ(files, 2u);  // manifest.json + one shard
}

TEST(DistillTargets, ManifestRecordsProvenanceAndLayout) {
  temp_dir dir;
  const std::string out = make_targets(dir, "m", {"--top-k", "16", "--temperature", "2", "--hidden-layers", "2", "--hidden-dtype", "f16"});
  const auto m = nlohmann::json::parse(read_file(std::filesystem::path(out) / "manifest.json"));
  EXPECT_EQ(m["format"], "edgepack.distill_targets");
  EXPECT_EQ(m["format_version"], 1);
  EXPECT_EQ(m["targets"]["top_k"], 16);
  EXPECT_EQ(m["targets"]["temperature"].get<double>(), 2.0);
  EXPECT_EQ(m["targets"]["samples"], 3);
  EXPECT_EQ(m["targets"]["seq"], 128);
  EXPECT_EQ(m["targets"]["vocab_size"], 512);
  EXPECT_EQ(m["targets"]["hidden_layers"], nlohmann::json::array({2}));
  EXPECT_EQ(m["tensors"]["teacher_hidden.2"]["dtype"], "F16");
  EXPECT_EQ(m["tensors"]["teacher_topk_indices"]["sample_shape"], nlohmann::json::array({128, 16}));
  EXPECT_EQ(m["windows"]["sampling"], "sequential");
  EXPECT_EQ(m["data"]["range"], "-60000:");
  EXPECT_EQ(m["data"]["sha256"], *sha256_file_hex(text()));
  EXPECT_EQ(m["teacher"]["path"], teacher());
  EXPECT_EQ(m["teacher"]["sources"][0]["sha256"], *sha256_file_hex(teacher()));
  EXPECT_EQ(m["tokenizer"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["shards"][0]["sha256"], *sha256_file_hex(std::filesystem::path(out) / "targets-00000.safetensors"));
  const auto inspect = json_of({"-q", "inspect", out, "--json"});
  EXPECT_EQ(inspect["format"], "distill_targets");
  ASSERT_EQ(inspect["tensors"].size(), 4u);
  EXPECT_EQ(inspect["tensors"][0]["name"], "token_ids");
  EXPECT_EQ(inspect["tensors"][0]["shape"], nlohmann::json::array({3, 128}));
  const auto shard = json_of({"-q", "inspect", (std::filesystem::path(out) / "targets-00000.safetensors").string(), "--json"});
  EXPECT_EQ(shard["format"], "distill_targets_shard");
  EXPECT_EQ(shard["metadata"]["top_k"], "16");
}

TEST(DistillTargets, StoredValuesFollowTheDefinitions) {
  temp_dir dir;
  const std::string full = make_targets(dir, "full", {"--top-k", "full", "--samples", "1", "--hidden-layers", "3"});
  const std::string top = make_targets(dir, "top", {"--top-k", "8", "--samples", "1", "--temperature", "2", "--hidden-layers", "3", "--hidden-dtype", "f16"});
  const auto f = read_safetensors((std::filesystem::path(full) / "targets-00000.safetensors").string());
  const auto t = read_safetensors((std::filesystem::path(top) / "targets-00000.safetensors").string());
  ASSERT_TRUE(f.ok() && t.ok());
  const auto logp = floats(f->tensors.at("teacher_logprobs"));
  const auto values = floats(t->tensors.at("teacher_topk_logprobs"));
  const int32_t* idx = t->tensors.at("teacher_topk_indices").data_as<int32_t>();
  for (size_t p = 0; p < 128; ++p) {
    // log_softmax(logits / 2) = log_softmax(log_softmax(logits) / 2): recompute from the T=1 row.
    std::vector<double> scaled(512);
    double best = -INFINITY, sum = 0;
    for (size_t v = 0; v < 512; ++v) best = std::max(best, scaled[v] = logp[p * 512 + v] / 2.0);
    for (double s : scaled) sum += std::exp(s - best);
    for (size_t i = 0; i < 8; ++i) {
      const int32_t v = idx[p * 8 + i];
      EXPECT_NEAR(values[p * 8 + i], scaled[static_cast<size_t>(v)] - best - std::log(sum), 2e-5) << p << " " << i;
      if (i > 0) {
        EXPECT_GE(values[p * 8 + i - 1], values[p * 8 + i]);
        if (values[p * 8 + i - 1] == values[p * 8 + i]) {
          EXPECT_LT(idx[p * 8 + i - 1], v);
        }
      }
      for (size_t w = 0; w < 512; ++w) {  // nothing outside the top-K beats its smallest entry
        if (i == 7 && std::find(idx + p * 8, idx + p * 8 + 8, static_cast<int32_t>(w)) == idx + p * 8 + 8) {
          EXPECT_LE(logp[p * 512 + w], logp[p * 512 + static_cast<size_t>(v)]);
        }
      }
    }
  }
  // f16 hidden states are the f32 ones rounded to nearest.
  const auto h32 = floats(f->tensors.at("teacher_hidden.3"));
  const tensor& h16 = t->tensors.at("teacher_hidden.3");
  ASSERT_EQ(h16.numel(), 128 * 64);
  for (size_t i = 0; i < h32.size(); ++i) ASSERT_EQ(h16.data_as<uint16_t>()[i], f32_to_f16(h32[i])) << i;
  EXPECT_EQ(f->tensors.at("token_ids").data_as<int64_t>()[0], 1);  // BOS first
}

TEST(DistillTargets, LastHiddenStateThroughTheHeadGivesTheLogProbs) {
  // The residual stream after the last block, through the final RMSNorm and the (tied) head, must
  // give the stored full log-probs: this pins down which value --hidden-layers stores.
  temp_dir dir;
  const std::string out = make_targets(dir, "h", {"--top-k", "full", "--samples", "1", "--hidden-layers", "4"});
  const auto shard = read_safetensors((std::filesystem::path(out) / "targets-00000.safetensors").string());
  auto m = load_model(teacher(), {});
  ASSERT_TRUE(shard.ok() && m.ok());
  ASSERT_TRUE(m->llm->tied_embeddings);
  const auto norm = *to_float_vector(*m->g.find_weight("model.norm.weight"));
  const auto embed = *to_float_vector(*m->g.find_weight("model.embed_tokens.weight"));
  const auto hidden = floats(shard->tensors.at("teacher_hidden.4"));
  const auto logp = floats(shard->tensors.at("teacher_logprobs"));
  for (size_t p : {0, 17, 127}) {
    double ms = 0;
    for (size_t d = 0; d < 64; ++d) ms += double(hidden[p * 64 + d]) * hidden[p * 64 + d];
    const double scale = 1.0 / std::sqrt(ms / 64 + m->llm->norm_eps);
    std::vector<float> logits(512);
    for (size_t v = 0; v < 512; ++v) {
      double acc = 0;
      for (size_t d = 0; d < 64; ++d) acc += hidden[p * 64 + d] * scale * norm[d] * embed[v * 64 + d];
      logits[v] = static_cast<float>(acc);
    }
    double best = -INFINITY, sum = 0;
    for (float l : logits) best = std::max(best, double(l));
    for (float l : logits) sum += std::exp(l - best);
    for (size_t v = 0; v < 512; ++v) EXPECT_NEAR(logp[p * 512 + v], logits[v] - best - std::log(sum), 1e-3) << p << " " << v;
  }
}

}  // namespace
}  // namespace edgepack::testing

// distill-targets and eval --distill-targets refuse bad input with the documented exit code and a
// message naming the file or option, and leave nothing behind (docs/distill.md, docs/errors.md).
#include <nlohmann/json.hpp>

#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

// Small defaults (2 windows of 32 tokens, top-8) unless `extra` gives the option itself.
std::vector<std::string> distill(const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"distill-targets", bundled_model(), "--data", bundled_text(), "-o", out};
  for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{{"--samples", "2"}, {"--seq", "32"}, {"--top-k", "8"}})
    if (std::find(extra.begin(), extra.end(), option) == extra.end()) args.insert(args.end(), {option, value});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The parent holds nothing but what the test put there: no output, no staging directory.
void expect_nothing_written(const temp_dir& dir, size_t entries_before = 0) {
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, entries_before);
}

TEST(DistillErrors, BadOptionsAreUsageErrors) {
  temp_dir dir;
  const std::string out = (dir / "t").string();
  expect_error(distill(out, {"--top-k", "-1"}), {2, "", "--top-k -1 must be at least 1"});
  expect_error(distill(out, {"--top-k", "513"}), {2, "", "--top-k 513 must be between 1 and the teacher's vocabulary of 512"});
  expect_error(distill(out, {"--top-k", "many"}), {2, "", "--top-k 'many' is not an integer"});
  expect_error(distill(out, {"--temperature", "0"}), {2, "", "--temperature must be a positive finite number"});
  expect_error(distill(out, {"--temperature", "-1"}), {2, "", "--temperature must be a positive finite number"});
  expect_error(distill(out, {"--hidden-layers", "5"}), {2, "", "layer 5 is outside the teacher's blocks 0..4"});
  expect_error(distill(out, {"--hidden-layers", "1,1"}), {2, "", "distinct layers"});
  expect_error(distill(out, {"--hidden-dtype", "bf16"}), {2, "", "--hidden-dtype must be f32 or f16"});
  expect_error(distill(out, {"--shard-size", "12X"}), {2, "", "--shard-size '12X' is not a positive size"});
  expect_error(distill(out, {"--shard-size", "1K"}), {2, "", "smaller than one sample's shard"});
  expect_error(distill(out, {"--seq", "600"}), {2, "", "exceeds the teacher's context of 512"});
  expect_error(distill(out, {"--sampling", "every-other"}), {2, "", "--sampling 'every-other' is not known"});
  expect_nothing_written(dir);
}

TEST(DistillErrors, TextShorterThanOneWindowNamesTheFileAndDistillsOwnOption) {
  temp_dir dir;
  write_file(dir / "short.txt", "Once upon a time.");
  auto args = distill((dir / "t").string(), {});
  args[3] = (dir / "short.txt").string();  // --data
  expect_error(args, {3, (dir / "short.txt").string(), "fewer than one window of --seq 32"});
  expect_nothing_written(dir, 1);
}

TEST(DistillErrors, MissingDataIsBadInputAndWritesNothing) {
  temp_dir dir;
  auto args = distill((dir / "t").string(), {});
  args[3] = (dir / "missing.txt").string();
  expect_error(args, {3, args[3], "cannot open text file"});
  expect_nothing_written(dir);
}

TEST(DistillErrors, ExistingDirectoryIsKeptUnlessForceOnEarlierTargets) {
  temp_dir dir;
  const auto other = dir / "other";
  std::filesystem::create_directory(other);
  write_file(other / "keep.txt", "mine");
  expect_error(distill(other.string(), {}), {2, other.string(), "exists and is not empty (pass --force"});
  expect_error(distill(other.string(), {"--force"}), {2, other.string(), "holds no manifest.json; refusing to replace"});
  EXPECT_EQ(read_file(other / "keep.txt"), "mine");
  expect_nothing_written(dir, 1);
  // An earlier output is replaced with --force; an empty directory needs no --force.
  const auto targets = dir / "targets";
  std::filesystem::create_directory(targets);
  ASSERT_EQ(run_cli(distill(targets.string(), {"-q"})).exit_code, 0);
  const std::string first = read_file(targets / "manifest.json");
  expect_error(distill(targets.string(), {}), {2, targets.string(), "exists and is not empty"});
  auto r = run_cli(distill(targets.string(), {"-q", "--force", "--top-k", "4"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(targets / "manifest.json"), first);
  expect_nothing_written(dir, 2);
}

class DistillEvalErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = (dir_ / "t").string();
    auto r = run_cli(distill(out_, {"-q", "--samples", "3", "--shard-size", "5K"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    shard_ = (std::filesystem::path(out_) / "targets-00001.safetensors").string();
    ASSERT_TRUE(std::filesystem::exists(shard_));
  }
  std::vector<std::string> eval() const { return {"eval", bundled_model(), "--distill-targets", out_}; }
  void edit_manifest(const std::function<void(nlohmann::json&)>& edit) const {
    const auto path = std::filesystem::path(out_) / "manifest.json";
    auto m = nlohmann::json::parse(read_file(path));
    edit(m);
    write_file(path, m.dump());
  }
  temp_dir dir_;
  std::string out_, shard_;
};

TEST_F(DistillEvalErrors, TruncatedShardNamesTheFile) {
  const std::string bytes = read_file(shard_);
  write_file(shard_, bytes.substr(0, bytes.size() - 10));
  expect_error(eval(), {3, shard_, "(truncated or replaced)"});
}

TEST_F(DistillEvalErrors, CorruptShardNamesTheFile) {
  std::string bytes = read_file(shard_);
  bytes[bytes.size() - 3] ^= 0x40;
  write_file(shard_, bytes);
  expect_error(eval(), {3, shard_, "does not match the manifest's"});
}

TEST_F(DistillEvalErrors, MismatchedStudentVocabularyOrTokenizer) {
  edit_manifest([](nlohmann::json& m) { m["targets"]["vocab_size"] = 1000; });
  expect_error(eval(), {2, "", "the student's vocabulary has 512 tokens, the targets in " + out_ + " were made with 1000"});
  edit_manifest([](nlohmann::json& m) {
    m["targets"]["vocab_size"] = 512;
    m["tokenizer"]["sha256"] = std::string(64, '0');
  });
  expect_error(eval(), {2, bundled_model(), "differs from the one the targets"});
}

TEST_F(DistillEvalErrors, BadManifestAndUsage) {
  edit_manifest([](nlohmann::json& m) { m["shards"][1]["file"] = "../escape.safetensors"; });
  expect_error(eval(), {3, (std::filesystem::path(out_) / "manifest.json").string(), "must be a plain file name"});
  edit_manifest([](nlohmann::json& m) { m["format_version"] = 2; });
  expect_error(eval(), {3, (std::filesystem::path(out_) / "manifest.json").string(), "format_version 2 is not supported"});
  expect_error({"eval", bundled_model(), "--distill-targets", out_, "--data", bundled_text()}, {2, "", "excludes --distill-targets"});
  expect_error({"eval", bundled_model(), "--distill-targets", (dir_ / "none").string()}, {3, (dir_ / "none/manifest.json").string(), "cannot open"});
}

}  // namespace
}  // namespace edgepack::testing

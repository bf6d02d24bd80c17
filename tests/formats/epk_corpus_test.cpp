// The .epk fuzz seed corpus (tests/fuzz/corpus/epk_fuzz and epk_nochecksum_fuzz) is generated
// here: run with EDGEPACK_WRITE_EPK_SEEDS=1 to (re)write it after a format change. Always, the
// test checks that the committed valid seeds still read and the corrupt ones are rejected, so the
// corpus cannot silently go stale (a stale corpus only exercises the magic/version checks).
#include <cstdlib>
#include <filesystem>

#include "formats/epk.h"
#include "tests/formats/epk_test_model.h"
#include "tests/test_support.h"

namespace edgepack {
namespace {

// Small (< 8 KB) but covering: dense f32, quantized asymmetric with a tail group (40 = 32 + 8),
// symmetric per-channel 3-bit, every attribute type, a symbolic dim, LLM config, odd vocabulary.
model seed_model() {
  std::mt19937 rng(99);
  model m;
  m.format = "llama2c";
  m.g.inputs.push_back({"x", dtype::f32, {{-1, "seq"}, {40, ""}}});
  m.g.outputs.push_back({"y", dtype::f32, {{-1, "seq"}, {2, ""}}});
  m.g.weights["w"] = testing::make_quantized(4, 32, false, 2, 40, rng);
  m.g.weights["v"] = testing::make_quantized(3, 0, true, 1, 5, rng);
  m.g.weights["b"] = testing::make_dense(dtype::f32, {2}, rng);
  node n;
  n.name = "mm";
  n.op_type = "MatMulNBits";
  n.domain = "com.microsoft";
  n.inputs = {"x", "w", "b"};
  n.outputs = {"y"};
  n.attributes = {{"K", int64_t{40}}, {"alpha", 0.5}, {"s", std::string("\xff")},
                  {"is", std::vector<int64_t>{1, 2}}, {"fs", std::vector<double>{-0.0, 1e-7}}};
  m.g.nodes.push_back(n);
  llm_config c;
  c.dim = 40;
  c.vocab_size = 3;
  m.llm = c;
  m.vocab.pieces = {"<s>", "<0x0A>", std::string("\x80", 1)};
  m.vocab.scores = {0, -1, -2};
  return m;
}

// Sparse storage: 2:4 dense f32 and 2:4 + w4g32 (tail group of 6, N:M tail of 2), a bitmask.
model sparse_model() {
  std::mt19937 rng(7);
  model m;
  m.format = "epk";
  m.g.inputs.push_back({"x", dtype::f32, {{-1, "seq"}, {38, ""}}});
  m.g.outputs.push_back({"y", dtype::f32, {{-1, "seq"}, {3, ""}}});
  m.g.weights["a"] = testing::make_two_four(3, 38, false, rng);
  m.g.weights["w"] = testing::make_two_four(3, 38, true, rng);
  m.g.weights["m"] = testing::make_bitmask(4, 9, rng);
  node n;
  n.name = "mm";
  n.op_type = "MatMul";
  n.inputs = {"x", "w"};
  n.outputs = {"y"};
  m.g.nodes.push_back(n);
  return m;
}

model weightless_model() {
  model m;
  m.g.inputs.push_back({"x", dtype::i64, {{-1, "n"}}});
  m.g.outputs.push_back({"x", dtype::i64, {{-1, "n"}}});
  return m;
}

std::map<std::string, std::string> seed_files() {
  testing::temp_dir dir;
  std::map<std::string, std::string> files;
  for (const auto& [name, m] : {std::pair{"valid_small.epk", seed_model()}, std::pair{"valid_weightless.epk", weightless_model()},
                                  std::pair{"valid_sparse.epk", sparse_model()}}) {
    const auto path = dir / name;
    EXPECT_TRUE(write_epk(path.string(), m, {}).ok());
    files[name] = testing::read_file(path);
  }
  const std::string good = files["valid_small.epk"];
  testing::epk_image image = testing::split_epk(good);
  image.header.major = 2;
  files["newer_major.epk"] = testing::join_epk(image);
  files["truncated.epk"] = good.substr(0, good.size() - 100);
  std::string flipped = good;
  image = testing::split_epk(good);
  flipped[image.header.data_offset + image.metadata["tensors"][testing::tensor_index(image.metadata, "w")]["data"]["offset"].get<size_t>() + 5] ^= 0x20;
  files["flipped_blob.epk"] = flipped;
  image = testing::split_epk(good);
  image.metadata["tensors"][0]["data"]["offset"] = 64;
  files["overlap.epk"] = testing::join_epk(image);
  // Sparse metadata the reader must refuse with or without CRCs: a repeated index.
  image = testing::split_epk(files["valid_sparse.epk"]);
  auto& indices = image.metadata["tensors"][testing::tensor_index(image.metadata, "a")]["indices"];
  image.data[indices["offset"].get<size_t>()] = '\xff';  // indices 3, 3: a repeat
  indices["crc32c"] = crc32c(std::as_bytes(std::span(image.data).subspan(indices["offset"].get<size_t>(), indices["length"].get<size_t>())));
  files["sparse_bad_indices.epk"] = testing::join_epk(image);
  return files;
}

TEST(EpkCorpus, SeedsReadAsIntended) {
  const auto files = seed_files();
  const bool rewrite = std::getenv("EDGEPACK_WRITE_EPK_SEEDS") != nullptr;
  for (const char* target : {"epk_fuzz", "epk_nochecksum_fuzz"}) {
    const auto dir = testing::source_dir() / "tests" / "fuzz" / "corpus" / target;
    if (rewrite) std::filesystem::create_directories(dir);
    for (const auto& [name, bytes] : files) {
      SCOPED_TRACE(std::string(target) + "/" + name);
      EXPECT_LT(bytes.size(), 8192u);
      if (rewrite) testing::write_file(dir / name, bytes);
      // Valid seeds must read, or the fuzzer starts from nothing but rejections.
      auto m = read_epk((dir / name).string());
      if (name.rfind("valid_", 0) == 0) {
        EXPECT_TRUE(m.ok()) << m.status().message() << " (stale corpus? rerun with EDGEPACK_WRITE_EPK_SEEDS=1)";
      } else {
        EXPECT_EQ(m.status().code(), error_code::bad_input);
      }
    }
  }
}

}  // namespace
}  // namespace edgepack

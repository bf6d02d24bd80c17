// Streaming .epk writes: tensors produced on demand, statistics and source hashes supplied after
// the data, placeholders patched in place; failures leave nothing behind.
#include <filesystem>

#include "formats/epk.h"
#include "tests/formats/epk_test_model.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

// The model's weights with their bytes removed: only layouts, as a streaming caller provides.
model layouts_only(const model& full) {
  model m = full;
  for (auto& [name, t] : m.g.weights) t.data = t.scales = t.zeros = {};
  return m;
}

TEST(EpkStreaming, ProducedTensorsFinalExtraAndSources) {
  temp_dir dir;
  const model full = make_full_model();
  model skeleton = layouts_only(full);
  skeleton.sources = {{"a.bin", "", 10}, {"b.bin", "", 20}};
  std::vector<std::string> order;
  epk_write_options options;
  options.extra_metadata = {{"stats", nlohmann::json::array()}};
  options.final_extra_metadata = [&] { return nlohmann::json{{"stats", order}}; };
  for (const auto& [name, t] : full.g.weights) options.metadata_reserve_bytes += name.size() + 4;
  options.final_sources = [] { return Expected<std::vector<source_file>>(std::vector<source_file>{{"a.bin", std::string(64, 'a'), 10}, {"b.bin", std::string(64, 'b'), 20}}); };
  const std::string path = (dir / "s.epk").string();
  const Status status = write_epk_streaming(path, skeleton, options, [&](const std::string& name, const tensor&) -> Expected<tensor> {
    order.push_back(name);
    return full.g.weights.at(name);
  });
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(order.size(), full.g.weights.size());
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));  // name order, one call each
  auto back = read_epk(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  for (const auto& [name, t] : full.g.weights) {
    const tensor& r = back->g.weights.at(name);
    ASSERT_EQ(r.data.size, t.data.size) << name;
    if (t.data.size > 0) {
      EXPECT_EQ(0, std::memcmp(r.data.data, t.data.data, t.data.size)) << name;
    }
  }
  ASSERT_EQ(back->sources.size(), 2u);
  EXPECT_EQ(back->sources[1].sha256, std::string(64, 'b'));
  auto meta = read_epk_metadata(path);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->at("metadata").at("extra").at("stats").size(), order.size());
}

TEST(EpkStreaming, ProducerErrorLeavesExistingFileAndNoTemp) {
  temp_dir dir;
  const model full = make_full_model();
  const std::string path = (dir / "s.epk").string();
  write_file(path, "previous bytes");
  const Status status = write_epk_streaming(path, layouts_only(full), {}, [](const std::string& name, const tensor&) -> Expected<tensor> {
    return bad_input("cannot produce " + name);
  });
  EXPECT_EQ(status.code(), error_code::bad_input);
  EXPECT_NE(status.message().find("cannot produce"), std::string::npos);
  EXPECT_EQ(read_file(path), "previous bytes");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1u);
}

TEST(EpkStreaming, ProducedLayoutMismatchIsInternalError) {
  temp_dir dir;
  const model full = make_full_model();
  const std::string path = (dir / "s.epk").string();
  const Status status = write_epk_streaming(path, layouts_only(full), {}, [&](const std::string&, const tensor&) -> Expected<tensor> {
    return tensor::allocate(dtype::f32, {3});
  });
  EXPECT_EQ(status.code(), error_code::internal);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(EpkStreaming, ExtraOutgrowingReserveIsInternalError) {
  temp_dir dir;
  const model full = make_full_model();
  epk_write_options options;
  options.final_extra_metadata = [] { return nlohmann::json{{"big", std::string(4096, 'x')}}; };
  const std::string path = (dir / "s.epk").string();
  const Status status = write_epk_streaming(path, layouts_only(full), options,
                                            [&](const std::string& name, const tensor&) -> Expected<tensor> { return full.g.weights.at(name); });
  EXPECT_EQ(status.code(), error_code::internal);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace edgepack::testing

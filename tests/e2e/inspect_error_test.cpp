// inspect shows the per-layer weight error that quantize recorded in the .epk (extra.pass.tensors).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/e2e/cli_test_util.h"

namespace edgepack::testing {
namespace {

TEST(InspectError, QuantizedTensorsShowTheirRecordedRelativeError) {
  temp_dir dir;
  const auto out = (dir / "q.epk").string();
  const auto q = run_cli({"-q", "quantize", bundled_model(), "-o", out, "--scheme", "w4g32", "--json"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  std::map<std::string, double> recorded;
  const auto quantized = nlohmann::json::parse(q.out);
  for (const auto& t : quantized["tensors"]) recorded[t["name"].get<std::string>()] = t["relative_error"].get<double>();
  ASSERT_FALSE(recorded.empty());

  const auto inspect = run_cli({"-q", "inspect", out, "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  size_t shown = 0;
  const auto listing = nlohmann::json::parse(inspect.out);
  for (const auto& t : listing["tensors"]) {
    const auto it = recorded.find(t["name"].get<std::string>());
    if (it == recorded.end()) {
      EXPECT_FALSE(t.contains("relative_error")) << t["name"];
      continue;
    }
    ASSERT_TRUE(t.contains("relative_error")) << t["name"];
    EXPECT_DOUBLE_EQ(t["relative_error"].get<double>(), it->second);
    EXPECT_GT(it->second, 0.0);
    EXPECT_LT(it->second, 0.5);
    ++shown;
  }
  EXPECT_EQ(shown, recorded.size());

  const auto human = run_cli({"-q", "inspect", out});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("rel.error"), std::string::npos) << human.out;
  // A float model has no recorded error and no column.
  const auto plain = run_cli({"-q", "inspect", bundled_model()});
  EXPECT_EQ(plain.out.find("rel.error"), std::string::npos);
}

}  // namespace
}  // namespace edgepack::testing

// verify --task checks: argmax, CTC text and binary-map agreement on hand-made outputs.
#include <gtest/gtest.h>

#include "runtime_ref/task_check.h"
#include "tests/test_support.h"

namespace edgepack::testing {
namespace {

tensor f32(std::vector<int64_t> shape, std::vector<float> values) { return tensor::from_values<float>(dtype::f32, std::move(shape), values); }

TEST(TaskCheck, ParsesTheGrammar) {
  EXPECT_EQ(parse_task_spec("argmax")->kind, task_kind::argmax);
  auto map = parse_task_spec("binary-map");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->kind, task_kind::binary_map);
  EXPECT_DOUBLE_EQ(map->threshold, 0.3);
  EXPECT_DOUBLE_EQ(parse_task_spec("binary-map:0.5")->threshold, 0.5);
  for (const char* bad : {"", "argmax2", "ctc:", "binary-map:x", "binary-map:0.5z", "det"}) {
    auto spec = parse_task_spec(bad);
    EXPECT_EQ(spec.status().code(), error_code::bad_usage) << bad;
  }
  auto missing_keys = parse_task_spec("ctc:/nonexistent/keys.txt");
  EXPECT_EQ(missing_keys.status().code(), error_code::bad_input);
  EXPECT_NE(missing_keys.status().message().find("/nonexistent/keys.txt"), std::string::npos);
}

TEST(TaskCheck, ArgmaxPerRow) {
  const task_spec spec = *parse_task_spec("argmax");
  const tensor base = f32({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.2f, 0.3f});
  const tensor same = f32({2, 3}, {0.2f, 0.6f, 0.2f, 0.4f, 0.3f, 0.3f});
  const tensor flipped = f32({2, 3}, {0.2f, 0.6f, 0.2f, 0.3f, 0.2f, 0.5f});
  auto ok = check_task(spec, same, base);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_TRUE(ok->kept);
  EXPECT_EQ(ok->model_answer, "[1, 0]");
  auto bad = check_task(spec, flipped, base);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->kept);
  EXPECT_DOUBLE_EQ(bad->agreement, 0.5);
  EXPECT_EQ(bad->model_answer, "[1, 2]");
  EXPECT_EQ(bad->base_answer, "[1, 0]");
  const tensor one = f32({1, 3}, {0, 0, 1});
  EXPECT_EQ(check_task(spec, one, one)->model_answer, "2");
}

TEST(TaskCheck, CtcComparesDecodedText) {
  temp_dir dir;
  write_file(dir / "keys.txt", "a\nb");
  const task_spec spec = *parse_task_spec("ctc:" + (dir / "keys.txt").string());  // 4 classes
  // [1, 3, 4]: "ab" vs "a" (last step blank instead of b)
  const tensor base = f32({1, 3, 4}, {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0});
  const tensor model = f32({1, 3, 4}, {0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0});
  auto r = check_task(spec, model, base);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->base_answer, "ab");
  EXPECT_EQ(r->model_answer, "a");
  EXPECT_FALSE(r->kept);
  EXPECT_TRUE(check_task(spec, base, base)->kept);
  const tensor wrong_rank = f32({3, 4}, std::vector<float>(12, 0.0f));
  EXPECT_EQ(check_task(spec, wrong_rank, wrong_rank).status().code(), error_code::bad_input);
  const tensor wrong_classes = f32({1, 2, 5}, std::vector<float>(10, 0.0f));
  EXPECT_EQ(check_task(spec, wrong_classes, wrong_classes).status().code(), error_code::bad_input);
}

TEST(TaskCheck, BinaryMapAgreement) {
  task_spec spec = *parse_task_spec("binary-map:0.3");
  spec.min_agreement = 0.75;
  const tensor base = f32({1, 1, 2, 2}, {0.1f, 0.4f, 0.9f, 0.2f});
  const tensor model = f32({1, 1, 2, 2}, {0.1f, 0.35f, 0.29f, 0.2f});  // one of four flips
  auto r = check_task(spec, model, base);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->agreement, 0.75);
  EXPECT_TRUE(r->kept);
  spec.min_agreement = 0.8;
  EXPECT_FALSE(check_task(spec, model, base)->kept);
  const tensor other_shape = f32({1, 4}, {0, 0, 0, 0});
  EXPECT_EQ(check_task(spec, other_shape, base).status().code(), error_code::bad_input);
}

}  // namespace
}  // namespace edgepack::testing

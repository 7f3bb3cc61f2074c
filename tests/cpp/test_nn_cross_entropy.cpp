// Softmax cross-entropy with ignore_index: PyTorch fixture, finite differences,
// all-ignored batches, bad targets.
#include <gtest/gtest.h>

#include "attn_fixture.hpp"
#include "partita/core/error.hpp"
#include "partita/nn/cross_entropy.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;
using namespace attn_test;

TEST(CrossEntropy, MatchesTorchWithIgnoreIndex) {
  auto fx = load_fixture("cross_entropy");
  SoftmaxCrossEntropy ce(/*ignore_index=*/1);
  float loss = ce.forward(fx["logits"], as_ids(fx["targets"]));
  EXPECT_NEAR(loss, fx["loss"][0], 1e-5);
  EXPECT_EQ(ce.count(), 4);
  expect_close(ce.backward(0.5f), fx["dlogits"], 1e-6, "dlogits");
}

TEST(CrossEntropy, FiniteDifferences) {
  Tensor logits({5, 9});
  Generator g(11);
  fill_uniform(logits, g, -3.0f, 3.0f);
  std::vector<std::int32_t> t{3, 0, 8, 0, 5};
  SoftmaxCrossEntropy ce(0);
  ce.forward(logits, t);
  GradTarget target{"logits", &logits, Tensor({5, 9})};
  target.analytic.copy_from(ce.backward());
  std::vector<GradTarget> targets;
  targets.push_back(std::move(target));
  auto res = check_gradients([&] { return static_cast<double>(ce.forward(logits, t)); }, targets);
  EXPECT_TRUE(res.ok) << res.report;
  // Ignored rows get exactly zero gradient.
  for (int j = 0; j < 9; ++j) EXPECT_EQ(targets[0].analytic[1 * 9 + j], 0.0f);
}

TEST(CrossEntropy, AllIgnoredIsZero) {
  Tensor logits({2, 3});
  logits.fill(1.0f);
  SoftmaxCrossEntropy ce(1);
  EXPECT_EQ(ce.forward(logits, std::vector<std::int32_t>{1, 1}), 0.0f);
  const Tensor& d = ce.backward();
  for (std::int64_t i = 0; i < d.size(); ++i) EXPECT_EQ(d[i], 0.0f);
}

TEST(CrossEntropy, BadTargetsThrow) {
  Tensor logits({2, 3});
  SoftmaxCrossEntropy ce(1);
  EXPECT_THROW(ce.forward(logits, std::vector<std::int32_t>{0, 3}), InvalidArgument);
  EXPECT_THROW(ce.forward(logits, std::vector<std::int32_t>{0}), ShapeError);
  SoftmaxCrossEntropy fresh;
  EXPECT_THROW(fresh.backward(), InvalidArgument);
}

// Dropout: keep rate and scaling, same mask in backward, reproducibility from
// the seed (also across thread counts), identity in eval mode, gradient check.
#include <gtest/gtest.h>

#include <omp.h>

#include "partita/core/threads.hpp"
#include "partita/nn/dropout.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;

TEST(Dropout, DropsAboutRateAndScalesSurvivors) {
  Dropout drop(0.3f, 42);
  Tensor x({4, 64, 64, 8});
  x.fill(1.0f);
  const Tensor& y = drop.forward(x);
  int64_t zeros = 0;
  for (int64_t i = 0; i < y.size(); ++i) {
    if (y[i] == 0.0f) ++zeros;
    else EXPECT_FLOAT_EQ(y[i], 1.0f / 0.7f);
  }
  const double frac = double(zeros) / double(y.size());
  EXPECT_NEAR(frac, 0.3, 0.01);
  Tensor dy(x.shape());
  dy.fill(2.0f);
  const Tensor& dx = drop.backward(dy);
  for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(dx[i] == 0.0f, y[i] == 0.0f);
}

TEST(Dropout, SameSeedSameMaskAnyThreadCount) {
  Tensor x({3, 70000});
  x.fill(1.0f);
  const int saved = num_threads();
  Dropout a(0.5f, 7), b(0.5f, 7), c(0.5f, 8);
  set_num_threads(1);
  Tensor ya = a.forward(x);
  set_num_threads(2);
  Tensor yb = b.forward(x);
  Tensor yc = c.forward(x);
  set_num_threads(saved);
  int64_t diff_ab = 0, diff_ac = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    diff_ab += ya[i] != yb[i];
    diff_ac += ya[i] != yc[i];
  }
  EXPECT_EQ(diff_ab, 0);
  EXPECT_GT(diff_ac, x.size() / 4);
  // the next call draws a new mask
  Tensor ya2 = a.forward(x);
  int64_t diff_next = 0;
  for (int64_t i = 0; i < x.size(); ++i) diff_next += ya[i] != ya2[i];
  EXPECT_GT(diff_next, x.size() / 4);
}

TEST(Dropout, EvalIsIdentity) {
  Dropout drop(0.5f);
  drop.set_training(false);
  Tensor x({10});
  x.fill(3.0f);
  EXPECT_EQ(&drop.forward(x), &x);
  EXPECT_EQ(&drop.backward(x), &x);
  Dropout zero(0.0f);
  EXPECT_EQ(&zero.forward(x), &x);
}

TEST(Dropout, GradientCheckWithAFixedMask) {
  Dropout drop(0.4f, 3);
  Tensor x({2, 5, 3});
  Generator rng(1);
  fill_uniform(x, rng);
  // reseed before every forward so the finite differences see one mask
  auto res = gradcheck_layer(
      [&](const Tensor& t) -> const Tensor& {
        drop.reseed(99);
        return drop.forward(t);
      },
      [&](const Tensor& d) -> const Tensor& { return drop.backward(d); }, x, nullptr);
  EXPECT_TRUE(res.ok) << res.report;
}

TEST(Dropout, BadRate) {
  EXPECT_THROW(Dropout(1.0f), InvalidArgument);
  EXPECT_THROW(Dropout(-0.1f), InvalidArgument);
}

// UpsampleNearest2d: replication pattern, block-sum backward, gradient check.
#include <gtest/gtest.h>

#include "partita/core/random.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/upsample.hpp"

using namespace partita;
using namespace partita::nn;

TEST(UpsampleNearest2d, ReplicatesAndSumsBack) {
  Tensor x({1, 2, 3, 2});
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  UpsampleNearest2d up;
  const Tensor& y = up.forward(x);
  ASSERT_EQ(y.shape(), (Shape{1, 4, 6, 2}));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j)
      for (int c = 0; c < 2; ++c)
        EXPECT_EQ(y[(i * 6 + j) * 2 + c], x[((i / 2) * 3 + j / 2) * 2 + c]);
  Tensor dy(y.shape());
  dy.fill(1.0f);
  const Tensor& dx = up.backward(dy);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(dx[i], 4.0f);
}

TEST(UpsampleNearest2d, FactorThreeGradientCheck) {
  UpsampleNearest2d up(3);
  Tensor x({2, 2, 3, 2});
  Generator rng(1);
  fill_uniform(x, rng);
  auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return up.forward(t); },
                             [&](const Tensor& d) -> const Tensor& { return up.backward(d); }, x,
                             nullptr);
  EXPECT_TRUE(res.ok) << res.report;
  EXPECT_EQ(res.checked, x.size());
}

TEST(UpsampleNearest2d, BadInput) {
  EXPECT_THROW(UpsampleNearest2d(0), InvalidArgument);
  UpsampleNearest2d up;
  EXPECT_THROW(up.forward(Tensor({2, 2})), ShapeError);
  EXPECT_THROW(up.backward(Tensor({1, 2, 2, 1})), InvalidArgument);
  Tensor x({1, 2, 2, 1});
  up.forward(x);
  EXPECT_THROW(up.backward(Tensor({1, 2, 2, 1})), ShapeError);
}

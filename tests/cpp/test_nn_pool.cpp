// MaxPool2d: values and argmax routing on a hand-made input, odd sizes,
// gradient check, bad input.
#include <gtest/gtest.h>

#include "partita/core/random.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/pool.hpp"

using namespace partita;
using namespace partita::nn;

TEST(MaxPool2d, ForwardPicksMaximaAndBackwardRoutesToThem) {
  // one sample, 4x4, 2 channels; channel 1 = -channel 0
  Tensor x({1, 4, 4, 2});
  const float v[16] = {1, 5, 2, 0, 3, 4, 8, 7, 9, 6, 1, 2, 0, 3, 4, 11};
  for (int i = 0; i < 16; ++i) {
    x[2 * i] = v[i];
    x[2 * i + 1] = -v[i];
  }
  MaxPool2d pool;
  const Tensor& y = pool.forward(x);
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(y[0], 5);
  EXPECT_EQ(y[2], 8);
  EXPECT_EQ(y[4], 9);
  EXPECT_EQ(y[6], 11);
  EXPECT_EQ(y[1], -1);
  EXPECT_EQ(y[3], 0);
  EXPECT_EQ(y[5], 0);
  EXPECT_EQ(y[7], -1);
  Tensor dy(y.shape());
  for (int i = 0; i < 8; ++i) dy[i] = static_cast<float>(i + 1);
  const Tensor& dx = pool.backward(dy);
  // channel 0: 5 at (0,1), 8 at (1,2), 9 at (2,0), 11 at (3,3)
  EXPECT_EQ(dx[2 * 1], 1);
  EXPECT_EQ(dx[2 * 6], 3);   // dy is interleaved: channel 0 gets 1, 3, 5, 7
  EXPECT_EQ(dx[2 * 8], 5);
  EXPECT_EQ(dx[2 * 15], 7);
  double total = 0;
  for (int i = 0; i < dx.size(); ++i) total += dx[i];
  EXPECT_EQ(total, 36.0);  // every dy lands exactly once
  // channel 1, first window maximum -1 at (0,0); third window: 0 at (3,0) vs -9,-6,-3 -> (3,0)
  EXPECT_EQ(dx[1], 2);
  EXPECT_EQ(dx[2 * 12 + 1], 6);
}

TEST(MaxPool2d, OddSizesFloorAndOverlappingWindows) {
  MaxPool2d pool;
  EXPECT_EQ(pool.output_shape({2, 5, 7, 3}), (Shape{2, 2, 3, 3}));
  MaxPool2d overlap(3, 1);
  EXPECT_EQ(overlap.output_shape({1, 5, 5, 1}), (Shape{1, 3, 3, 1}));
}

TEST(MaxPool2d, GradientCheck) {
  for (int k : {2, 3}) {
    MaxPool2d pool(k, 2);
    // distinct values spaced far beyond eps, so no ties and no argmax flips
    Tensor x({2, 5, 6, 3});
    Generator rng(9);
    for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.1f;
    for (int64_t i = x.size() - 1; i > 0; --i) std::swap(x[i], x[static_cast<int64_t>(rng.below(i + 1))]);
    auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return pool.forward(t); },
                               [&](const Tensor& d) -> const Tensor& { return pool.backward(d); },
                               x, nullptr);
    EXPECT_TRUE(res.ok) << res.report;
  }
}

TEST(MaxPool2d, BadInput) {
  EXPECT_THROW(MaxPool2d(0), InvalidArgument);
  EXPECT_THROW(MaxPool2d(17), InvalidArgument);  // window position must fit a byte
  MaxPool2d pool;
  EXPECT_THROW(pool.backward(Tensor({1, 1, 1, 1})), InvalidArgument);
  EXPECT_THROW(pool.forward(Tensor({1, 1, 4, 1})), ShapeError);
  EXPECT_THROW(pool.forward(Tensor({4, 4, 1})), ShapeError);
  Tensor x({1, 4, 4, 1});
  pool.forward(x);
  EXPECT_THROW(pool.backward(Tensor({1, 2, 2, 2})), ShapeError);
}

// ConcatChannels: layout of the result, split of the gradient, gradient check
// through both inputs, mismatched shapes.
#include <gtest/gtest.h>

#include "partita/core/random.hpp"
#include "partita/nn/concat.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;

TEST(ConcatChannels, InterleavesPerPixelAndSplitsBack) {
  Tensor a({1, 2, 2, 1}), b({1, 2, 2, 3});
  for (int i = 0; i < 4; ++i) a[i] = static_cast<float>(100 + i);
  for (int i = 0; i < 12; ++i) b[i] = static_cast<float>(i);
  ConcatChannels cat;
  const Tensor& y = cat.forward(a, b);
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 4}));
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(y[p * 4], 100 + p);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(y[p * 4 + 1 + c], p * 3 + c);
  }
  Tensor dy(y.shape());
  for (int i = 0; i < 16; ++i) dy[i] = static_cast<float>(i);
  auto g = cat.backward(dy);
  ASSERT_EQ(g.a.shape(), a.shape());
  ASSERT_EQ(g.b.shape(), b.shape());
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(g.a[p], p * 4);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(g.b[p * 3 + c], p * 4 + 1 + c);
  }
}

TEST(ConcatChannels, GradientCheckBothInputs) {
  ConcatChannels cat;
  Generator rng(4);
  Tensor a({2, 3, 2, 2}), b({2, 3, 2, 5}), r({2, 3, 2, 7});
  fill_uniform(a, rng);
  fill_uniform(b, rng);
  fill_uniform(r, rng);
  cat.forward(a, b);
  auto g = cat.backward(r);
  std::vector<GradTarget> targets;
  targets.push_back({"a", &a, Tensor(a.shape())});
  targets.back().analytic.copy_from(g.a);
  targets.push_back({"b", &b, Tensor(b.shape())});
  targets.back().analytic.copy_from(g.b);
  auto res = check_gradients([&] { return dot_double(cat.forward(a, b), r); }, targets);
  EXPECT_TRUE(res.ok) << res.report;
  EXPECT_EQ(res.checked, a.size() + b.size());
}

TEST(ConcatChannels, MismatchedShapesThrow) {
  ConcatChannels cat;
  EXPECT_THROW(cat.forward(Tensor({1, 2, 2, 1}), Tensor({1, 2, 3, 1})), ShapeError);
  EXPECT_THROW(cat.forward(Tensor({1, 2, 2, 1}), Tensor({2, 2, 1})), ShapeError);
  EXPECT_THROW(cat.backward(Tensor({1, 2, 2, 2})), InvalidArgument);
}

// Activations: values against std:: math, derivatives by finite differences,
// softmax rows sum to one and survive large logits.
#include <gtest/gtest.h>

#include <cmath>

#include "partita/core/random.hpp"
#include "partita/nn/activations.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

// inputs in [-2, 2] kept at least 0.05 away from 0 (the ReLU kink)
Tensor kinkfree_input(Shape s, std::uint64_t seed) {
  Tensor x(std::move(s));
  Generator rng(seed);
  for (int64_t i = 0; i < x.size(); ++i) {
    float v = rng.uniform(0.05f, 2.0f);
    x[i] = rng.uniform() < 0.5 ? -v : v;
  }
  return x;
}

template <class L>
void expect_gradcheck(L& layer, Tensor x) {
  auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return layer.forward(t); },
                             [&](const Tensor& d) -> const Tensor& { return layer.backward(d); },
                             x, nullptr, GradcheckOptions{1e-3, 1e-2, 1e-4});
  EXPECT_TRUE(res.ok) << res.report;
  EXPECT_EQ(res.checked, x.size());
}

}  // namespace

TEST(Activations, ForwardValues) {
  Tensor x({5});
  const float v[5] = {-3.0f, -0.5f, 0.0f, 0.25f, 4.0f};
  for (int i = 0; i < 5; ++i) x[i] = v[i];
  ReLU relu;
  LeakyReLU leaky(0.2f);
  Tanh th;
  Sigmoid sg;
  const Tensor& a = relu.forward(x);
  const Tensor& b = leaky.forward(x);
  const Tensor& c = th.forward(x);
  const Tensor& d = sg.forward(x);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(a[i], std::max(v[i], 0.0f));
    EXPECT_FLOAT_EQ(b[i], v[i] > 0 ? v[i] : 0.2f * v[i]);
    EXPECT_NEAR(c[i], std::tanh(v[i]), 1e-6);
    EXPECT_NEAR(d[i], 1.0 / (1.0 + std::exp(-v[i])), 1e-6);
  }
}

TEST(Activations, GradientChecks) {
  ReLU relu;
  LeakyReLU leaky(0.2f);
  Tanh th;
  Sigmoid sg;
  Softmax sm;
  expect_gradcheck(relu, kinkfree_input({2, 3, 4, 2}, 1));
  expect_gradcheck(leaky, kinkfree_input({2, 3, 4, 2}, 2));
  expect_gradcheck(th, kinkfree_input({3, 7}, 3));
  expect_gradcheck(sg, kinkfree_input({3, 7}, 4));
  expect_gradcheck(sm, kinkfree_input({4, 9}, 5));
}

TEST(Activations, ReluDerivativeAtZeroIsZero) {
  ReLU relu;
  LeakyReLU leaky(0.3f);
  Tensor x({1}), dy({1});
  dy[0] = 1.0f;
  relu.forward(x);
  EXPECT_EQ(relu.backward(dy)[0], 0.0f);
  leaky.forward(x);
  EXPECT_FLOAT_EQ(leaky.backward(dy)[0], 0.3f);
}

TEST(Softmax, RowsSumToOneAndLargeLogitsAreStable) {
  Tensor x({2, 4});
  const float v[8] = {1000, 1001, 1002, 999, -5, 0, 5, 10};
  for (int i = 0; i < 8; ++i) x[i] = v[i];
  Softmax sm;
  const Tensor& y = sm.forward(x);
  for (int r = 0; r < 2; ++r) {
    double s = 0;
    for (int j = 0; j < 4; ++j) {
      EXPECT_TRUE(std::isfinite(y[r * 4 + j]));
      s += y[r * 4 + j];
    }
    EXPECT_NEAR(s, 1.0, 1e-6);
  }
  double z = std::exp(-2.0) + std::exp(-1.0) + 1.0 + std::exp(-3.0);
  EXPECT_NEAR(y[2], 1.0 / z, 1e-6);
}

TEST(Activations, BadInput) {
  EXPECT_THROW(LeakyReLU(-0.1f), InvalidArgument);
  Softmax sm;
  EXPECT_THROW(sm.forward(Tensor({2, 0})), ShapeError);
  ReLU relu;
  EXPECT_THROW(relu.backward(Tensor({3})), InvalidArgument);
  Tensor x({3});
  relu.forward(x);
  EXPECT_THROW(relu.backward(Tensor({4})), ShapeError);
}

// BatchNorm: normalisation in training mode, running-stat updates in both
// conventions, eval mode, gradient checks in both modes, bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/nn/batchnorm.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;

namespace {
Tensor random_input(Shape s, std::uint64_t seed, float shift) {
  Tensor x(std::move(s));
  Generator rng(seed);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = shift + 2.0f * static_cast<float>(rng.normal());
  return x;
}
}  // namespace

TEST(BatchNorm, TrainingNormalisesPerChannel) {
  ParameterSet ps;
  BatchNorm bn(ps, "bn", 3);
  ps.allocate(0);
  Tensor x = random_input({4, 5, 6, 3}, 1, 3.0f);
  const Tensor& y = bn.forward(x);
  const int64_t M = 4 * 5 * 6;
  for (int c = 0; c < 3; ++c) {
    double s = 0, ss = 0;
    for (int64_t r = 0; r < M; ++r) {
      s += y[r * 3 + c];
      ss += double(y[r * 3 + c]) * y[r * 3 + c];
    }
    EXPECT_NEAR(s / M, 0.0, 1e-5);
    EXPECT_NEAR(ss / M, 1.0, 1e-3);  // var / (var + 1e-3) with var ~ 4
  }
}

TEST(BatchNorm, RunningStatsKerasAndTorchConventions) {
  Tensor x({2, 1, 2, 1});  // values 1, 2, 3, 6: mean 3, biased var 3.5, unbiased 14/3
  x[0] = 1;
  x[1] = 2;
  x[2] = 3;
  x[3] = 6;
  {
    ParameterSet ps;
    BatchNorm bn(ps, "k", 1, BatchNormSpec::keras(0.8f));
    ps.allocate(0);
    bn.forward(x);
    EXPECT_NEAR(ps.get("k.running_mean").value[0], 0.2 * 3.0, 1e-6);
    EXPECT_NEAR(ps.get("k.running_var").value[0], 0.8 + 0.2 * 14.0 / 3.0, 1e-5);
    EXPECT_FALSE(ps.get("k.running_var").trainable);
  }
  {
    ParameterSet ps;
    BatchNorm bn(ps, "t", 1, BatchNormSpec::torch());
    ps.allocate(0);
    bn.forward(x);
    EXPECT_NEAR(ps.get("t.running_mean").value[0], 0.1 * 3.0, 1e-6);
    EXPECT_NEAR(ps.get("t.running_var").value[0], 0.9 + 0.1 * 14.0 / 3.0, 1e-5);
    // y uses the biased variance and eps 1e-5
    EXPECT_NEAR(bn.forward(x)[3], 3.0 / std::sqrt(3.5 + 1e-5), 1e-5);
  }
}

TEST(BatchNorm, EvalUsesRunningStats) {
  ParameterSet ps;
  BatchNorm bn(ps, "bn", 2);
  ps.allocate(0);
  ps.get("bn.running_mean").value[0] = 1.0f;
  ps.get("bn.running_var").value[0] = 4.0f;
  ps.get("bn.weight").value[0] = 2.0f;
  ps.get("bn.bias").value[0] = 0.5f;
  bn.set_training(false);
  Tensor x({1, 2});
  x[0] = 3.0f;
  x[1] = 7.0f;
  const Tensor& y = bn.forward(x);
  EXPECT_NEAR(y[0], 2.0 * 2.0 / std::sqrt(4.001) + 0.5, 1e-6);
  EXPECT_NEAR(y[1], 7.0 / std::sqrt(1.001), 1e-5);
  EXPECT_EQ(ps.get("bn.running_mean").value[0], 1.0f);  // untouched
}

TEST(BatchNorm, GradientCheckTrainingAndEval) {
  for (bool training : {true, false}) {
    ParameterSet ps;
    BatchNorm bn(ps, "bn", 3, BatchNormSpec::torch());
    ps.allocate(0);
    Generator rng(2);
    for (auto name : {"bn.weight", "bn.bias", "bn.running_mean"})
      fill_uniform(ps.get(name).value, rng, 0.5f, 1.5f);
    bn.set_training(training);
    Tensor x = random_input({2, 3, 2, 3}, 7, 1.0f);
    auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return bn.forward(t); },
                               [&](const Tensor& d) -> const Tensor& { return bn.backward(d); },
                               x, &ps, GradcheckOptions{1e-3, 1e-2, 1e-4});
    EXPECT_TRUE(res.ok) << (training ? "training\n" : "eval\n") << res.report;
    EXPECT_EQ(res.checked, x.size() + 6);
  }
}

TEST(BatchNorm, BadInput) {
  ParameterSet ps;
  EXPECT_THROW(BatchNorm(ps, "z", 0), InvalidArgument);
  BatchNorm bn(ps, "bn", 3);
  EXPECT_THROW(bn.forward(Tensor({2, 3})), InvalidArgument);  // not allocated
  ps.allocate(0);
  EXPECT_THROW(bn.forward(Tensor({2, 4})), ShapeError);
  EXPECT_THROW(bn.backward(Tensor({2, 3})), InvalidArgument);
  Tensor x({2, 3});
  bn.forward(x);
  EXPECT_THROW(bn.backward(Tensor({3, 3})), ShapeError);
}

TEST(BatchNorm, EvalAffineIsTheEvalForward) {
  ParameterSet ps;
  BatchNorm bn(ps, "bn", 3, BatchNormSpec::keras(0.9f));
  ps.allocate(1);
  Generator g(7);
  for (int c = 0; c < 3; ++c) {
    bn.weight().value[c] = g.uniform(0.5f, 2.0f);
    bn.bias().value[c] = g.uniform(-1.0f, 1.0f);
    bn.running_mean().value[c] = g.uniform(-1.0f, 1.0f);
    bn.running_var().value[c] = g.uniform(0.1f, 3.0f);
  }
  bn.set_training(false);
  Tensor x({2, 2, 3});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = g.uniform(-2.0f, 2.0f);
  const Tensor& y = bn.forward(x);
  const ChannelAffine f = bn.eval_affine();
  ASSERT_EQ(f.a.size(), 3u);
  for (std::int64_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(y[i], f.a[i % 3] * x[i] + f.b[i % 3], 1e-5) << i;
  const ChannelAffine id = ChannelAffine::identity(2);
  EXPECT_EQ(id.a, (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(id.b, (std::vector<double>{0.0, 0.0}));
  ParameterSet other;
  BatchNorm small(other, "small", 2);
  other.allocate(1);
  EXPECT_THROW(batchnorm_eval_affine(bn.weight(), small.bias(), bn.running_mean(), bn.running_var(), 1e-3f),
               InvalidArgument);
}

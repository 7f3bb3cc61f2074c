// Losses: PyTorch fixtures (tests/data/optim/losses.txt from
// tools/torch_twins/make_optim_fixtures.py), finite differences, edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "partita/core/error.hpp"
#include "text_fixture.hpp"
#include "partita/core/random.hpp"
#include "partita/nn/losses.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

using partita::testing::load_text_fixture;

const std::map<std::string, Tensor>& fixture() {
  static auto f = load_text_fixture(PARTITA_TEST_DATA "/optim/losses.txt");
  return f;
}

// Central-difference check of d loss / d logits for a loss given as a lambda.
template <class LossFn>
void finite_difference_check(Tensor logits, const Tensor& analytic, LossFn loss, double tol) {
  const double h = 1e-2;
  for (std::int64_t i = 0; i < logits.size(); ++i) {
    const float orig = logits[i];
    logits[i] = orig + static_cast<float>(h);
    const double up = loss(logits);
    logits[i] = orig - static_cast<float>(h);
    const double down = loss(logits);
    logits[i] = orig;
    const double numeric = (up - down) / (2 * h);
    ASSERT_NEAR(analytic[i], numeric, tol + 1e-2 * std::fabs(numeric)) << "element " << i;
  }
}

}  // namespace

TEST(KLDivergenceLoss, MatchesTorchBatchmeanOnPianoRolls) {
  const auto& fx = fixture();
  KLDivergenceLoss kl;
  const float loss = kl.forward(fx.at("kl.logits"), fx.at("kl.label"));
  EXPECT_NEAR(loss, fx.at("kl.loss")[0], 1e-5f * std::fabs(fx.at("kl.loss")[0]));
  const Tensor& g = kl.backward();
  const Tensor& want = fx.at("kl.grad");
  ASSERT_EQ(g.shape(), want.shape());
  for (std::int64_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], want[i], 1e-6f) << i;
  // Sample 1 of the fixture has an all-zero label: no loss, no gradient.
  EXPECT_EQ(kl.per_sample()[1], 0.0);
  for (std::int64_t i = 24; i < 48; ++i) EXPECT_EQ(g[i], 0.0f);
}

TEST(KLDivergenceLoss, FiniteDifferencesAndScale) {
  Generator rng(3);
  Tensor logits({2, 3, 4, 2}), label({2, 3, 4, 2});
  for (std::int64_t i = 0; i < logits.size(); ++i) {
    logits[i] = static_cast<float>(rng.normal());
    label[i] = rng.uniform() < 0.3 ? static_cast<float>(1 + rng.below(3)) : 0.0f;  // unnormalised weights
  }
  label[0] = 1.0f;
  label[30] = 2.0f;
  KLDivergenceLoss kl;
  kl.forward(logits, label);
  Tensor g = kl.backward(2.0f);  // copy: the loss lambda reuses the buffers
  KLDivergenceLoss probe;
  finite_difference_check(logits, g, [&](const Tensor& z) { return 2.0 * probe.forward(z, label); }, 1e-4);
  // Each sample's gradient sums to zero (softmax shift invariance).
  for (int s = 0; s < 2; ++s) {
    double sum = 0;
    for (int i = 0; i < 24; ++i) sum += g[s * 24 + i];
    EXPECT_NEAR(sum, 0.0, 1e-6);
  }
}

TEST(KLDivergenceLoss, ZeroWhenPredictionEqualsTargetAndStableForHugeLogits) {
  Tensor logits({1, 2, 2, 1}), label({1, 2, 2, 1});
  label[1] = 1.0f;
  label[2] = 1.0f;
  // logits giving softmax = (0, .5, .5, 0) in the limit; use large magnitudes.
  logits[0] = -1000.0f; logits[1] = 500.0f; logits[2] = 500.0f; logits[3] = -1000.0f;
  KLDivergenceLoss kl;
  const float v = kl.forward(logits, label);
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, 0.0f, 1e-6f);
  const Tensor& g = kl.backward();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(g[i], 0.0f, 1e-6f);
}

TEST(KLDivergenceLoss, RejectsBadInput) {
  KLDivergenceLoss kl;
  Tensor a({2, 4}), b({2, 5});
  EXPECT_THROW(kl.forward(a, b), ShapeError);
  Tensor neg({2, 4});
  neg[3] = -1.0f;
  EXPECT_THROW(kl.forward(a, neg), InvalidArgument);
  Tensor nan_label({2, 4});
  nan_label[0] = std::nanf("");
  EXPECT_THROW(kl.forward(a, nan_label), InvalidArgument);
  KLDivergenceLoss fresh;
  EXPECT_THROW(fresh.backward(), InvalidArgument);
}

TEST(BCEWithLogitsLoss, MatchesTorchAndFiniteDifferences) {
  const auto& fx = fixture();
  BCEWithLogitsLoss bce;
  const float loss = bce.forward(fx.at("bce.logits"), fx.at("bce.target"));
  EXPECT_NEAR(loss, fx.at("bce.loss")[0], 1e-5f * std::fabs(fx.at("bce.loss")[0]));
  Tensor g = bce.backward();
  const Tensor& want = fx.at("bce.grad");
  for (std::int64_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], want[i], 1e-7f) << i;
  BCEWithLogitsLoss probe;
  const Tensor& y = fx.at("bce.target");
  finite_difference_check(fx.at("bce.logits"), g, [&](const Tensor& z) { return probe.forward(z, y); }, 1e-4);
  Tensor bad({3});
  EXPECT_THROW(bce.forward(bad, fx.at("bce.target")), ShapeError);
}

TEST(WassersteinLoss, CriticAndGenerator) {
  Tensor real({4, 1}), fake({2, 1});
  real[0] = 1; real[1] = 2; real[2] = 3; real[3] = 6;  // mean 3
  fake[0] = -1; fake[1] = 2;                           // mean 0.5
  WassersteinCriticLoss critic;
  EXPECT_FLOAT_EQ(critic.forward(real, fake), 0.5f - 3.0f);
  critic.backward(10.0f);
  EXPECT_EQ(critic.grad_real().shape(), real.shape());
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(critic.grad_real()[i], -2.5f);
  for (int i = 0; i < 2; ++i) EXPECT_FLOAT_EQ(critic.grad_fake()[i], 5.0f);
  WassersteinGeneratorLoss gen;
  EXPECT_FLOAT_EQ(gen.forward(fake), -0.5f);
  const Tensor& g = gen.backward();
  EXPECT_FLOAT_EQ(g[0], -0.5f);
  EXPECT_FLOAT_EQ(g[1], -0.5f);
  EXPECT_THROW(critic.forward(Tensor({0, 1}), fake), InvalidArgument);
  WassersteinGeneratorLoss fresh;
  EXPECT_THROW(fresh.backward(), InvalidArgument);
}

// WGAN-GP gradient penalty: closed form on a linear critic, and PyTorch double
// backprop (tests/data/gp/gp_fixture.txt from tools/torch_twins/make_gp_fixture.py)
// on a small MLP critic and on a small conv critic shaped like the GAN's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "partita/core/error.hpp"
#include "text_fixture.hpp"
#include "partita/nn/activations.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/gradient_penalty.hpp"
#include "partita/nn/parameters.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

using partita::testing::load_text_fixture;

const std::map<std::string, Tensor>& fixture() {
  static auto f = load_text_fixture(PARTITA_TEST_DATA "/gp/gp_fixture.txt");
  return f;
}

// y = x W + b over rows of x (N, in); W stored (in, out). Written here so the
// test depends only on the penalty and the layers it names.
class Dense {
 public:
  Dense(ParameterSet& ps, const std::string& name, std::int64_t in, std::int64_t out)
      : in_(in), out_(out),
        w_(&ps.add(name + ".weight", {in, out}, init_zeros(), Layout::LinearIO)),
        b_(&ps.add(name + ".bias", {out}, init_zeros())) {}
  // with_bias = false: the linearisation (no bias in forward, no bias gradient).
  const Tensor& forward(const Tensor& x, bool with_bias = true) {
    x_ = x.reshaped({x.size() / in_, in_});
    const std::int64_t n = x_.dim(0);
    y_.resize({n, out_});
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t o = 0; o < out_; ++o) {
        double s = with_bias ? b_->value[o] : 0.0;
        for (std::int64_t i = 0; i < in_; ++i) s += static_cast<double>(x_[r * in_ + i]) * w_->value[i * out_ + o];
        y_[r * out_ + o] = static_cast<float>(s);
      }
    return y_;
  }
  const Tensor& backward(const Tensor& dy, bool with_bias = true) {
    const std::int64_t n = x_.dim(0);
    dx_.resize({n, in_});
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t i = 0; i < in_; ++i) {
        double s = 0;
        for (std::int64_t o = 0; o < out_; ++o) s += static_cast<double>(dy[r * out_ + o]) * w_->value[i * out_ + o];
        dx_[r * in_ + i] = static_cast<float>(s);
      }
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t o = 0; o < out_; ++o) {
        if (with_bias) b_->grad[o] += dy[r * out_ + o];
        for (std::int64_t i = 0; i < in_; ++i) w_->grad[i * out_ + o] += x_[r * in_ + i] * dy[r * out_ + o];
      }
    return dx_;
  }

 private:
  std::int64_t in_, out_;
  Parameter* w_;
  Parameter* b_;
  Tensor x_, y_, dx_;
};

class MlpCritic : public Critic {
 public:
  explicit MlpCritic(ParameterSet& ps) : fc1_(ps, "fc1", 30, 16), fc2_(ps, "fc2", 16, 8), fc3_(ps, "fc3", 8, 1) {}
  const Tensor& forward(const Tensor& x) override {
    shape_ = x.shape();
    const Tensor& y1 = a1_.forward(fc1_.forward(x));
    s1_.record(y1, 0.2f);
    const Tensor& y2 = a2_.forward(fc2_.forward(y1));
    s2_.record(y2, 0.2f);
    return fc3_.forward(y2);
  }
  const Tensor& backward(const Tensor& d) override {
    dx_ = fc1_.backward(a1_.backward(fc2_.backward(a2_.backward(fc3_.backward(d))))).reshaped(shape_);
    return dx_;
  }
  const Tensor& forward_tangent(const Tensor& u) override {
    t1_ = fc1_.forward(u, false);
    s1_.apply(t1_);
    t2_ = fc2_.forward(t1_, false);
    s2_.apply(t2_);
    return fc3_.forward(t2_, false);
  }
  void backward_tangent(const Tensor& d) override {
    d2_ = fc3_.backward(d, false);
    s2_.apply(d2_);
    d1_ = fc2_.backward(d2_, false);
    s1_.apply(d1_);
    fc1_.backward(d1_, false);
  }

 private:
  Dense fc1_, fc2_, fc3_;
  LeakyReLU a1_{0.2f}, a2_{0.2f};
  ActivationSlopes s1_, s2_;
  Shape shape_;
  Tensor dx_, t1_, t2_, d1_, d2_;
};

// Conv 4x4 s2 + LeakyReLU x2, NHWC flatten, Dense(1): the GAN critic in miniature,
// with its linearisation written as gradient_penalty.hpp's recipe says.
class ConvCritic : public Critic {
 public:
  explicit ConvCritic(ParameterSet& ps)
      : c1_(ps, "conv1", 2, 4, 4, 2, Padding::same()), c2_(ps, "conv2", 4, 6, 4, 2, Padding::same()),
        fc_(ps, "fc", 24, 1) {}
  const Tensor& forward(const Tensor& x) override {
    const Tensor& y1 = a1_.forward(c1_.forward(x));
    s1_.record(y1, 0.2f);
    h_ = a2_.forward(c2_.forward(y1));
    s2_.record(h_, 0.2f);
    return fc_.forward(h_);
  }
  const Tensor& backward(const Tensor& d) override {
    Tensor dh = fc_.backward(d).reshaped(h_.shape());
    return c1_.backward(a1_.backward(c2_.backward(a2_.backward(dh))));
  }
  const Tensor& forward_tangent(const Tensor& u) override {
    t1_ = c1_.forward(u);
    subtract_bias(t1_, c1_.bias()->value);
    s1_.apply(t1_);
    t2_ = c2_.forward(t1_);
    subtract_bias(t2_, c2_.bias()->value);
    s2_.apply(t2_);
    return fc_.forward(t2_, false);
  }
  void backward_tangent(const Tensor& d) override {
    biases_.save({&c1_.bias()->grad, &c2_.bias()->grad});
    d2_ = fc_.backward(d, false).reshaped(t2_.shape());
    s2_.apply(d2_);
    d1_ = c2_.backward(d2_);
    s1_.apply(d1_);
    c1_.set_input_grad(false);
    c1_.backward(d1_);
    c1_.set_input_grad(true);
    biases_.restore();
  }

 private:
  Conv2d c1_, c2_;
  LeakyReLU a1_{0.2f}, a2_{0.2f};
  ActivationSlopes s1_, s2_;
  Dense fc_;
  GradSnapshot biases_;
  Tensor h_, t1_, t2_, d1_, d2_;
};

// D(x) = w . x + b per sample: grad_x D = w for every sample.
class LinearCritic : public Critic {
 public:
  explicit LinearCritic(ParameterSet& ps)
      : w_(&ps.add("w", {6}, init_zeros())), b_(&ps.add("b", {1}, init_zeros())) {}
  const Tensor& forward(const Tensor& x) override {
    x_ = x;
    const std::int64_t n = x.dim(0);
    y_.resize({n});
    for (std::int64_t s = 0; s < n; ++s) {
      double v = b_->value[0];
      for (int i = 0; i < 6; ++i) v += static_cast<double>(x[s * 6 + i]) * w_->value[i];
      y_[s] = static_cast<float>(v);
    }
    return y_;
  }
  const Tensor& backward(const Tensor& d) override {
    const std::int64_t n = x_.dim(0);
    dx_.resize(x_.shape());
    for (std::int64_t s = 0; s < n; ++s) {
      b_->grad[0] += d[s];
      for (int i = 0; i < 6; ++i) {
        dx_[s * 6 + i] = d[s] * w_->value[i];
        w_->grad[i] += d[s] * x_[s * 6 + i];
      }
    }
    return dx_;
  }
  const Tensor& forward_tangent(const Tensor& u) override {
    const std::int64_t n = u.dim(0);
    x_ = u;
    y_.resize({n});
    for (std::int64_t s = 0; s < n; ++s) {
      double v = 0.0;
      for (int i = 0; i < 6; ++i) v += static_cast<double>(u[s * 6 + i]) * w_->value[i];
      y_[s] = static_cast<float>(v);
    }
    return y_;
  }
  void backward_tangent(const Tensor& d) override {
    for (std::int64_t s = 0; s < x_.dim(0); ++s)
      for (int i = 0; i < 6; ++i) w_->grad[i] += d[s] * x_[s * 6 + i];
  }

 private:
  Parameter* w_;
  Parameter* b_;
  Tensor x_, y_, dx_;
};

void load_params(ParameterSet& ps, const std::string& prefix) {
  for (auto& p : ps.params()) p.value.copy_from(fixture().at(prefix + "." + p.name));
}

void check_against_torch(Critic& critic, ParameterSet& ps, const std::string& prefix) {
  load_params(ps, prefix);
  // Pre-existing gradients (e.g. from the Wasserstein term) must be kept.
  ps.grads().fill(0.25f);
  GradientPenalty gp;
  const float p = gp.forward_backward(critic, fixture().at(prefix + ".xhat"), ps.grads());
  EXPECT_NEAR(gp.tangent_check_actual(), gp.tangent_check_expected(),
              1e-5 * std::fabs(gp.tangent_check_expected()));
  const float want = fixture().at(prefix + ".penalty")[0];
  EXPECT_NEAR(p, want, 1e-5f * std::fabs(want)) << prefix;
  const Tensor& norms = fixture().at(prefix + ".norms");
  ASSERT_EQ(gp.norms().size(), static_cast<size_t>(norms.size()));
  for (std::int64_t i = 0; i < norms.size(); ++i) EXPECT_NEAR(gp.norms()[i], norms[i], 1e-5 * norms[i]);
  float gmax = 0.0f;
  for (const auto& par : ps.params()) {
    const Tensor& g = fixture().at(prefix + ".grad." + par.name);
    for (std::int64_t i = 0; i < g.size(); ++i) gmax = std::max(gmax, std::fabs(g[i]));
  }
  ASSERT_GT(gmax, 0.0f);
  for (const auto& par : ps.params()) {
    const Tensor& g = fixture().at(prefix + ".grad." + par.name);
    ASSERT_EQ(g.size(), par.grad.size()) << par.name;
    for (std::int64_t i = 0; i < g.size(); ++i)
      ASSERT_NEAR(par.grad[i] - 0.25f, g[i], 1e-5f * gmax + 1e-4f * std::fabs(g[i]))
          << prefix << " " << par.name << "[" << i << "]";
  }
}

}  // namespace

TEST(GradientPenalty, ClosedFormOnLinearCritic) {
  ParameterSet ps;
  LinearCritic critic(ps);
  ps.allocate(0);
  const float w[6] = {0.5f, -1.0f, 2.0f, 0.0f, 0.25f, -0.75f};
  for (int i = 0; i < 6; ++i) ps.get("w").value[i] = w[i];
  double sq = 0;
  for (float v : w) sq += v * v;
  const double norm = std::sqrt(1e-8 + sq);
  Tensor xhat({3, 6});
  for (std::int64_t i = 0; i < xhat.size(); ++i) xhat[i] = std::sin(static_cast<float>(i));
  GradientPenalty gp;
  const float p = gp.forward_backward(critic, xhat, ps.grads());
  EXPECT_NEAR(p, 10.0 * (norm - 1) * (norm - 1), 1e-5);
  // dP/dw = 20 (|w| - 1) w / |w|; the bias gets nothing.
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(ps.get("w").grad[i], 20.0 * (norm - 1) * w[i] / norm, 1e-4) << i;
  EXPECT_EQ(ps.get("b").grad[0], 0.0f);
  for (int s = 0; s < 3; ++s) EXPECT_NEAR(gp.norms()[s], norm, 1e-6);
  EXPECT_EQ(gp.input_gradient()[7], w[1]);
}

TEST(GradientPenalty, MatchesTorchDoubleBackpropOnMlpCritic) {
  ParameterSet ps;
  MlpCritic critic(ps);
  ps.allocate(0);
  check_against_torch(critic, ps, "mlp");
}

TEST(GradientPenalty, MatchesTorchDoubleBackpropOnConvCritic) {
  ParameterSet ps;
  ConvCritic critic(ps);
  ps.allocate(0);
  check_against_torch(critic, ps, "conv");
}

TEST(GradientPenalty, UnitNormGivesZeroPenaltyAndKeepsGrads) {
  ParameterSet ps;
  LinearCritic critic(ps);
  ps.allocate(0);
  ps.get("w").value[2] = 1.0f;  // |w| = 1 (up to norm_eps)
  ps.grads().fill(3.0f);
  Tensor xhat({2, 6});
  GradientPenalty gp;
  EXPECT_NEAR(gp.forward_backward(critic, xhat, ps.grads()), 0.0f, 1e-12f);
  for (std::int64_t i = 0; i < ps.grads().size(); ++i) EXPECT_NEAR(ps.grads()[i], 3.0f, 1e-6f);
}

TEST(GradientPenalty, InterpolateAndErrors) {
  Tensor real({3, 2, 2, 1}), fake({3, 2, 2, 1}), xhat;
  real.fill(1.0f);
  fake.fill(-1.0f);
  Generator rng(11);
  GradientPenalty::interpolate(real, fake, rng, xhat);
  ASSERT_EQ(xhat.shape(), real.shape());
  for (int s = 0; s < 3; ++s) {
    const float v = xhat[s * 4];
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
    for (int i = 1; i < 4; ++i) EXPECT_EQ(xhat[s * 4 + i], v) << "one e per sample";
  }
  EXPECT_NE(xhat[0], xhat[4]);
  Tensor wrong({2, 2, 2, 1});
  EXPECT_THROW(GradientPenalty::interpolate(real, wrong, rng, xhat), ShapeError);

  ParameterSet ps;
  MlpCritic critic(ps);
  ps.allocate(0);
  Tensor bad({2, 15});  // the MLP flattens 30 features per row: 1 score for a batch of 2
  EXPECT_THROW(GradientPenalty().forward_backward(critic, bad, ps.grads()), ShapeError);
  GradientPenaltyOptions o;
  o.weight = -1.0;
  EXPECT_THROW(GradientPenalty{o}, InvalidArgument);
  ActivationSlopes slopes;
  Tensor y({4}), t({5});
  slopes.record(y, 0.2f);
  EXPECT_THROW(slopes.apply(t), ShapeError);
  EXPECT_THROW(slopes.record(y, 2.0f), InvalidArgument);
  Tensor out({2, 3}), bias({4});
  EXPECT_THROW(subtract_bias(out, bias), ShapeError);
}

// SplitBatchNorm against nn::BatchNorm over concat(up2(a), b): outputs,
// gradients (da = the replica sums), dgamma, dbeta and running statistics, in
// training and eval mode; replicas = 1 against BatchNorm over concat(a, b);
// parameter names and order; errors on bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "partita/core/error.hpp"
#include "tensor_compare.hpp"
#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/batchnorm.hpp"
#include "partita/nn/concat.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/split_batchnorm.hpp"
#include "partita/nn/upsample.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

// The scale floor: a one-value channel has dx ~ 0.
double max_rel_diff(const Tensor& a, const Tensor& b) { return test::max_rel_diff(a, b, 1e-4); }
using test::copy_of;

// Channels [c0, c0 + n) of a (..., C) tensor as a (..., n) tensor.
Tensor channels(const Tensor& t, std::int64_t c0, std::int64_t n) {
  const std::int64_t C = t.dim(-1), m = t.size() / C;
  Shape s = t.shape();
  s.back() = n;
  Tensor out(s);
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t j = 0; j < n; ++j) out[r * n + j] = t[r * C + c0 + j];
  return out;
}

// Give gamma, beta and the running statistics non-trivial values.
void randomise(ParameterSet& ps, std::uint64_t seed) {
  Generator g(seed);
  for (auto& p : ps.params())
    for (std::int64_t i = 0; i < p.value.size(); ++i)
      p.value[i] = p.name.find("running_var") != std::string::npos ? g.uniform(0.5f, 2.0f)
                                                                    : g.uniform(-1.0f, 1.0f);
}

void check_upsampled(std::int64_t n, std::int64_t s, std::int64_t t, std::int64_t ca,
                     std::int64_t cb, bool training, int threads) {
  SCOPED_TRACE("n=" + std::to_string(n) + " s=" + std::to_string(s) + " t=" + std::to_string(t) +
               " ca=" + std::to_string(ca) + " cb=" + std::to_string(cb) +
               (training ? " training" : " eval") + " threads=" + std::to_string(threads));
  const int saved = num_threads();
  set_num_threads(threads);
  Generator rng(17);
  Tensor a({n, s, t, ca}), b({n, 2 * s, 2 * t, cb}), dy({n, 2 * s, 2 * t, ca + cb});
  fill_uniform(a, rng, -2.0f, 3.0f);
  fill_uniform(b, rng, -1.0f, 1.0f);
  fill_uniform(dy, rng);

  ParameterSet p1, p2;
  BatchNormSpec spec = BatchNormSpec::keras(0.9f);
  SplitBatchNorm split(p1, "bn", ca, cb, spec, 4);
  BatchNorm full(p2, "bn", ca + cb, spec);
  p1.allocate(1);
  p2.allocate(1);
  randomise(p1, 5);
  randomise(p2, 5);
  p1.zero_grad();
  p2.zero_grad();
  split.set_training(training);
  full.set_training(training);

  UpsampleNearest2d up(2), up_dy(2);
  ConcatChannels cat;
  const Tensor& y = full.forward(cat.forward(up.forward(a), b));
  auto ys = split.forward(a, b);
  // The a-part of y is up2(ys.a); the b-part is ys.b.
  EXPECT_LT(max_rel_diff(channels(y, 0, ca), up_dy.forward(ys.a)), 2e-6);
  EXPECT_LT(max_rel_diff(channels(y, ca, cb), ys.b), 2e-6);
  EXPECT_LT(max_rel_diff(split.running_mean().value, full.running_mean().value), 1e-6);
  EXPECT_LT(max_rel_diff(split.running_var().value, full.running_var().value), 1e-6);

  // Backward: the split layer gets the a-part of dy summed over replicas.
  const Tensor& dx = full.backward(dy);
  Tensor dx_a = copy_of(up.backward(channels(dx, 0, ca)));
  Tensor dy_a_hi = channels(dy, 0, ca);
  Tensor dy_a = copy_of(up_dy.backward(dy_a_hi));
  auto g = split.backward(dy_a, channels(dy, ca, cb));
  EXPECT_LT(max_rel_diff(g.a, dx_a), 2e-5);
  EXPECT_LT(max_rel_diff(g.b, channels(dx, ca, cb)), 2e-5);
  EXPECT_LT(max_rel_diff(split.weight().grad, full.weight().grad), 2e-5);
  EXPECT_LT(max_rel_diff(split.bias().grad, full.bias().grad), 2e-5);
  set_num_threads(saved);
}

}  // namespace

TEST(SplitBatchNorm, MatchesBatchNormOverUpsampledConcat) {
  for (int threads : {1, 2})
    for (bool training : {true, false}) {
      check_upsampled(2, 3, 4, 3, 5, training, threads);
      check_upsampled(2, 1, 1, 1, 1, training, threads);  // a: 2 values per channel, M = 8
      check_upsampled(4, 8, 8, 7, 2, training, threads);
    }
}

TEST(SplitBatchNorm, OneReplicaIsBatchNormOverConcat) {
  Generator rng(3);
  Tensor a({5, 6, 4}), b({5, 6, 3});
  fill_uniform(a, rng);
  fill_uniform(b, rng);
  ParameterSet p1, p2;
  SplitBatchNorm split(p1, "bn", 4, 3, BatchNormSpec::torch());
  BatchNorm full(p2, "bn", 7, BatchNormSpec::torch());
  p1.allocate(1);
  p2.allocate(1);
  ConcatChannels cat;
  const Tensor& y = full.forward(cat.forward(a, b));
  auto ys = split.forward(a, b);
  EXPECT_LT(max_rel_diff(channels(y, 0, 4), ys.a), 1e-6);
  EXPECT_LT(max_rel_diff(channels(y, 4, 3), ys.b), 1e-6);
  EXPECT_LT(max_rel_diff(split.running_var().value, full.running_var().value), 1e-6);
  // The running statistics moved (torch momentum 0.1 from 0 / 1).
  EXPECT_GT(std::fabs(split.running_var().value[0] - 1.0f), 1e-3f);
}

TEST(SplitBatchNorm, FiniteDifferenceGradients) {
  const int saved = num_threads();
  set_num_threads(1);
  ParameterSet ps;
  SplitBatchNorm bn(ps, "bn", 2, 3, BatchNormSpec::keras(), 4);
  ps.allocate(1);
  randomise(ps, 2);
  Generator rng(4);
  Tensor a({2, 2, 3, 2}), b({2, 4, 6, 3}), ra({2, 2, 3, 2}), rb({2, 4, 6, 3});
  fill_uniform(a, rng, -2.0f, 2.0f);
  fill_uniform(b, rng, -2.0f, 2.0f);
  fill_uniform(ra, rng);
  fill_uniform(rb, rng);
  ps.zero_grad();
  bn.forward(a, b);
  auto g = bn.backward(ra, rb);
  std::vector<GradTarget> targets;
  targets.push_back({"a", &a, copy_of(g.a)});
  targets.push_back({"b", &b, copy_of(g.b)});
  targets.push_back({"weight", &bn.weight().value, copy_of(bn.weight().grad)});
  targets.push_back({"bias", &bn.bias().value, copy_of(bn.bias().grad)});
  GradcheckResult res = check_gradients(
      [&] {
        auto y = bn.forward(a, b);
        return dot_double(y.a, ra) + dot_double(y.b, rb);
      },
      targets, GradcheckOptions{1e-3, 1e-2, 1e-3, 0, 1});
  set_num_threads(saved);
  EXPECT_TRUE(res.ok) << res.report;
}

TEST(SplitBatchNorm, ParametersAreBatchNormsOverTheConcatenation) {
  ParameterSet p1, p2;
  SplitBatchNorm split(p1, "dec.1.bn", 6, 3, BatchNormSpec::keras(), 4);
  BatchNorm full(p2, "dec.1.bn", 9);
  ASSERT_EQ(p1.params().size(), p2.params().size());
  for (size_t i = 0; i < p1.params().size(); ++i) {
    EXPECT_EQ(p1.params()[i].name, p2.params()[i].name);
    EXPECT_EQ(p1.params()[i].shape, p2.params()[i].shape);
    EXPECT_EQ(p1.params()[i].trainable, p2.params()[i].trainable);
  }
}

TEST(SplitBatchNorm, RejectsBadInput) {
  EXPECT_THROW(SplitBatchNorm(*std::make_unique<ParameterSet>(), "bn", 0, 2), InvalidArgument);
  EXPECT_THROW(SplitBatchNorm(*std::make_unique<ParameterSet>(), "bn", 2, 2, BatchNormSpec::keras(), 0),
               InvalidArgument);
  ParameterSet ps;
  SplitBatchNorm bn(ps, "bn", 2, 3, BatchNormSpec::keras(), 4);
  Tensor a({1, 2, 2, 2}), b({1, 4, 4, 3});
  a.fill(1.0f);
  b.fill(1.0f);
  EXPECT_THROW(bn.forward(a, b), InvalidArgument);  // not allocated
  ps.allocate(1);
  EXPECT_THROW(bn.backward(a, b), InvalidArgument);  // before forward
  EXPECT_THROW(bn.forward(Tensor({1, 2, 2, 3}), b), ShapeError);
  EXPECT_THROW(bn.forward(a, Tensor({1, 4, 4, 2})), ShapeError);
  EXPECT_THROW(bn.forward(a, Tensor({1, 4, 2, 3})), ShapeError);  // 8 positions, not 16
  bn.forward(a, b);
  EXPECT_THROW(bn.backward(b, b), ShapeError);
}

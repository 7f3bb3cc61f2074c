// Position-wise FFN block: PyTorch fixture (all grads), finite differences with
// dropout on, eval mode, shape errors.
#include <gtest/gtest.h>

#include "attn_fixture.hpp"
#include "partita/core/error.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/positionwise_ff.hpp"

using namespace partita;
using namespace partita::nn;
using namespace attn_test;

TEST(PositionwiseFF, MatchesTorch) {
  auto fx = load_fixture("ffn");
  ParameterSet ps;
  PositionwiseFF ff(ps, "layers.0.pos_ff", 6, 10, 0.1f);
  ps.allocate(1);
  ff.set_training(false);
  copy_transposed(fx["w1"], ps.get("layers.0.pos_ff.CoreNet.0.weight").value);
  copy_transposed(fx["w2"], ps.get("layers.0.pos_ff.CoreNet.3.weight").value);
  ps.get("layers.0.pos_ff.CoreNet.0.bias").value.copy_from(fx["b1"]);
  ps.get("layers.0.pos_ff.CoreNet.3.bias").value.copy_from(fx["b2"]);
  ps.get("layers.0.pos_ff.layer_norm.weight").value.copy_from(fx["ln_w"]);
  ps.get("layers.0.pos_ff.layer_norm.bias").value.copy_from(fx["ln_b"]);
  expect_close(ff.forward(fx["x"]), fx["y"], 1e-5, "y");
  ps.zero_grad();
  expect_close(ff.backward(fx["dy"]), fx["dx"], 1e-5, "dx");
  expect_close_transposed(ps.get("layers.0.pos_ff.CoreNet.0.weight").grad, fx["dw1"], 1e-5, "dw1");
  expect_close_transposed(ps.get("layers.0.pos_ff.CoreNet.3.weight").grad, fx["dw2"], 1e-5, "dw2");
  expect_close(ps.get("layers.0.pos_ff.CoreNet.0.bias").grad, fx["db1"], 1e-5, "db1");
  expect_close(ps.get("layers.0.pos_ff.CoreNet.3.bias").grad, fx["db2"], 1e-5, "db2");
  expect_close(ps.get("layers.0.pos_ff.layer_norm.weight").grad, fx["dln_w"], 1e-5, "dln_w");
  expect_close(ps.get("layers.0.pos_ff.layer_norm.bias").grad, fx["dln_b"], 1e-5, "dln_b");
}

TEST(PositionwiseFF, FiniteDifferencesWithDropout) {
  ParameterSet ps;
  PositionwiseFF ff(ps, "ff", 5, 9, 0.3f);
  ps.allocate(4);
  Generator g(6);
  for (auto& p : ps.params())
    if (p.name.find("CoreNet") != std::string::npos) fill_uniform(p.value, g, -0.6f, 0.6f);
  Tensor x({4, 5});
  fill_uniform(x, g);
  GradcheckOptions opt;
  opt.eps = 1e-3;  // small: ReLU kinks must not be crossed
  opt.rtol = 2e-2;
  opt.atol = 2e-3;
  auto res = gradcheck_layer(
      [&](const Tensor& t) -> const Tensor& {
        ff.set_seed(31);
        return ff.forward(t);
      },
      [&](const Tensor& d) -> const Tensor& { return ff.backward(d); }, x, &ps, opt);
  EXPECT_TRUE(res.ok) << res.report;
}

TEST(PositionwiseFF, EvalIsDeterministicAndTrainingDrops) {
  ParameterSet ps;
  PositionwiseFF ff(ps, "ff", 4, 8, 0.5f, 3);
  ps.allocate(2);
  Tensor x({6, 4});
  Generator g(1);
  fill_uniform(x, g);
  ff.set_training(false);
  Tensor a(ff.forward(x)), b(ff.forward(x));
  expect_close(a, b, 0.0, "eval");
  ff.set_training(true);
  Tensor c(ff.forward(x));
  double diff = 0.0;
  for (std::int64_t e = 0; e < a.size(); ++e) diff += std::fabs(a[e] - c[e]);
  EXPECT_GT(diff, 1e-4);
}

TEST(PositionwiseFF, BadInputThrows) {
  ParameterSet ps;
  EXPECT_THROW(PositionwiseFF(ps, "bad", 4, 8, 1.0f), InvalidArgument);
  EXPECT_EQ(ps.params().size(), 0u);
  PositionwiseFF ff(ps, "ff", 4, 8, 0.1f);
  ps.allocate(1);
  EXPECT_THROW(ff.backward(Tensor({2, 4})), InvalidArgument);
  EXPECT_THROW(ff.forward(Tensor({2, 5})), ShapeError);
}

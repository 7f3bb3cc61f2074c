// LayerNorm: PyTorch fixture, finite differences, constant rows, shape errors.
#include <gtest/gtest.h>

#include "attn_fixture.hpp"
#include "partita/core/error.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/layernorm.hpp"

using namespace partita;
using namespace partita::nn;
using namespace attn_test;

TEST(LayerNorm, MatchesTorch) {
  auto fx = load_fixture("layernorm");
  ParameterSet ps;
  LayerNorm ln(ps, "ln", 6);
  ps.allocate(1);
  ln.weight().value.copy_from(fx["weight"]);
  ln.bias().value.copy_from(fx["bias"]);
  expect_close(ln.forward(fx["x"]), fx["y"], 1e-5, "y");
  ps.zero_grad();
  expect_close(ln.backward(fx["dy"]), fx["dx"], 1e-5, "dx");
  expect_close(ln.weight().grad, fx["dweight"], 1e-5, "dweight");
  expect_close(ln.bias().grad, fx["dbias"], 1e-5, "dbias");
}

TEST(LayerNorm, FiniteDifferences) {
  ParameterSet ps;
  LayerNorm ln(ps, "ln", 8);
  ps.allocate(1);
  Generator g(7);
  fill_uniform(ln.weight().value, g, 0.5f, 1.5f);
  fill_uniform(ln.bias().value, g);
  Tensor x({3, 2, 8});
  fill_uniform(x, g, -2.0f, 2.0f);
  GradcheckOptions opt;
  opt.eps = 3e-3;
  auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return ln.forward(t); },
                             [&](const Tensor& d) -> const Tensor& { return ln.backward(d); }, x,
                             &ps, opt);
  EXPECT_TRUE(res.ok) << res.report;
}

TEST(LayerNorm, ConstantRowGivesBias) {
  ParameterSet ps;
  LayerNorm ln(ps, "ln", 4);
  ps.allocate(1);
  for (int k = 0; k < 4; ++k) ln.bias().value[k] = static_cast<float>(k);
  Tensor x({1, 4});
  x.fill(3.0f);
  const Tensor& y = ln.forward(x);
  for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(y[k], static_cast<float>(k));
}

TEST(LayerNorm, BadShapesThrow) {
  ParameterSet ps;
  LayerNorm ln(ps, "ln", 4);
  ps.allocate(1);
  EXPECT_THROW(ln.backward(Tensor({2, 4})), InvalidArgument);
  EXPECT_THROW(ln.forward(Tensor({2, 5})), ShapeError);
  EXPECT_THROW(LayerNorm(ps, "x", 0), InvalidArgument);
}

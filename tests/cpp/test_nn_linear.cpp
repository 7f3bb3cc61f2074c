// Linear: PyTorch fixture (forward, dx, dW, db), finite differences, shape errors.
#include <gtest/gtest.h>

#include "attn_fixture.hpp"
#include "partita/core/error.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/linear.hpp"

using namespace partita;
using namespace partita::nn;
using namespace attn_test;

TEST(Linear, MatchesTorch) {
  auto fx = load_fixture("linear");
  ParameterSet ps;
  Linear lin(ps, "fc", 5, 4);
  ps.allocate(1);
  EXPECT_EQ(ps.get("fc.weight").layout, Layout::LinearIO);
  copy_transposed(fx["weight"], lin.weight().value);
  lin.bias()->value.copy_from(fx["bias"]);
  const Tensor& y = lin.forward(fx["x"]);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  expect_close(y, fx["y"], 1e-5, "y");
  ps.zero_grad();
  const Tensor& dx = lin.backward(fx["dy"]);
  expect_close(dx, fx["dx"], 1e-5, "dx");
  expect_close_transposed(lin.weight().grad, fx["dweight"], 1e-5, "dW");
  expect_close(lin.bias()->grad, fx["dbias"], 1e-5, "db");
}

TEST(Linear, GradientsAccumulate) {
  auto fx = load_fixture("linear");
  ParameterSet ps;
  Linear lin(ps, "fc", 5, 4);
  ps.allocate(1);
  lin.forward(fx["x"]);
  lin.backward(fx["dy"]);
  Tensor once(lin.weight().grad.shape());
  once.copy_from(lin.weight().grad);
  lin.backward(fx["dy"]);
  for (std::int64_t i = 0; i < once.size(); ++i)
    EXPECT_FLOAT_EQ(lin.weight().grad[i], 2 * once[i]);
}

TEST(Linear, FiniteDifferences) {
  for (bool bias : {true, false}) {
    ParameterSet ps;
    Linear lin(ps, "fc", 7, 3, bias);
    ps.allocate(5);
    Tensor x({4, 7});
    Generator g(3);
    fill_uniform(x, g);
    auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return lin.forward(t); },
                               [&](const Tensor& d) -> const Tensor& { return lin.backward(d); },
                               x, &ps);
    EXPECT_TRUE(res.ok) << res.report;
    EXPECT_GT(res.checked, 40);
  }
}

TEST(Linear, BadShapesThrow) {
  ParameterSet ps;
  EXPECT_THROW(Linear(ps, "bad", 0, 3), InvalidArgument);
  Linear lin(ps, "fc", 5, 4);
  ps.allocate(1);
  EXPECT_THROW(lin.forward(Tensor({2, 6})), ShapeError);
  lin.forward(Tensor({2, 5}));
  EXPECT_THROW(lin.backward(Tensor({2, 5})), ShapeError);
}

// Embedding and the tied output projection: PyTorch fixture (both uses add into
// one gradient), finite differences of the projection, bad token ids.
#include <gtest/gtest.h>

#include <cmath>

#include "attn_fixture.hpp"
#include "partita/core/error.hpp"
#include "partita/nn/embedding.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;
using namespace attn_test;

TEST(Embedding, TiedMatchesTorch) {
  auto fx = load_fixture("embedding");
  ParameterSet ps;
  Embedding emb(ps, "word_emb", 7, 6);
  TiedProjection out(ps, "out", emb);
  ps.allocate(1);
  EXPECT_FLOAT_EQ(emb.scale(), std::sqrt(6.0f));
  emb.weight().value.copy_from(fx["weight"]);
  out.bias()->value.copy_from(fx["bias"]);
  auto ids = as_ids(fx["tokens"]);
  const Tensor& e = emb.forward(ids, {3, 2});
  EXPECT_EQ(e.shape(), (Shape{3, 2, 6}));
  expect_close(e, fx["emb"], 1e-6, "emb");
  expect_close(out.forward(fx["h"]), fx["logits"], 1e-5, "logits");
  ps.zero_grad();
  emb.backward(fx["demb"]);
  expect_close(out.backward(fx["dlogits"]), fx["dh"], 1e-5, "dh");
  expect_close(emb.weight().grad, fx["dweight"], 1e-5, "dE (both uses)");
  expect_close(out.bias()->grad, fx["dbias"], 1e-5, "dbias");
}

TEST(Embedding, ProjectionFiniteDifferences) {
  ParameterSet ps;
  Embedding emb(ps, "e", 5, 4);
  TiedProjection out(ps, "o", emb);
  ps.allocate(3);
  Generator g(1);
  fill_uniform(emb.weight().value, g);
  fill_uniform(out.bias()->value, g);
  Tensor h({3, 4});
  fill_uniform(h, g);
  auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return out.forward(t); },
                             [&](const Tensor& d) -> const Tensor& { return out.backward(d); }, h,
                             &ps);
  EXPECT_TRUE(res.ok) << res.report;
}

TEST(Embedding, RepeatedTokensAccumulate) {
  ParameterSet ps;
  Embedding emb(ps, "e", 3, 2, /*scale_by_sqrt_d=*/false);
  ps.allocate(1);
  emb.forward(std::vector<std::int32_t>{2, 2, 0}, {3});
  Tensor dy({3, 2});
  dy.fill(1.0f);
  ps.zero_grad();
  emb.backward(dy);
  EXPECT_FLOAT_EQ(emb.weight().grad[2 * 2], 2.0f);
  EXPECT_FLOAT_EQ(emb.weight().grad[0], 1.0f);
  EXPECT_FLOAT_EQ(emb.weight().grad[1 * 2], 0.0f);
}

TEST(Embedding, BadInputThrows) {
  ParameterSet ps;
  Embedding emb(ps, "e", 3, 2);
  ps.allocate(1);
  EXPECT_THROW(emb.forward(std::vector<std::int32_t>{0, 3}, {2}), InvalidArgument);
  EXPECT_THROW(emb.forward(std::vector<std::int32_t>{-1}, {1}), InvalidArgument);
  EXPECT_THROW(emb.forward(std::vector<std::int32_t>{0, 1}, {3}), ShapeError);
  emb.forward(std::vector<std::int32_t>{0, 1}, {2});
  EXPECT_THROW(emb.backward(Tensor({2, 3})), ShapeError);
}

// Transformer-XL attention: the position table and rel_shift against PyTorch, the
// whole layer (forward, probabilities, every gradient) against the PyTorch twin with
// and without memory, finite differences with both dropouts on, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "attn_fixture.hpp"
#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/positional.hpp"
#include "partita/nn/rel_attention.hpp"

using namespace partita;
using namespace partita::nn;
using namespace attn_test;

TEST(Positional, MatchesTorch) {
  auto fx = load_fixture("positional");
  Tensor r = sinusoidal_positions(9, 8);
  EXPECT_EQ(r.shape(), (Shape{9, 8}));
  expect_close(r, fx["r"], 1e-6, "R");
  // Last row is distance 0: sin 0 = 0, cos 0 = 1.
  EXPECT_EQ(r[8 * 8 + 0], 0.0f);
  EXPECT_EQ(r[8 * 8 + 4], 1.0f);
  EXPECT_THROW(sinusoidal_positions(4, 7), InvalidArgument);
  EXPECT_THROW(sinusoidal_positions(0, 8), InvalidArgument);
}

TEST(RelShift, MatchesTorchTrick) {
  auto fx = load_fixture("rel_shift");
  Tensor y({3, 5}), dx({3, 5});
  rel_shift(fx["x"].data(), 3, 5, y.data());
  expect_close(y, fx["y"], 0.0, "rel_shift");
  rel_shift_backward(fx["dy"].data(), 3, 5, dx.data());
  expect_close(dx, fx["dx"], 0.0, "rel_shift_backward");
}

TEST(RelShift, IsRelativeIndexOnTheCausalPart) {
  // out[i][j] = x[i][j + T - 1 - i] wherever j <= i + (K - T).
  const std::int64_t T = 4, K = 7;
  Tensor x({T, K}), y({T, K});
  for (std::int64_t e = 0; e < x.size(); ++e) x[e] = static_cast<float>(e + 1);
  rel_shift(x.data(), T, K, y.data());
  for (std::int64_t i = 0; i < T; ++i)
    for (std::int64_t j = 0; j <= i + K - T; ++j)
      EXPECT_EQ(y[i * K + j], x[i * K + j + T - 1 - i]) << i << "," << j;
  // Backward is the adjoint: <shift(x), d> == <x, shift^T(d)>.
  Tensor d({T, K}), dx({T, K});
  Generator g(2);
  fill_uniform(d, g);
  rel_shift_backward(d.data(), T, K, dx.data());
  EXPECT_NEAR(dot_double(y, d), dot_double(x, dx), 1e-4);
}

namespace {

struct Layer {
  ParameterSet ps;
  RelPositionBiases biases;
  std::unique_ptr<RelMultiHeadAttention> att;
  Layer(std::int64_t E, std::int64_t H, std::int64_t D, float dropout, float dropatt) {
    biases = add_rel_position_biases(ps, "", H, D);
    RelAttentionConfig cfg;
    cfg.d_model = E;
    cfg.n_head = H;
    cfg.d_head = D;
    cfg.dropout = dropout;
    cfg.dropatt = dropatt;
    att = std::make_unique<RelMultiHeadAttention>(ps, "layers.0.dec_attn", cfg, biases, 9);
    ps.allocate(17);
  }
};

void check_against_torch(const std::string& name) {
  auto fx = load_fixture(name);
  const Tensor& dims = fx["dims"];
  const std::int64_t T = std::lround(dims[0]), B = std::lround(dims[1]), E = std::lround(dims[2]),
                     H = std::lround(dims[3]), D = std::lround(dims[4]), M = std::lround(dims[5]);
  Layer L(E, H, D, 0.1f, 0.1f);
  L.att->set_training(false);  // the fixture has no dropout
  const std::string p = "layers.0.dec_attn";
  copy_transposed(fx["qkv"], L.ps.get(p + ".qkv_net.weight").value);
  copy_transposed(fx["r_net"], L.ps.get(p + ".r_net.weight").value);
  copy_transposed(fx["o_net"], L.ps.get(p + ".o_net.weight").value);
  L.ps.get(p + ".layer_norm.weight").value.copy_from(fx["ln_w"]);
  L.ps.get(p + ".layer_norm.bias").value.copy_from(fx["ln_b"]);
  L.ps.get("r_w_bias").value.copy_from(fx["u"]);
  L.ps.get("r_r_bias").value.copy_from(fx["v"]);
  Tensor mem = M ? fx["mem"] : Tensor();
  const Tensor& y = L.att->forward(fx["x"], mem, fx["r"]);
  EXPECT_EQ(y.shape(), (Shape{T, B, E}));
  expect_close(y, fx["y"], 1e-5, name + " y");
  expect_close(L.att->attention_probs(), fx["probs"], 1e-5, name + " probs");
  L.ps.zero_grad();
  expect_close(L.att->backward(fx["dy"]), fx["dx"], 1e-4, name + " dx");
  expect_close_transposed(L.ps.get(p + ".qkv_net.weight").grad, fx["dqkv"], 1e-4, name + " dqkv");
  expect_close_transposed(L.ps.get(p + ".r_net.weight").grad, fx["dr_net"], 1e-4, name + " dr");
  expect_close_transposed(L.ps.get(p + ".o_net.weight").grad, fx["do_net"], 1e-4, name + " do");
  expect_close(L.ps.get(p + ".layer_norm.weight").grad, fx["dln_w"], 1e-4, name + " dln_w");
  expect_close(L.ps.get(p + ".layer_norm.bias").grad, fx["dln_b"], 1e-4, name + " dln_b");
  expect_close(L.ps.get("r_w_bias").grad, fx["du"], 1e-4, name + " du");
  expect_close(L.ps.get("r_r_bias").grad, fx["dv"], 1e-4, name + " dv");
}

}  // namespace

TEST(RelAttention, MatchesTorchWithMemory) { check_against_torch("attention_mem"); }
TEST(RelAttention, MatchesTorchWithoutMemory) { check_against_torch("attention_nomem"); }

TEST(RelAttention, FiniteDifferencesWithDropout) {
  const std::int64_t T = 3, M = 2, B = 2, E = 8, H = 2, D = 3;
  Layer L(E, H, D, 0.2f, 0.3f);
  Generator g(5);
  for (auto& prm : L.ps.params())
    if (prm.name.find("layer_norm") == std::string::npos) fill_uniform(prm.value, g, -0.5f, 0.5f);
  Tensor x({T, B, E}), mem({M, B, E});
  fill_uniform(x, g);
  fill_uniform(mem, g);
  Tensor r = sinusoidal_positions(M + T, E);
  GradcheckOptions opt;
  opt.eps = 2e-3;
  opt.rtol = 2e-2;
  opt.atol = 2e-3;
  // Re-seeding before every forward fixes the dropout masks, so the loss is a smooth
  // function of the inputs and the check covers both dropouts' backward.
  auto res = gradcheck_layer(
      [&](const Tensor& t) -> const Tensor& {
        L.att->set_seed(123);
        return L.att->forward(t, mem, r);
      },
      [&](const Tensor& d) -> const Tensor& { return L.att->backward(d); }, x, &L.ps, opt);
  EXPECT_TRUE(res.ok) << res.report;
  // Dropout really dropped something.
  int dropped = 0;
  const Tensor& P = L.att->attention_probs();
  for (std::int64_t e = 0; e < P.size(); ++e) dropped += std::signbit(P[e]) ? 1 : 0;
  EXPECT_GT(dropped, 0);
}

TEST(RelAttention, CausalMaskAndEvalMode) {
  const std::int64_t T = 5, M = 3, B = 2, E = 8, H = 2, D = 4, K = M + T;
  Layer L(E, H, D, 0.5f, 0.5f);
  Tensor x({T, B, E}), mem({M, B, E});
  Generator g(8);
  fill_uniform(x, g);
  fill_uniform(mem, g);
  Tensor r = sinusoidal_positions(K, E);
  L.att->set_training(false);
  Tensor y1(L.att->forward(x, mem, r));
  const Tensor& P = L.att->attention_probs();
  for (std::int64_t bh = 0; bh < B * H; ++bh)
    for (std::int64_t i = 0; i < T; ++i) {
      double s = 0.0;
      for (std::int64_t j = 0; j < K; ++j) {
        const float pij = P[(bh * T + i) * K + j];
        if (j > i + M) EXPECT_EQ(pij, 0.0f);
        else EXPECT_GT(pij, 0.0f);
        s += pij;
      }
      EXPECT_NEAR(s, 1.0, 1e-5);
    }
  // Eval mode ignores the seed; training mode with a seed is reproducible and differs.
  L.att->set_seed(1);
  Tensor y2(L.att->forward(x, mem, r));
  expect_close(y2, y1, 0.0, "eval is deterministic");
  L.att->set_training(true);
  L.att->set_seed(4);
  Tensor y3(L.att->forward(x, mem, r));
  L.att->set_seed(4);
  Tensor y4(L.att->forward(x, mem, r));
  expect_close(y4, y3, 0.0, "same seed, same dropout");
  double diff = 0.0;
  for (std::int64_t e = 0; e < y1.size(); ++e) diff += std::fabs(y3[e] - y1[e]);
  EXPECT_GT(diff, 1e-3);
}

TEST(RelAttention, DropoutAndGradientsIndependentOfThreadCount) {
  const std::int64_t T = 6, M = 4, B = 5, E = 10, H = 2, D = 5;
  Layer L(E, H, D, 0.3f, 0.3f);
  Tensor x({T, B, E}), mem({M, B, E}), dy({T, B, E});
  Generator g(9);
  fill_uniform(x, g);
  fill_uniform(mem, g);
  fill_uniform(dy, g);
  Tensor r = sinusoidal_positions(M + T, E);
  const int saved = num_threads();
  Tensor y[2], p[2], dx[2], grads[2];
  for (int run = 0; run < 2; ++run) {
    set_num_threads(run + 1);
    L.att->set_seed(77);
    y[run] = L.att->forward(x, mem, r);
    p[run] = L.att->attention_probs();
    L.ps.zero_grad();
    dx[run] = L.att->backward(dy);
    grads[run] = L.ps.grads();
  }
  set_num_threads(saved);
  expect_close(y[1], y[0], 1e-5, "y, threads 1 vs 2");
  expect_close(dx[1], dx[0], 1e-5, "dx, threads 1 vs 2");
  expect_close(grads[1], grads[0], 1e-5, "parameter grads, threads 1 vs 2");
  for (std::int64_t e = 0; e < p[0].size(); ++e)
    ASSERT_EQ(std::signbit(p[0][e]), std::signbit(p[1][e]));
}

TEST(RelAttention, BadShapesThrow) {
  Layer L(8, 2, 4, 0.0f, 0.0f);
  Tensor x({3, 2, 8}), mem({2, 2, 8});
  EXPECT_THROW(L.att->backward(Tensor({3, 2, 8})), InvalidArgument);
  EXPECT_THROW(L.att->forward(Tensor({3, 2, 7}), mem, sinusoidal_positions(5, 8)), ShapeError);
  EXPECT_THROW(L.att->forward(x, Tensor({2, 3, 8}), sinusoidal_positions(5, 8)), ShapeError);
  EXPECT_THROW(L.att->forward(x, mem, sinusoidal_positions(4, 8)), ShapeError);
  L.att->forward(x, mem, sinusoidal_positions(5, 8));
  EXPECT_THROW(L.att->backward(Tensor({3, 2, 7})), ShapeError);
  ParameterSet ps;
  auto b = add_rel_position_biases(ps, "", 3, 4);
  RelAttentionConfig cfg;
  cfg.d_model = 8;
  cfg.n_head = 2;
  cfg.d_head = 4;
  EXPECT_THROW(RelMultiHeadAttention(ps, "a", cfg, b), ShapeError);
  cfg.n_head = 3;
  cfg.dropout = 1.0f;
  EXPECT_THROW(RelMultiHeadAttention(ps, "a", cfg, b), InvalidArgument);
  EXPECT_EQ(ps.params().size(), 2u);  // failed constructions declared nothing
}

namespace {

// Rows [begin, end) of a (time, batch, d) tensor, as an owning copy.
Tensor rows(const Tensor& t, std::int64_t begin, std::int64_t end) {
  Tensor out({end - begin, t.dim(1), t.dim(2)});
  out.copy_from(t.slice(begin, end));
  return out;
}

}  // namespace

TEST(RelAttentionCache, StepsMatchForwardWithMemory) {
  // Two segments through forward_step equal forward() with the first as memory;
  // then token-by-token steps equal forward() over the growing prefix.
  const std::int64_t T1 = 5, T2 = 4, B = 2, E = 12, H = 3, D = 4;
  Layer L(E, H, D, 0.1f, 0.1f);
  L.att->set_training(false);
  Generator g(12);
  for (auto& prm : L.ps.params())
    if (prm.name.find("layer_norm") == std::string::npos) fill_uniform(prm.value, g, -0.5f, 0.5f);
  Tensor x1({T1, B, E}), x2({T2, B, E});
  fill_uniform(x1, g);
  fill_uniform(x2, g);

  Tensor ref1(L.att->forward(x1, Tensor(), sinusoidal_positions(T1, E)));
  Tensor ref2(L.att->forward(x2, x1, sinusoidal_positions(T1 + T2, E)));

  RelAttentionCache cache(/*mem_len=*/32);
  expect_close(L.att->forward_step(x1, cache), ref1, 1e-5, "segment 1");
  EXPECT_EQ(cache.length(), T1);
  expect_close(L.att->forward_step(x2, cache), ref2, 1e-5, "segment 2");
  EXPECT_EQ(cache.length(), T1 + T2);
  EXPECT_THROW(L.att->backward(ref2), InvalidArgument);  // inference only

  cache.clear();
  L.att->forward_step(x1, cache);
  for (std::int64_t t = 0; t < T2; ++t) {
    Tensor step(L.att->forward_step(rows(x2, t, t + 1), cache));
    // Query t of segment 2 sees x1 and x2[0..t]: forward over that prefix, last row.
    Tensor mem(T1 + t > 0 ? Shape{T1 + t, B, E} : Shape{0, B, E});
    for (std::int64_t r = 0; r < T1; ++r)
      for (std::int64_t e = 0; e < B * E; ++e) mem[r * B * E + e] = x1[r * B * E + e];
    for (std::int64_t r = 0; r < t; ++r)
      for (std::int64_t e = 0; e < B * E; ++e) mem[(T1 + r) * B * E + e] = x2[r * B * E + e];
    Tensor want(L.att->forward(rows(x2, t, t + 1), mem, sinusoidal_positions(T1 + t + 1, E)));
    expect_close(step, want, 1e-5, "token " + std::to_string(t));
  }
}

TEST(RelAttentionCache, KeepsOnlyMemLenPositions) {
  const std::int64_t B = 1, E = 8, H = 2, D = 4, mem_len = 3;
  Layer L(E, H, D, 0.0f, 0.0f);
  L.att->set_training(false);
  Generator g(4);
  Tensor seq({7, B, E});
  fill_uniform(seq, g);
  RelAttentionCache cache(mem_len);
  for (std::int64_t t = 0; t < 7; ++t) {
    Tensor step(L.att->forward_step(rows(seq, t, t + 1), cache));
    const std::int64_t m = std::min<std::int64_t>(t, mem_len);
    Tensor mem = m ? rows(seq, t - m, t) : Tensor();
    Tensor want(L.att->forward(rows(seq, t, t + 1), mem, sinusoidal_positions(m + 1, E)));
    expect_close(step, want, 1e-5, "step " + std::to_string(t));
    EXPECT_EQ(cache.length(), std::min<std::int64_t>(t + 1, mem_len));
  }
  // A different batch size needs a cleared cache.
  EXPECT_THROW(L.att->forward_step(Tensor({1, 2, E}), cache), ShapeError);
  cache.clear();
  EXPECT_NO_THROW(L.att->forward_step(Tensor({1, 2, E}), cache));
  EXPECT_THROW(RelAttentionCache(-1), InvalidArgument);
}

TEST(RelAttention, MemStartMasksARowsOldestMemory) {
  // Row 1 of a batch of 2 attends only its last m of M memory positions: its output
  // and its share of every parameter gradient equal those of a batch-1 run with a
  // memory of those m positions; row 0 is unaffected. The training-mode dropouts
  // are off (their masks depend on the batch layout).
  const std::int64_t T = 3, B = 2, E = 12, H = 3, D = 4, M = 5, m = 2;
  Layer L(E, H, D, 0.0f, 0.0f);
  Generator g(31);
  for (auto& prm : L.ps.params())
    if (prm.name.find("layer_norm") == std::string::npos) fill_uniform(prm.value, g, -0.5f, 0.5f);
  Tensor x({T, B, E}), mem({M, B, E}), dy({T, B, E});
  fill_uniform(x, g);
  fill_uniform(mem, g);
  fill_uniform(dy, g);
  auto row = [](const Tensor& t, std::int64_t b, std::int64_t from) {
    Tensor out({t.dim(0) - from, 1, t.dim(2)});
    for (std::int64_t i = from; i < t.dim(0); ++i)
      for (std::int64_t e = 0; e < t.dim(2); ++e)
        out[(i - from) * t.dim(2) + e] = t[(i * t.dim(1) + b) * t.dim(2) + e];
    return out;
  };
  // forward() keeps views of its inputs until backward(): every input is a named tensor.
  const Tensor r_full = sinusoidal_positions(M + T, E), r_short = sinusoidal_positions(m + T, E);
  L.ps.zero_grad();
  Tensor both(L.att->forward(x, mem, r_full, {0, M - m}));
  L.att->backward(dy);
  Tensor grads_both(L.ps.grads());

  L.ps.zero_grad();
  const Tensor x0 = row(x, 0, 0), mem0 = row(mem, 0, 0), dy0 = row(dy, 0, 0);
  const Tensor x1 = row(x, 1, 0), mem1 = row(mem, 1, M - m), dy1 = row(dy, 1, 0);
  Tensor alone0(L.att->forward(x0, mem0, r_full));
  L.att->backward(dy0);
  Tensor alone1(L.att->forward(x1, mem1, r_short));
  L.att->backward(dy1);
  expect_close(row(both, 0, 0), alone0, 1e-5, "row 0");
  expect_close(row(both, 1, 0), alone1, 1e-5, "row 1 with its last memory positions");
  expect_close(grads_both, L.ps.grads(), 1e-5, "gradients");

  EXPECT_THROW(L.att->forward(x, mem, r_full, {0}), ShapeError);
  EXPECT_THROW(L.att->forward(x, mem, r_full, {0, M + 1}), InvalidArgument);
}

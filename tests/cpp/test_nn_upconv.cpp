// UpConcatConv2d: the phase-folded "upsample x2, concat, 3x3 conv" against the
// plain composition UpsampleNearest2d + ConcatChannels + Conv2d and against the
// double-precision reference convolution (forward, da, db, dW, dbias), on odd
// channel counts, S = 1 and 2, non-square images, one and many chunks, one and
// two threads, for both algorithms (the phase im2col and Winograd on the
// virtual concatenation); a finite-difference gradient check; parameters and
// init equal to Conv2d's; errors on bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "partita/core/error.hpp"
#include "tensor_compare.hpp"
#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/concat.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/upconv.hpp"
#include "partita/nn/upsample.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

using test::copy_of;
using test::max_rel_diff;

struct Case {
  std::int64_t n, s, t, ca, cb, cout;
  std::int64_t budget = std::int64_t{1} << 20;  // column budget (1: the 512-pixel minimum)
  ConvAlgorithm algorithm = ConvAlgorithm::Im2col;
  std::int64_t tiles = 512;  // Winograd chunk tiles
};

Case winograd(Case c, std::int64_t tiles = 512) {
  c.algorithm = ConvAlgorithm::Winograd;
  c.tiles = tiles;
  return c;
}

// Everything the folded layer computes, for one case.
struct Result {
  Tensor y, da, db, dw, dbias;
};

Result run_folded(const Case& c, const Tensor& a, const Tensor& b, const Tensor& dy) {
  ParameterSet ps;
  UpConcatConv2d layer(ps, "conv", c.ca, c.cb, c.cout, WeightInit::TorchDefault, c.budget,
                       c.algorithm);
  layer.set_winograd_chunk_tiles(c.tiles);
  ps.allocate(7);
  ps.zero_grad();
  Result r;
  r.y = copy_of(layer.forward(a, b));
  auto g = layer.backward(dy);
  r.da = copy_of(g.a);
  r.db = copy_of(g.b);
  r.dw = copy_of(layer.weight().grad);
  r.dbias = copy_of(layer.bias().grad);
  return r;
}

void check_case(const Case& c, int threads) {
  SCOPED_TRACE("case n=" + std::to_string(c.n) + " s=" + std::to_string(c.s) + " t=" +
               std::to_string(c.t) + " ca=" + std::to_string(c.ca) + " cb=" + std::to_string(c.cb) +
               " cout=" + std::to_string(c.cout) + " threads=" + std::to_string(threads) +
               (c.algorithm == ConvAlgorithm::Winograd ? " winograd tiles=" + std::to_string(c.tiles)
                                                       : " im2col"));
  const int saved = num_threads();
  set_num_threads(threads);
  Generator rng(11 + static_cast<std::uint64_t>(c.n * 7 + c.s));
  Tensor a({c.n, c.s, c.t, c.ca}), b({c.n, 2 * c.s, 2 * c.t, c.cb}),
      dy({c.n, 2 * c.s, 2 * c.t, c.cout});
  fill_uniform(a, rng);
  fill_uniform(b, rng);
  fill_uniform(dy, rng);
  Result f = run_folded(c, a, b, dy);

  // The plain composition with the same parameters (same names, seed, init).
  ParameterSet ps;
  Conv2dSpec spec;
  spec.in_channels = c.ca + c.cb;
  spec.out_channels = c.cout;
  spec.init = WeightInit::TorchDefault;
  spec.algorithm = ConvAlgorithm::Im2col;
  Conv2d conv(ps, "conv", spec);
  ps.allocate(7);
  ps.zero_grad();
  UpsampleNearest2d up(2);
  ConcatChannels cat;
  const Tensor& x = cat.forward(up.forward(a), b);
  Tensor xcopy = copy_of(x);
  const Tensor& y = conv.forward(x);
  EXPECT_LT(max_rel_diff(f.y, y), 1e-5);
  auto g = cat.backward(conv.backward(dy));
  Tensor db_plain = copy_of(g.b);
  const Tensor& da_plain = up.backward(g.a);
  EXPECT_LT(max_rel_diff(f.da, da_plain), 1e-5);
  EXPECT_LT(max_rel_diff(f.db, db_plain), 1e-5);
  EXPECT_LT(max_rel_diff(f.dw, conv.weight().grad), 1e-5);
  EXPECT_LT(max_rel_diff(f.dbias, conv.bias()->grad), 1e-5);

  // The double-precision reference convolution of the upsampled concatenation.
  ConvGeometry geo = conv_geometry(xcopy.shape(), c.ca + c.cb, c.cout, 3, 3, 1, 1,
                                   Padding::same(), "test");
  Tensor yref, dxref, dwref(conv.weight().value.shape()), dbref({c.cout});
  conv2d_reference_forward(xcopy, conv.weight().value, &conv.bias()->value, geo, yref);
  EXPECT_LT(max_rel_diff(f.y, yref), 1e-5);
  conv2d_reference_backward(xcopy, conv.weight().value, dy, geo, dxref, dwref, &dbref);
  EXPECT_LT(max_rel_diff(f.dw, dwref), 1e-5);
  EXPECT_LT(max_rel_diff(f.dbias, dbref), 1e-5);
  // da = the 2x2 block sums of dx's first Ca channels; db = its last Cb channels.
  Tensor daref({c.n, c.s, c.t, c.ca}), dbref_x({c.n, 2 * c.s, 2 * c.t, c.cb});
  daref.zero();
  const std::int64_t C = c.ca + c.cb;
  for (std::int64_t n = 0; n < c.n; ++n)
    for (std::int64_t i = 0; i < 2 * c.s; ++i)
      for (std::int64_t j = 0; j < 2 * c.t; ++j)
        for (std::int64_t ch = 0; ch < C; ++ch) {
          const float v = dxref[((n * 2 * c.s + i) * 2 * c.t + j) * C + ch];
          if (ch < c.ca)
            daref[((n * c.s + i / 2) * c.t + j / 2) * c.ca + ch] += v;
          else
            dbref_x[((n * 2 * c.s + i) * 2 * c.t + j) * c.cb + ch - c.ca] = v;
        }
  EXPECT_LT(max_rel_diff(f.da, daref), 1e-5);
  EXPECT_LT(max_rel_diff(f.db, dbref_x), 1e-5);
  set_num_threads(saved);
}

}  // namespace

TEST(UpConcatConv2d, MatchesUpsampleConcatConvOnSmallShapes) {
  for (int threads : {1, 2}) {
    for (const Case& c : {Case{1, 1, 1, 1, 1, 1},    // S = 1: every tap but the centre is padding
                          Case{2, 2, 2, 3, 5, 4},    // S = 2, odd channels, batch 2
                          Case{3, 2, 5, 7, 2, 3},    // non-square
                          Case{2, 5, 3, 4, 9, 6},
                          Case{1, 1, 4, 2, 3, 5},    // one low-res row
                          Case{2, 3, 2, 70, 67, 5}}) {  // channels past a 64-wide block
      check_case(c, threads);
      check_case(winograd(c), threads);
    }
  }
}

TEST(UpConcatConv2d, WinogradAcrossChunks) {
  // Chunks of 2 low-res rows (the minimum) and of 3: with 2 threads and many
  // chunks, whole chunks per thread (even, then odd); with few, each chunk's
  // scatter split by tile row mod 3.
  for (int threads : {1, 2}) {
    check_case(winograd({3, 6, 4, 5, 3, 4}, 1), threads);    // 9 chunks of 2 rows
    check_case(winograd({2, 7, 5, 4, 6, 3}, 15), threads);   // 5 chunks of 3 rows, last short
    check_case(winograd({1, 9, 3, 3, 2, 2}, 12), threads);   // 3 chunks of 4 rows, one-row tail
  }
}

TEST(UpConcatConv2d, MatchesUpsampleConcatConvAcrossChunks) {
  // Low-res rows per chunk: with budget 1, ceil(512 / T) = 32 here, so 128 and
  // 160 rows give 4 and 5 chunks: the two-thread path takes whole chunks, even
  // then odd; 40 rows give a full chunk and a short one.
  for (int threads : {1, 2}) {
    check_case({8, 16, 16, 3, 5, 4, 1}, threads);
    check_case({10, 16, 16, 5, 3, 7, 1}, threads);
    check_case({5, 8, 16, 2, 3, 3, 1}, threads);  // 40 rows: 2 chunks, the second short
    check_case({4, 16, 64, 3, 2, 2, 1}, threads);  // 8 rows per chunk, 8 chunks
  }
}

TEST(UpConcatConv2d, OneAndTwoThreadsAgree) {
  for (const Case& c : {Case{10, 16, 16, 5, 3, 7, 1},  // 5 chunks
                        winograd({10, 16, 16, 5, 3, 7}, 32)}) {  // 80 chunks of 2 tile rows
  SCOPED_TRACE(c.algorithm == ConvAlgorithm::Winograd ? "winograd" : "im2col");
  Generator rng(5);
  Tensor a({c.n, c.s, c.t, c.ca}), b({c.n, 2 * c.s, 2 * c.t, c.cb}),
      dy({c.n, 2 * c.s, 2 * c.t, c.cout});
  fill_uniform(a, rng);
  fill_uniform(b, rng);
  fill_uniform(dy, rng);
  const int saved = num_threads();
  set_num_threads(1);
  Result one = run_folded(c, a, b, dy);
  set_num_threads(2);
  Result two = run_folded(c, a, b, dy);
  set_num_threads(saved);
  // The forward computes every element as the sequential loop does.
  for (std::int64_t i = 0; i < one.y.size(); ++i) ASSERT_EQ(one.y[i], two.y[i]) << i;
  EXPECT_LT(max_rel_diff(two.da, one.da), 1e-6);
  EXPECT_LT(max_rel_diff(two.db, one.db), 1e-6);
  EXPECT_LT(max_rel_diff(two.dw, one.dw), 1e-5);
  EXPECT_LT(max_rel_diff(two.dbias, one.dbias), 1e-6);
  }
}

TEST(UpConcatConv2d, FiniteDifferenceGradients) {
  for (ConvAlgorithm alg : {ConvAlgorithm::Im2col, ConvAlgorithm::Winograd}) {
  SCOPED_TRACE(alg == ConvAlgorithm::Winograd ? "winograd" : "im2col");
  const int saved = num_threads();
  set_num_threads(1);  // 600 tiny forwards: no thread wake-ups
  ParameterSet ps;
  UpConcatConv2d layer(ps, "conv", 3, 2, 4, WeightInit::TorchDefault, std::int64_t{1} << 20, alg);
  ps.allocate(3);
  Generator rng(9);
  Tensor a({2, 2, 3, 3}), b({2, 4, 6, 2});
  fill_uniform(a, rng);
  fill_uniform(b, rng);
  Tensor r({2, 4, 6, 4});
  fill_uniform(r, rng);
  ps.zero_grad();
  layer.forward(a, b);
  auto g = layer.backward(r);
  std::vector<GradTarget> targets;
  targets.push_back({"a", &a, copy_of(g.a)});
  targets.push_back({"b", &b, copy_of(g.b)});
  targets.push_back({"weight", &layer.weight().value, copy_of(layer.weight().grad)});
  targets.push_back({"bias", &layer.bias().value, copy_of(layer.bias().grad)});
  GradcheckResult res =
      check_gradients([&] { return dot_double(layer.forward(a, b), r); }, targets);
  set_num_threads(saved);
  EXPECT_TRUE(res.ok) << res.report;
  EXPECT_GT(res.checked, 200);
  }
}

TEST(UpConcatConv2d, AutoPicksWinogradFrom16Channels) {
  // The two paths round differently, so the output's bits tell which ran.
  auto y_of = [](std::int64_t ca, ConvAlgorithm alg) {
    ParameterSet ps;
    UpConcatConv2d layer(ps, "c", ca, 16, 16, WeightInit::TorchDefault, std::int64_t{1} << 20, alg);
    ps.allocate(2);
    Generator rng(6);
    Tensor a({1, 3, 3, ca}), b({1, 6, 6, 16});
    fill_uniform(a, rng);
    fill_uniform(b, rng);
    return copy_of(layer.forward(a, b));
  };
  auto same = [](const Tensor& x, const Tensor& y) {
    for (std::int64_t i = 0; i < x.size(); ++i)
      if (x[i] != y[i]) return false;
    return true;
  };
  Tensor auto32 = y_of(32, ConvAlgorithm::Auto);
  EXPECT_TRUE(same(auto32, y_of(32, ConvAlgorithm::Winograd)));
  EXPECT_FALSE(same(auto32, y_of(32, ConvAlgorithm::Im2col)));
  Tensor auto8 = y_of(8, ConvAlgorithm::Auto);
  EXPECT_TRUE(same(auto8, y_of(8, ConvAlgorithm::Im2col)));
}

TEST(UpConcatConv2d, ParametersAndInitAreConv2ds) {
  ParameterSet p1, p2;
  UpConcatConv2d layer(p1, "dec.0.conv1", 6, 3, 5);
  Conv2d conv(p2, "dec.0.conv1", 9, 5, 3);
  p1.allocate(42);
  p2.allocate(42);
  ASSERT_EQ(p1.params().size(), p2.params().size());
  for (size_t i = 0; i < p1.params().size(); ++i) {
    const Parameter& x = p1.params()[i];
    const Parameter& y = p2.params()[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.value.shape(), y.value.shape());
    EXPECT_EQ(x.layout, y.layout);
    for (std::int64_t j = 0; j < x.value.size(); ++j) ASSERT_EQ(x.value[j], y.value[j]);
  }
  EXPECT_EQ(layer.weight().value.shape(), (Shape{3, 3, 9, 5}));
}

TEST(UpConcatConv2d, RejectsBadInput) {
  EXPECT_THROW(UpConcatConv2d(*std::make_unique<ParameterSet>(), "c", 0, 2, 2), InvalidArgument);
  ParameterSet ps;
  UpConcatConv2d layer(ps, "c", 2, 3, 4);
  Tensor a({1, 2, 2, 2}), b({1, 4, 4, 3});
  a.fill(0.5f);
  b.fill(0.5f);
  EXPECT_THROW(layer.forward(a, b), InvalidArgument);  // not allocated
  ps.allocate(1);
  EXPECT_THROW(layer.backward(Tensor({1, 4, 4, 4})), InvalidArgument);  // before forward
  EXPECT_THROW(layer.forward(Tensor({1, 2, 2, 3}), b), ShapeError);     // a's channels
  EXPECT_THROW(layer.forward(a, Tensor({1, 4, 4, 2})), ShapeError);     // b's channels
  EXPECT_THROW(layer.forward(a, Tensor({1, 4, 5, 3})), ShapeError);     // not 2x
  EXPECT_THROW(layer.forward(a, Tensor({2, 4, 4, 3})), ShapeError);     // batch
  EXPECT_THROW(layer.forward(Tensor({2, 2, 2}), b), ShapeError);        // rank
  layer.forward(a, b);
  EXPECT_THROW(layer.backward(Tensor({1, 4, 4, 3})), ShapeError);
  try {
    layer.forward(a, Tensor({1, 4, 5, 3}));
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("UpConcatConv2d::forward(c)"), std::string::npos);
  }
}

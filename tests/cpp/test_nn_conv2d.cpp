// Conv2d: padding arithmetic, im2col fast path vs the direct-loop reference
// (forward and backward, every padding mode, chunked and unchunked, 1x1),
// finite-difference gradient check, and errors on bad input; the Winograd
// F(2x2, 3x3) path against the same reference (odd sizes, one and many chunks,
// one and two threads, channel counts off the 64-wide blocks), its gradient by
// finite differences, and the Auto choice; the same for Winograd F(2x2, 2x2)
// on the parity streams of 4x4 stride-2 convolutions.
#include <gtest/gtest.h>

#include <cmath>

#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/gradcheck.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

double max_rel_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double scale = 1e-6, diff = 0.0;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return diff / scale;
}

struct Case {
  std::int64_t n, h, w, cin, cout;
  int kh, kw, sh, sw;
  Padding pad;
  std::int64_t budget;
  ConvAlgorithm algorithm = ConvAlgorithm::Auto;
  std::int64_t chunk_tiles = 512;
  double tol = 1e-5;
};

void check_against_reference(const Case& c) {
  ParameterSet ps;
  Conv2dSpec s;
  s.in_channels = c.cin;
  s.out_channels = c.cout;
  s.kernel_h = c.kh;
  s.kernel_w = c.kw;
  s.stride_h = c.sh;
  s.stride_w = c.sw;
  s.padding = c.pad;
  s.column_budget = c.budget;
  s.algorithm = c.algorithm;
  s.winograd_chunk_tiles = c.chunk_tiles;
  s.init = WeightInit::TorchDefault;  // non-zero bias
  Conv2d conv(ps, "conv", s);
  ps.allocate(7);
  Generator rng(3);
  Tensor x({c.n, c.h, c.w, c.cin});
  fill_uniform(x, rng);
  const Tensor& y = conv.forward(x);
  ConvGeometry g = conv_geometry(x.shape(), c.cin, c.cout, c.kh, c.kw, c.sh, c.sw, c.pad, "test");
  Tensor yref;
  conv2d_reference_forward(x, conv.weight().value, &conv.bias()->value, g, yref);
  EXPECT_LT(max_rel_diff(y, yref), c.tol);

  Tensor dy(y.shape());
  fill_uniform(dy, rng);
  ps.zero_grad();
  Tensor dx = conv.backward(dy);  // deep copy of the member buffer? no: copy of an owner
  Tensor dxref, dwref(conv.weight().value.shape()), dbref({c.cout});
  conv2d_reference_backward(x, conv.weight().value, dy, g, dxref, dwref, &dbref);
  EXPECT_LT(max_rel_diff(dx, dxref), c.tol);
  EXPECT_LT(max_rel_diff(conv.weight().grad, dwref), c.tol);
  EXPECT_LT(max_rel_diff(conv.bias()->grad, dbref), c.tol);
}

// Finite differences against backward, for the input and every parameter.
void expect_gradcheck(const Conv2dSpec& s, const Shape& input, std::uint64_t seed) {
  ParameterSet ps;
  Conv2d conv(ps, "c", s);
  ps.allocate(seed);
  Generator rng(seed + 1);
  Tensor x(input);
  fill_uniform(x, rng);
  auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return conv.forward(t); },
                             [&](const Tensor& d) -> const Tensor& { return conv.backward(d); },
                             x, &ps);
  EXPECT_TRUE(res.ok) << res.report;
  EXPECT_EQ(res.checked, x.size() + ps.trainable_count());
}

// The forward of a "same" k x k, stride-s convolution with `alg` on a fixed
// size x size input (seeded weights and input): the bits tell algorithms apart.
Tensor conv_output(std::int64_t cin, std::int64_t cout, int k, int stride, std::int64_t size, ConvAlgorithm alg) {
  ParameterSet ps;
  Conv2dSpec s;
  s.in_channels = cin;
  s.out_channels = cout;
  s.kernel_h = s.kernel_w = k;
  s.stride_h = s.stride_w = stride;
  s.algorithm = alg;
  Conv2d conv(ps, "c", s);
  ps.allocate(5);
  Tensor x({1, size, size, cin});
  Generator rng(1);
  fill_uniform(x, rng);
  Tensor y = conv.forward(x);
  return y;
}

bool same(const Tensor& a, const Tensor& b) {
  for (std::int64_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

TEST(Conv2d, SamePaddingMatchesTensorFlow) {
  int b, a;
  same_padding(8, 3, 1, b, a);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(a, 1);
  same_padding(32, 4, 2, b, a);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(a, 1);
  same_padding(16, 4, 1, b, a);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(a, 2);
  same_padding(7, 4, 2, b, a);  // out 4, total (4-1)*2+4-7 = 3
  EXPECT_EQ(b, 1);
  EXPECT_EQ(a, 2);
  same_padding(9, 1, 1, b, a);
  EXPECT_EQ(b + a, 0);
}

TEST(Conv2d, OutputShapes) {
  ParameterSet ps;
  Conv2d c3(ps, "c3", 2, 5, 3);
  Conv2d c4s2(ps, "c4s2", 1, 4, 4, 2);
  Conv2d c4(ps, "c4", 3, 4, 4, 1);
  Conv2d valid(ps, "v", 3, 4, 3, 1, Padding::valid());
  Conv2d expl(ps, "e", 3, 4, 3, 2, Padding::explicit_amounts(2, 0, 1, 1));
  EXPECT_EQ(c3.output_shape({2, 128, 128, 2}), (Shape{2, 128, 128, 5}));
  EXPECT_EQ(c4s2.output_shape({64, 32, 128, 1}), (Shape{64, 16, 64, 4}));
  EXPECT_EQ(c4.output_shape({1, 4, 16, 3}), (Shape{1, 4, 16, 4}));
  EXPECT_EQ(valid.output_shape({1, 5, 6, 3}), (Shape{1, 3, 4, 4}));
  EXPECT_EQ(expl.output_shape({1, 5, 6, 3}), (Shape{1, 3, 3, 4}));
  EXPECT_EQ(ps.get("c3.weight").shape, (Shape{3, 3, 2, 5}));
  EXPECT_EQ(ps.get("c3.weight").layout, Layout::ConvHWIO);
  EXPECT_EQ(ps.get("c3.bias").shape, (Shape{5}));
}

TEST(Conv2d, MatchesReference3x3Same) { check_against_reference({2, 7, 9, 3, 5, 3, 3, 1, 1, Padding::same(), 1 << 22}); }
TEST(Conv2d, MatchesReference3x3SameChunked) {
  // budget below one output row: one row per chunk; and a budget that splits mid-sample.
  check_against_reference({3, 6, 5, 4, 3, 3, 3, 1, 1, Padding::same(), 1});
  check_against_reference({3, 6, 5, 4, 3, 3, 3, 1, 1, Padding::same(), 5 * 36 * 4});
}
TEST(Conv2d, MatchesReference4x4Stride2Same) { check_against_reference({2, 8, 12, 2, 6, 4, 4, 2, 2, Padding::same(), 200}); }
TEST(Conv2d, MatchesReference4x4Stride1Same) { check_against_reference({2, 4, 8, 3, 2, 4, 4, 1, 1, Padding::same(), 300}); }
TEST(Conv2d, MatchesReferenceOddSizesStride2) { check_against_reference({1, 7, 5, 2, 3, 4, 4, 2, 2, Padding::same(), 1 << 22}); }
TEST(Conv2d, MatchesReferencePointwise) { check_against_reference({2, 3, 5, 6, 4, 1, 1, 1, 1, Padding::same(), 1 << 22}); }
TEST(Conv2d, MatchesReferenceValidAndExplicit) {
  check_against_reference({2, 6, 7, 3, 4, 3, 2, 1, 2, Padding::valid(), 1 << 22});
  check_against_reference({2, 6, 7, 3, 4, 3, 3, 2, 1, Padding::explicit_amounts(2, 0, 3, 1), 50});
  check_against_reference({1, 4, 4, 2, 2, 1, 1, 2, 2, Padding::valid(), 1 << 22});  // strided 1x1
  // Stride 1 with valid, asymmetric explicit padding, a non-square kernel, several chunks.
  check_against_reference({2, 6, 7, 3, 4, 3, 3, 1, 1, Padding::valid(), 1 << 22});
  check_against_reference({2, 6, 7, 3, 4, 3, 3, 1, 1, Padding::explicit_amounts(2, 0, 0, 1), 50});
  check_against_reference({2, 5, 8, 2, 3, 2, 4, 1, 1, Padding::explicit_amounts(1, 0, 3, 2), 30});
}

TEST(Conv2d, GradientCheck) {
  for (int stride : {1, 2}) {
    Conv2dSpec s;
    s.in_channels = 2;
    s.out_channels = 3;
    s.kernel_h = s.kernel_w = stride == 1 ? 3 : 4;
    s.stride_h = s.stride_w = stride;
    s.init = WeightInit::TorchDefault;
    s.column_budget = 40;
    expect_gradcheck(s, {2, 4, 6, 2}, 11);
  }
}

TEST(Conv2d, GradcheckCatchesAWrongGradient) {
  // The checker must be able to fail: corrupt dx and see it reported.
  ParameterSet ps;
  Conv2d conv(ps, "c", 1, 2, 3);
  ps.allocate(1);
  Generator rng(2);
  Tensor x({1, 3, 3, 1});
  fill_uniform(x, rng);
  Tensor bad;
  auto res = gradcheck_layer([&](const Tensor& t) -> const Tensor& { return conv.forward(t); },
                             [&](const Tensor& d) -> const Tensor& {
                               bad = conv.backward(d);
                               bad[4] += 0.5f;
                               return bad;
                             },
                             x, &ps);
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.report.find("x[4]"), std::string::npos) << res.report;
}

TEST(Conv2d, NoInputGradSkipsDx) {
  ParameterSet ps;
  Conv2d conv(ps, "c", 2, 2, 3);
  ps.allocate(1);
  conv.set_input_grad(false);
  Tensor x({1, 4, 4, 2}), dy({1, 4, 4, 2});
  x.fill(1.0f);
  dy.fill(1.0f);
  conv.forward(x);
  EXPECT_TRUE(conv.backward(dy).empty());
  // dW still accumulated: each weight sees the sum of x over the valid positions.
  EXPECT_NE(conv.weight().grad[0], 0.0f);
}

// Without weight gradients backward returns the same dx and leaves dW, db alone,
// on the serial, threaded and Winograd paths.
TEST(Conv2d, NoWeightGradKeepsDxAndGrads) {
  const int threads_before = num_threads();
  struct Case { int h, w, cin, cout, k, s; std::int64_t budget; int threads; };
  for (const Case c : {Case{8, 12, 3, 5, 4, 2, 1 << 22, 1}, Case{16, 16, 4, 6, 4, 2, 64, 2},
                       Case{8, 8, 16, 16, 3, 1, 1 << 22, 1}, Case{8, 12, 16, 16, 4, 2, 1 << 22, 1},
                       Case{16, 16, 16, 24, 4, 2, 1 << 22, 2}}) {
    set_num_threads(c.threads);
    ParameterSet ps;
    Conv2dSpec spec;
    spec.in_channels = c.cin;
    spec.out_channels = c.cout;
    spec.kernel_h = spec.kernel_w = c.k;
    spec.stride_h = spec.stride_w = c.s;
    spec.column_budget = c.budget;
    Conv2d conv(ps, "c", spec);
    ps.allocate(3);
    Generator g(5);
    Tensor x({2, c.h, c.w, c.cin});
    fill_uniform(x, g);
    const Tensor& y = conv.forward(x);
    Tensor dy(y.shape());
    fill_uniform(dy, g);
    const Tensor dx_full = conv.backward(dy);
    ps.grads().fill(0.25f);
    conv.set_weight_grad(false);
    conv.forward(x);
    const Tensor& dx = conv.backward(dy);
    ASSERT_EQ(dx.size(), dx_full.size());
    for (std::int64_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx[i], dx_full[i], 1e-5f) << i;
    for (std::int64_t i = 0; i < ps.grads().size(); ++i) ASSERT_EQ(ps.grads()[i], 0.25f) << i;
    conv.set_input_grad(false);
    conv.forward(x);
    EXPECT_TRUE(conv.backward(dy).empty());
  }
  set_num_threads(threads_before);
}

TEST(Conv2d, BadInputThrowsTypedErrors) {
  ParameterSet ps;
  Conv2d conv(ps, "c", 3, 2, 3, 1, Padding::valid());
  EXPECT_THROW(conv.forward(Tensor({1, 4, 4, 3})), InvalidArgument);  // not allocated
  ps.allocate(1);
  EXPECT_THROW(conv.forward(Tensor({1, 4, 4, 2})), ShapeError);   // channels
  EXPECT_THROW(conv.forward(Tensor({4, 4, 3})), ShapeError);      // rank
  EXPECT_THROW(conv.forward(Tensor({1, 2, 4, 3})), ShapeError);   // smaller than kernel
  EXPECT_THROW(conv.backward(Tensor({1, 2, 2, 2})), InvalidArgument);  // before forward
  Tensor x({1, 4, 4, 3});
  conv.forward(x);
  EXPECT_THROW(conv.backward(Tensor({1, 3, 2, 2})), ShapeError);
  ParameterSet ps2;
  EXPECT_THROW(Conv2d(ps2, "z", 0, 2, 3), InvalidArgument);
  EXPECT_THROW(Conv2d(ps2, "z", 1, 2, 3, 0), InvalidArgument);
}

TEST(Conv2d, BuffersAreReusedAcrossCalls) {
  ParameterSet ps;
  Conv2d conv(ps, "c", 2, 4, 3);
  ps.allocate(1);
  Tensor x({2, 8, 8, 2});
  const float* p = conv.forward(x).data();
  Tensor x2({1, 8, 8, 2});
  EXPECT_EQ(conv.forward(x2).data(), p);  // smaller input: same buffer
}

TEST(Conv2d, ManyChunksInParallelMatchReferenceAndOneThread) {
  // 2 x 64 x 64 outputs with the smallest column budget: chunks of 512 pixels,
  // 16 of them, so with 2 threads the forward takes the one-region path that
  // hands whole chunks to threads. It must match the reference and give the
  // same bits as one thread.
  const int before = partita::num_threads();
  partita::set_num_threads(2);
  check_against_reference({2, 64, 64, 3, 5, 3, 3, 1, 1, Padding::same(), 1});
  ParameterSet ps;
  Conv2dSpec s;
  s.in_channels = 3;
  s.out_channels = 5;
  s.column_budget = 1;
  s.init = WeightInit::TorchDefault;
  Conv2d conv(ps, "conv", s);
  ps.allocate(11);
  Generator rng(5);
  Tensor x({2, 64, 64, 3});
  fill_uniform(x, rng);
  Tensor y2 = conv.forward(x);
  Tensor dy(y2.shape());
  fill_uniform(dy, rng);
  ps.zero_grad();
  Tensor dx2 = conv.backward(dy);
  Tensor dw2(conv.weight().grad.shape());  // an owner: grad is a view into the flat buffer
  dw2.copy_from(conv.weight().grad);
  partita::set_num_threads(1);
  Tensor y1 = conv.forward(x);
  ps.zero_grad();
  Tensor dx1 = conv.backward(dy);
  partita::set_num_threads(before);
  for (std::int64_t i = 0; i < y1.size(); ++i) ASSERT_EQ(y1[i], y2[i]) << "element " << i;
  // Backward adds chunk contributions in another order on 2 threads (even
  // chunks, then odd ones) and sums per-thread dW partials: close, not equal.
  EXPECT_LT(max_rel_diff(dx1, dx2), 1e-5);
  EXPECT_LT(max_rel_diff(conv.weight().grad, dw2), 1e-5);
}

// ------------------------------------------------------------------ Winograd

namespace {

Case winograd(std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t cin,
              std::int64_t cout, std::int64_t chunk_tiles) {
  Case c{n, h, w, cin, cout, 3, 3, 1, 1, Padding::same(), 1 << 22};
  c.algorithm = ConvAlgorithm::Winograd;
  c.chunk_tiles = chunk_tiles;
  c.tol = 2e-5;  // the transforms round differently from a direct sum
  return c;
}

}  // namespace

TEST(Conv2dWinograd, MatchesReferenceOneThread) {
  const int before = partita::num_threads();
  partita::set_num_threads(1);
  check_against_reference(winograd(2, 7, 9, 3, 5, 512));   // odd sizes: partial edge tiles
  check_against_reference(winograd(2, 8, 6, 4, 3, 1));     // one tile row per chunk
  check_against_reference(winograd(1, 1, 1, 2, 3, 512));   // one pixel: all padding
  check_against_reference(winograd(1, 2, 5, 70, 66, 2));   // channels past a 64 block
  partita::set_num_threads(before);
}

TEST(Conv2dWinograd, MatchesReferenceTwoThreads) {
  const int before = partita::num_threads();
  partita::set_num_threads(2);
  // Many chunks: whole chunks per thread, dW from per-thread partials, dx
  // scattered in even/odd chunk phases.
  check_against_reference(winograd(3, 9, 10, 5, 4, 1));
  check_against_reference(winograd(2, 16, 12, 17, 19, 7));  // chunks of one tile row (tw = 6)
  // Few chunks: each chunk's transforms and 16 products threaded.
  check_against_reference(winograd(2, 11, 13, 6, 7, 512));
  check_against_reference(winograd(2, 12, 8, 20, 18, 40));  // 2 chunks, parity-split scatter
  partita::set_num_threads(before);
}

TEST(Conv2dWinograd, GradientCheck) {
  Conv2dSpec s;
  s.in_channels = 3;
  s.out_channels = 2;
  s.algorithm = ConvAlgorithm::Winograd;
  s.winograd_chunk_tiles = 2;
  s.init = WeightInit::TorchDefault;
  expect_gradcheck(s, {2, 5, 4, 3}, 13);
}

TEST(Conv2dWinograd, AutoPicksWinogradFrom16Channels) {
  // Auto must give Winograd's bits where both channel counts reach 16 and
  // im2col's below; the two algorithms round differently, so the bits tell.
  auto run = [](std::int64_t cin, std::int64_t cout, ConvAlgorithm alg) {
    return conv_output(cin, cout, 3, 1, 6, alg);
  };
  Tensor a16 = run(16, 16, ConvAlgorithm::Auto);
  EXPECT_TRUE(same(a16, run(16, 16, ConvAlgorithm::Winograd)));
  EXPECT_FALSE(same(a16, run(16, 16, ConvAlgorithm::Im2col)));
  Tensor a8 = run(8, 16, ConvAlgorithm::Auto);
  EXPECT_TRUE(same(a8, run(8, 16, ConvAlgorithm::Im2col)));
  EXPECT_FALSE(same(a8, run(8, 16, ConvAlgorithm::Winograd)));
}

TEST(Conv2dWinograd, NoInputGradStillAccumulatesDw) {
  ParameterSet ps, ps2;
  Conv2dSpec s;
  s.in_channels = 4;
  s.out_channels = 3;
  s.algorithm = ConvAlgorithm::Winograd;
  Conv2d conv(ps, "c", s), full(ps2, "c", s);
  ps.allocate(3);
  ps2.allocate(3);
  conv.set_input_grad(false);
  Generator rng(4);
  Tensor x({2, 6, 6, 4}), dy({2, 6, 6, 3});
  fill_uniform(x, rng);
  fill_uniform(dy, rng);
  conv.forward(x);
  full.forward(x);
  ps.zero_grad();
  ps2.zero_grad();
  EXPECT_TRUE(conv.backward(dy).empty());
  full.backward(dy);
  EXPECT_LT(max_rel_diff(conv.weight().grad, full.weight().grad), 1e-6);
}

TEST(Conv2dWinograd, RejectsConvolutionsItDoesNotApplyTo) {
  ParameterSet ps;
  Conv2dSpec s;
  s.in_channels = 2;
  s.out_channels = 2;
  s.kernel_h = s.kernel_w = 4;
  s.stride_h = s.stride_w = 2;
  s.padding = Padding::valid();  // 4x4 stride 2 without the padding row and column before
  s.algorithm = ConvAlgorithm::Winograd;
  Conv2d strided(ps, "s", s);
  s.padding = Padding::same();
  s.kernel_h = s.kernel_w = 3;
  s.stride_h = s.stride_w = 1;
  s.padding = Padding::valid();
  Conv2d valid(ps, "v", s);
  s.padding = Padding::same();
  s.winograd_chunk_tiles = 0;
  EXPECT_THROW(Conv2d(ps, "z", s), InvalidArgument);
  ps.allocate(1);
  EXPECT_THROW(strided.forward(Tensor({1, 8, 8, 2})), InvalidArgument);
  EXPECT_THROW(valid.forward(Tensor({1, 8, 8, 2})), InvalidArgument);
}

// ------------------------------------------- Winograd F(2x2, 2x2), stride 2

namespace {

Case winograd_s2(std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t cin, std::int64_t cout,
                 std::int64_t chunk_tiles) {
  Case c{n, h, w, cin, cout, 4, 4, 2, 2, Padding::same(), 1 << 22};
  c.algorithm = ConvAlgorithm::Winograd;
  c.chunk_tiles = chunk_tiles;
  c.tol = 2e-5;
  return c;
}

}  // namespace

TEST(Conv2dWinogradS2, MatchesReferenceOneThread) {
  const int before = partita::num_threads();
  partita::set_num_threads(1);
  check_against_reference(winograd_s2(2, 8, 12, 2, 6, 512));  // whole tiles
  check_against_reference(winograd_s2(1, 7, 5, 2, 3, 512));   // odd sizes: padding 1/2, partial tiles
  check_against_reference(winograd_s2(2, 6, 10, 3, 4, 1));    // odd output sizes, one tile row a chunk
  check_against_reference(winograd_s2(1, 1, 1, 2, 3, 512));   // one pixel
  check_against_reference(winograd_s2(1, 4, 10, 70, 66, 2));  // channels past a 64 block
  partita::set_num_threads(before);
}

TEST(Conv2dWinogradS2, MatchesReferenceTwoAndThreeThreads) {
  const int before = partita::num_threads();
  for (int threads : {2, 3}) {
    partita::set_num_threads(threads);
    // Many chunks: whole chunks per thread, dW from per-thread partials, dx
    // scattered in even/odd chunk phases (chunks of one tile row share input rows).
    check_against_reference(winograd_s2(3, 12, 16, 5, 4, 1));
    check_against_reference(winograd_s2(2, 16, 12, 17, 19, 3));
    // Few chunks: each chunk's transforms and 9 products threaded.
    check_against_reference(winograd_s2(2, 14, 18, 6, 7, 512));
    check_against_reference(winograd_s2(2, 16, 8, 20, 18, 8));
  }
  partita::set_num_threads(before);
}

TEST(Conv2dWinogradS2, GradientCheck) {
  Conv2dSpec s;
  s.in_channels = 3;
  s.out_channels = 2;
  s.kernel_h = s.kernel_w = 4;
  s.stride_h = s.stride_w = 2;
  s.algorithm = ConvAlgorithm::Winograd;
  s.winograd_chunk_tiles = 1;
  s.init = WeightInit::TorchDefault;
  expect_gradcheck(s, {2, 4, 6, 3}, 21);
  expect_gradcheck(s, {1, 3, 5, 3}, 22);  // odd sizes
}

TEST(Conv2dWinogradS2, AutoPicksItFrom16Channels) {
  // Auto gives its bits where Cin and Cout reach 16 and im2col's below.
  auto run = [](std::int64_t cin, std::int64_t cout, ConvAlgorithm alg) {
    return conv_output(cin, cout, 4, 2, 8, alg);
  };
  Tensor a16 = run(16, 16, ConvAlgorithm::Auto);
  EXPECT_TRUE(same(a16, run(16, 16, ConvAlgorithm::Winograd)));
  EXPECT_FALSE(same(a16, run(16, 16, ConvAlgorithm::Im2col)));
  Tensor a6 = run(6, 64, ConvAlgorithm::Auto);  // the GAN critic's first layer
  EXPECT_TRUE(same(a6, run(6, 64, ConvAlgorithm::Im2col)));
  EXPECT_FALSE(same(a6, run(6, 64, ConvAlgorithm::Winograd)));
  Tensor a8 = run(32, 8, ConvAlgorithm::Auto);
  EXPECT_TRUE(same(a8, run(32, 8, ConvAlgorithm::Im2col)));
}


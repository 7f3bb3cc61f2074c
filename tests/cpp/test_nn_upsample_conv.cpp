// UpsampleConv2d: the phase-folded "nearest upsample x2, k x k stride-1 'same'
// conv" against the plain composition UpsampleNearest2d + Conv2d (same
// parameter names, values copied) and against the double-precision reference
// convolution (forward, dx, dW, dbias), every algorithm (separate and stacked
// phases; the stacked product as Winograd F(2x2, 3x3) for k = 3, 4, 5), for k = 1 .. 6 (the GAN decoder's 4 and 3 in every case), odd and
// even S and T including 1, channel counts from 1 past a 64-wide block,
// batches > 1, one and many chunks, 1 to 3 threads; the tap derivation; a
// finite-difference gradient check; Auto's choice; parameters and init equal
// to Conv2d's; the input gradient switched off; errors on bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/core/threads.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/gradcheck.hpp"
#include "partita/nn/upsample.hpp"
#include "partita/nn/upsample_conv.hpp"
#include "tensor_compare.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

using test::copy_of;
using test::max_rel_diff;

struct Case {
  std::int64_t n, s, t, cin, cout;
  std::int64_t budget = std::int64_t{1} << 20;  // column budget (1: the 512-pixel minimum)
};

std::string describe(const Case& c, int k, int threads) {
  return "k=" + std::to_string(k) + " n=" + std::to_string(c.n) + " s=" + std::to_string(c.s) +
         " t=" + std::to_string(c.t) + " cin=" + std::to_string(c.cin) +
         " cout=" + std::to_string(c.cout) + " budget=" + std::to_string(c.budget) +
         " threads=" + std::to_string(threads);
}

// The explicit algorithms for kernel k (Winograd where the phases' windows
// together are the centred 3x3 one: k = 3, 4, 5).
std::vector<UpsampleConvAlgorithm> algorithms(int k) {
  std::vector<UpsampleConvAlgorithm> a = {UpsampleConvAlgorithm::Phases, UpsampleConvAlgorithm::Stacked};
  if (k >= 3 && k <= 5) a.push_back(UpsampleConvAlgorithm::Winograd);
  return a;
}

const char* algorithm_name(UpsampleConvAlgorithm a) {
  return a == UpsampleConvAlgorithm::Phases     ? "phases"
         : a == UpsampleConvAlgorithm::Stacked  ? "stacked"
         : a == UpsampleConvAlgorithm::Winograd ? "winograd"
                                                : "auto";
}

// Everything the folded layer computes, for one case.
struct Result {
  Tensor y, dx, dw, dbias;
};

// values: the flat parameter buffer to copy in (else seed 7's).
Result run_folded(const Case& c, int k, UpsampleConvAlgorithm alg, const Tensor& x,
                  const Tensor& dy, bool input_grad = true, const Tensor* values = nullptr) {
  ParameterSet ps;
  UpsampleConv2d layer(ps, "conv", c.cin, c.cout, k, WeightInit::TorchDefault, c.budget);
  layer.set_algorithm(alg);
  layer.set_input_grad(input_grad);
  ps.allocate(7);
  if (values) ps.values().copy_from(*values);
  ps.zero_grad();
  Result r;
  r.y = copy_of(layer.forward(x));
  r.dx = copy_of(layer.backward(dy));
  r.dw = copy_of(layer.weight().grad);
  r.dbias = copy_of(layer.bias().grad);
  return r;
}

// Both algorithms against the plain composition (its parameters copied from
// the folded layer's by name) and against the double-precision reference.
void check_case(const Case& c, int k, int threads) {
  SCOPED_TRACE(describe(c, k, threads));
  const int saved = num_threads();
  set_num_threads(threads);
  Generator rng(11 + static_cast<std::uint64_t>(c.n * 7 + c.s * 3 + k));
  Tensor x({c.n, c.s, c.t, c.cin}), dy({c.n, 2 * c.s, 2 * c.t, c.cout});
  fill_uniform(x, rng);
  fill_uniform(dy, rng);

  ParameterSet pf;  // the folded layers' parameters, copied into each
  UpsampleConv2d source(pf, "conv", c.cin, c.cout, k, WeightInit::TorchDefault, c.budget);
  pf.allocate(5);
  ParameterSet pp;
  Conv2dSpec spec;
  spec.in_channels = c.cin;
  spec.out_channels = c.cout;
  spec.kernel_h = spec.kernel_w = k;
  spec.algorithm = ConvAlgorithm::Im2col;
  Conv2d conv(pp, "conv", spec);
  pp.allocate(99);  // other values, overwritten below
  pp.zero_grad();
  for (const char* name : {"conv.weight", "conv.bias"})
    pp.get(name).value.copy_from(pf.get(name).value);

  UpsampleNearest2d up(2);
  Tensor xu = copy_of(up.forward(x));
  Tensor y = copy_of(conv.forward(xu));
  Tensor dx_plain = copy_of(up.backward(conv.backward(dy)));

  // The double-precision reference convolution of the upsampled input.
  ConvGeometry geo = conv_geometry(xu.shape(), c.cin, c.cout, k, k, 1, 1, Padding::same(), "test");
  Tensor yref, dxuref, dwref(conv.weight().value.shape()), dbref({c.cout});
  conv2d_reference_forward(xu, conv.weight().value, &conv.bias()->value, geo, yref);
  conv2d_reference_backward(xu, conv.weight().value, dy, geo, dxuref, dwref, &dbref);
  Tensor dxref({c.n, c.s, c.t, c.cin});  // the 2x2 block sums of the upsampled gradient
  for (std::int64_t n = 0; n < c.n; ++n)
    for (std::int64_t i = 0; i < 2 * c.s; ++i)
      for (std::int64_t j = 0; j < 2 * c.t; ++j)
        for (std::int64_t ch = 0; ch < c.cin; ++ch)
          dxref[((n * c.s + i / 2) * c.t + j / 2) * c.cin + ch] +=
              dxuref[((n * 2 * c.s + i) * 2 * c.t + j) * c.cin + ch];

  for (UpsampleConvAlgorithm alg : algorithms(k)) {
    SCOPED_TRACE(algorithm_name(alg));
    Result f = run_folded(c, k, alg, x, dy, true, &pf.values());
    EXPECT_LT(max_rel_diff(f.y, y), 1e-5);
    EXPECT_LT(max_rel_diff(f.dx, dx_plain), 1e-5);
    EXPECT_LT(max_rel_diff(f.dw, conv.weight().grad), 1e-5);
    EXPECT_LT(max_rel_diff(f.dbias, conv.bias()->grad), 1e-5);
    EXPECT_LT(max_rel_diff(f.y, yref), 1e-5);
    EXPECT_LT(max_rel_diff(f.dx, dxref), 1e-5);
    EXPECT_LT(max_rel_diff(f.dw, dwref), 1e-5);
    EXPECT_LT(max_rel_diff(f.dbias, dbref), 1e-5);
    // Without the input gradient: no dx, the same parameter gradients.
    Result g = run_folded(c, k, alg, x, dy, false, &pf.values());
    EXPECT_EQ(g.dx.size(), 0);
    EXPECT_LT(max_rel_diff(g.dw, f.dw), 1e-6);
    EXPECT_LT(max_rel_diff(g.dbias, f.dbias), 1e-6);
  }
  set_num_threads(saved);
}

const Case kSmallCases[] = {
    {1, 1, 1, 1, 1},    // S = T = 1: most taps read padding
    {2, 2, 3, 3, 4},    // even S, odd T, batch 2
    {3, 1, 5, 2, 1},    // S = 1, Cout = 1
    {2, 5, 1, 4, 3},    // T = 1, odd S
    {2, 3, 4, 1, 5},    // Cin = 1
    {2, 4, 2, 70, 5},   // Cin past a 64-wide block
    {1, 2, 2, 5, 67},   // Cout past a 64-wide block
    {3, 3, 3, 6, 6},
};

}  // namespace

TEST(UpsampleConv2d, TapsMatchTheDerivation) {
  // k = 4, TensorFlow "same" 1/2: phase 0 reads low-res rows y-1 (tap 0), y
  // (taps 1, 2), y+1 (tap 3); phase 1 rows y (taps 0, 1) and y+1 (taps 2, 3).
  UpsampleConvTaps p0 = upsample_conv_taps(4, 0), p1 = upsample_conv_taps(4, 1);
  EXPECT_EQ(p0.offset, -1);
  EXPECT_EQ(p0.first, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(p0.last, (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(p1.offset, 0);
  EXPECT_EQ(p1.first, (std::vector<int>{0, 2}));
  EXPECT_EQ(p1.last, (std::vector<int>{1, 3}));
  // k = 3, "same" 1/1: the 3x3 case of UpConcatConv2d.
  p0 = upsample_conv_taps(3, 0);
  p1 = upsample_conv_taps(3, 1);
  EXPECT_EQ(p0.offset, -1);
  EXPECT_EQ(p0.first, (std::vector<int>{0, 1}));
  EXPECT_EQ(p0.last, (std::vector<int>{0, 2}));
  EXPECT_EQ(p1.offset, 0);
  EXPECT_EQ(p1.first, (std::vector<int>{0, 2}));
  EXPECT_EQ(p1.last, (std::vector<int>{1, 2}));
  // Every k: the taps partition 0 .. k-1 in order, and tap j of phase p reads
  // the low-res offset its upsampled row falls in: floor((p - pb + j) / 2).
  const double expected_taps[] = {1.0, 2.25, 4.0, 6.25, 9.0, 12.25, 16.0};  // k = 1 .. 7
  for (int k = 1; k <= 7; ++k) {
    const int pb = (k - 1) / 2;
    double taps = 0.0;
    for (int p = 0; p < 2; ++p) {
      UpsampleConvTaps tp = upsample_conv_taps(k, p);
      ASSERT_EQ(tp.first.size(), tp.last.size());
      int next = 0;
      for (int t = 0; t < tp.count(); ++t) {
        EXPECT_EQ(tp.first[t], next) << "k=" << k << " p=" << p;
        EXPECT_LE(tp.last[t] - tp.first[t], 1);
        for (int j = tp.first[t]; j <= tp.last[t]; ++j)
          EXPECT_EQ(static_cast<int>(std::floor((p - pb + j) / 2.0)), tp.offset + t)
              << "k=" << k << " p=" << p << " j=" << j;
        next = tp.last[t] + 1;
      }
      EXPECT_EQ(next, k);
      taps += tp.count();
    }
    EXPECT_DOUBLE_EQ(taps * taps / 4.0, expected_taps[k - 1]) << "k=" << k;
  }
  EXPECT_THROW(upsample_conv_taps(0, 0), InvalidArgument);
  EXPECT_THROW(upsample_conv_taps(4, 2), InvalidArgument);
}

TEST(UpsampleConv2d, MatchesUpsampleConvKernel4) {
  for (int threads : {1, 2})
    for (const Case& c : kSmallCases) check_case(c, 4, threads);
}

TEST(UpsampleConv2d, MatchesUpsampleConvKernel3) {
  for (int threads : {1, 2})
    for (const Case& c : kSmallCases) check_case(c, 3, threads);
}

TEST(UpsampleConv2d, MatchesUpsampleConvOtherKernels) {
  for (int k : {1, 2, 5, 6})
    for (int threads : {1, 2})
      for (const Case& c : {Case{1, 1, 1, 1, 1}, Case{2, 3, 2, 3, 4}, Case{2, 2, 5, 5, 2}})
        check_case(c, k, threads);
}

TEST(UpsampleConv2d, MatchesUpsampleConvAcrossChunks) {
  // Low-res rows per chunk: with budget 1, ceil(512 / T). With 2 or 3 threads
  // and many chunks, threads take whole chunks (even, then odd); with few,
  // (chunk, phase) items with per-thread copies of dx.
  for (int k : {4, 3}) {
    for (int threads : {1, 2, 3}) {
      check_case({8, 16, 16, 3, 4, 1}, k, threads);    // 32 rows a chunk: 4 chunks
      check_case({10, 16, 16, 5, 7, 1}, k, threads);   // 5 chunks
      check_case({5, 8, 16, 2, 3, 1}, k, threads);     // 40 rows: 2 chunks, the second short
      check_case({4, 16, 64, 3, 2, 1}, k, threads);    // 8 rows a chunk, 8 chunks
      check_case({3, 7, 128, 2, 3, 1}, k, threads);    // 4 rows a chunk, 6 chunks, one-row tail
      check_case({2, 9, 256, 1, 1, 1}, k, threads);    // 2 rows a chunk (the even/odd minimum)
      check_case({3, 301, 1, 2, 2, 1}, k, threads);    // T = 1: 512 rows a chunk, 2 chunks
    }
  }
}

TEST(UpsampleConv2d, OneAndTwoThreadsAgree) {
  for (int k : {4, 3}) {
    for (const Case& c : {Case{10, 16, 16, 5, 7, 1},   // 5 chunks: whole chunks per thread
                          Case{4, 4, 8, 24, 9}}) {     // 1 chunk: (chunk, product) items
      for (UpsampleConvAlgorithm alg : algorithms(k)) {
        SCOPED_TRACE(describe(c, k, 2) + " " + algorithm_name(alg));
        Generator rng(5);
        Tensor x({c.n, c.s, c.t, c.cin}), dy({c.n, 2 * c.s, 2 * c.t, c.cout});
        fill_uniform(x, rng);
        fill_uniform(dy, rng);
        const int saved = num_threads();
        set_num_threads(1);
        Result one = run_folded(c, k, alg, x, dy);
        set_num_threads(2);
        Result two = run_folded(c, k, alg, x, dy);
        set_num_threads(saved);
        // The forward computes every element as the sequential loop does.
        for (std::int64_t i = 0; i < one.y.size(); ++i) ASSERT_EQ(one.y[i], two.y[i]) << i;
        EXPECT_LT(max_rel_diff(two.dx, one.dx), 1e-6);
        EXPECT_LT(max_rel_diff(two.dw, one.dw), 1e-5);
        EXPECT_LT(max_rel_diff(two.dbias, one.dbias), 1e-6);
      }
    }
  }
}

TEST(UpsampleConv2d, FiniteDifferenceGradients) {
  for (int k : {4, 3}) {
    for (UpsampleConvAlgorithm alg : algorithms(k)) {
      SCOPED_TRACE("k=" + std::to_string(k) + " " + algorithm_name(alg));
      const int saved = num_threads();
      set_num_threads(1);  // hundreds of tiny forwards: no thread wake-ups
      ParameterSet ps;
      UpsampleConv2d layer(ps, "conv", 3, 2, k, WeightInit::TorchDefault);
      layer.set_algorithm(alg);
      ps.allocate(3);
      Generator rng(9);
      Tensor x({2, 2, 3, 3});
      fill_uniform(x, rng);
      Tensor r({2, 4, 6, 2});
      fill_uniform(r, rng);
      ps.zero_grad();
      layer.forward(x);
      Tensor dx = copy_of(layer.backward(r));
      std::vector<GradTarget> targets;
      targets.push_back({"x", &x, dx});
      targets.push_back({"weight", &layer.weight().value, copy_of(layer.weight().grad)});
      targets.push_back({"bias", &layer.bias().value, copy_of(layer.bias().grad)});
      GradcheckResult res =
          check_gradients([&] { return dot_double(layer.forward(x), r); }, targets);
      set_num_threads(saved);
      EXPECT_TRUE(res.ok) << res.report;
      EXPECT_EQ(res.checked, x.size() + k * k * 3 * 2 + 2);
    }
  }
}

TEST(UpsampleConv2d, AutoPicksWinogradOrStacksForFewOutputChannels) {
  // Stacked while 9 taps x (4 Cout rounded up to 32) cost less than the
  // phases' taps x (Cout rounded up to 32): Cout <= 16 for k = 4 (9 x 64 <
  // 25 x 32), Cout <= 8 for k = 3 (9 x 32 < 16 x 32).
  auto picked = [](std::int64_t cout, int k) {
    ParameterSet ps;
    return UpsampleConv2d(ps, "c", 8, cout, k).algorithm();
  };
  for (std::int64_t cout : {1, 4, 16}) EXPECT_EQ(picked(cout, 4), UpsampleConvAlgorithm::Stacked);
  for (std::int64_t cout : {17, 64, 256}) EXPECT_EQ(picked(cout, 4), UpsampleConvAlgorithm::Phases);
  for (std::int64_t cout : {1, 8}) EXPECT_EQ(picked(cout, 3), UpsampleConvAlgorithm::Stacked);
  for (std::int64_t cout : {9, 128}) EXPECT_EQ(picked(cout, 3), UpsampleConvAlgorithm::Phases);
  ParameterSet ps;
  UpsampleConv2d layer(ps, "c", 8, 4, 4);
  layer.set_algorithm(UpsampleConvAlgorithm::Phases);
  EXPECT_EQ(layer.algorithm(), UpsampleConvAlgorithm::Phases);
  layer.set_algorithm(UpsampleConvAlgorithm::Auto);
  EXPECT_EQ(layer.algorithm(), UpsampleConvAlgorithm::Stacked);
  // Winograd (the stacked product as F(2x2, 3x3)) where the phases' windows
  // together are the centred 3x3 window (k = 3, 4, 5) and Cin and 4 Cout >= 16.
  auto auto_for = [](std::int64_t cin, std::int64_t cout, int k) {
    ParameterSet p;
    return UpsampleConv2d(p, "c", cin, cout, k).algorithm();
  };
  for (int k : {3, 4, 5}) {
    EXPECT_EQ(auto_for(16, 4, k), UpsampleConvAlgorithm::Winograd) << k;
    EXPECT_EQ(auto_for(256, 128, k), UpsampleConvAlgorithm::Winograd) << k;
    EXPECT_NE(auto_for(15, 128, k), UpsampleConvAlgorithm::Winograd) << k;
    EXPECT_NE(auto_for(64, 3, k), UpsampleConvAlgorithm::Winograd) << k;
  }
  for (int k : {1, 2, 6}) {
    EXPECT_NE(auto_for(256, 128, k), UpsampleConvAlgorithm::Winograd) << k;
    ParameterSet p;
    UpsampleConv2d l(p, "c", 32, 32, k);
    EXPECT_THROW(l.set_algorithm(UpsampleConvAlgorithm::Winograd), InvalidArgument) << k;
  }
  // A backward needs a forward with the algorithm it runs.
  ps.allocate(1);
  Tensor x({1, 2, 2, 8});
  layer.forward(x);
  layer.set_algorithm(UpsampleConvAlgorithm::Phases);
  EXPECT_THROW(layer.backward(Tensor({1, 4, 4, 4})), InvalidArgument);
}

TEST(UpsampleConv2d, ParametersAndInitAreConv2ds) {
  for (WeightInit init :
       {WeightInit::GlorotUniform, WeightInit::HeNormal, WeightInit::TorchDefault}) {
    for (int k : {4, 3}) {
      ParameterSet p1, p2, p3;
      UpsampleConv2d layer(p1, "dec.0.conv", 6, 5, k, init);
      Conv2dSpec spec;
      spec.in_channels = 6;
      spec.out_channels = 5;
      spec.kernel_h = spec.kernel_w = k;
      spec.init = init;
      Conv2d conv(p2, "dec.0.conv", spec);
      p1.allocate(42);
      p2.allocate(42);
      ASSERT_EQ(p1.params().size(), p2.params().size());
      for (size_t i = 0; i < p1.params().size(); ++i) {
        const Parameter& a = p1.params()[i];
        const Parameter& b = p2.params()[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.value.shape(), b.value.shape());
        EXPECT_EQ(a.layout, b.layout);
        for (std::int64_t j = 0; j < a.value.size(); ++j) ASSERT_EQ(a.value[j], b.value[j]);
      }
      EXPECT_EQ(layer.weight().value.shape(), (Shape{k, k, 6, 5}));
      if (init == WeightInit::GlorotUniform) {
        // The default init is Conv2d's default (square-kernel constructor).
        UpsampleConv2d dflt(p3, "dec.0.conv", 6, 5, k);
        p3.allocate(42);
        for (std::int64_t j = 0; j < p3.size(); ++j) ASSERT_EQ(p3.values()[j], p2.values()[j]);
      }
    }
  }
}

TEST(UpsampleConv2d, OutputShapeAndAccessors) {
  ParameterSet ps;
  UpsampleConv2d layer(ps, "c", 8, 3, 4);
  EXPECT_EQ(layer.output_shape({2, 5, 7, 8}), (Shape{2, 10, 14, 3}));
  EXPECT_EQ(layer.in_channels(), 8);
  EXPECT_EQ(layer.out_channels(), 3);
  EXPECT_EQ(layer.kernel(), 4);
  EXPECT_THROW(layer.output_shape({2, 5, 7, 4}), ShapeError);
}

TEST(UpsampleConv2d, RejectsBadInput) {
  EXPECT_THROW(UpsampleConv2d(*std::make_unique<ParameterSet>(), "c", 0, 2, 4), InvalidArgument);
  EXPECT_THROW(UpsampleConv2d(*std::make_unique<ParameterSet>(), "c", 2, 0, 4), InvalidArgument);
  EXPECT_THROW(UpsampleConv2d(*std::make_unique<ParameterSet>(), "c", 2, 2, 0), InvalidArgument);
  EXPECT_THROW(UpsampleConv2d(*std::make_unique<ParameterSet>(), "c", 2, 2, 4,
                              WeightInit::GlorotUniform, 0),
               InvalidArgument);
  ParameterSet ps;
  UpsampleConv2d layer(ps, "c", 2, 3, 4);
  Tensor x({1, 2, 2, 2});
  x.fill(0.5f);
  EXPECT_THROW(layer.forward(x), InvalidArgument);  // not allocated
  ps.allocate(1);
  EXPECT_THROW(layer.backward(Tensor({1, 4, 4, 3})), InvalidArgument);  // before forward
  EXPECT_THROW(layer.forward(Tensor({1, 2, 2, 3})), ShapeError);        // channels
  EXPECT_THROW(layer.forward(Tensor({2, 2, 2})), ShapeError);           // rank
  EXPECT_THROW(layer.forward(Tensor({1, 0, 2, 2})), ShapeError);        // empty image
  layer.forward(x);
  EXPECT_THROW(layer.backward(Tensor({1, 4, 4, 2})), ShapeError);  // dy's channels
  EXPECT_THROW(layer.backward(Tensor({1, 2, 2, 3})), ShapeError);  // dy not upsampled
  try {
    layer.forward(Tensor({1, 2, 2, 3}));
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("UpsampleConv2d::forward(c)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(N, S, T, 2)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(1, 2, 2, 3)"), std::string::npos) << msg;
  }
}

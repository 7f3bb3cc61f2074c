// The batch-1 inference convolution (src/nn/infer_conv.cpp) at every SIMD
// level this CPU has, forced in turn: run_conv gives the plain loop's bits
// (the same fused multiply-adds in the same order) for each column-block width,
// with border-class biases and with a cached init, and each epilogue (none,
// ReLU, LeakyReLU, LeakyReLU then a per-channel affine map, ReLU then the map),
// reading every pixel (stride 1) or every other one (stride 2, the GAN's encoder);
// and its bfloat16 form (src/nn/infer_conv_bf16.cpp) against its plain loop.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nn/infer_conv.hpp"
#include "partita/core/random.hpp"
#include "simd_levels.hpp"

namespace partita {
namespace {

TEST(InferConvLevels, EveryLevelMatchesThePlainLoopBitForBit) {
  Generator g(3);
  for (int nb : {1, 2, 4}) {
    const std::int64_t h = 4, w = 29, cin = 5, cout = 16 * nb * 2;
    std::vector<float> in(static_cast<size_t>((h + 2) * (w + 2) * cin)),
        init(static_cast<size_t>(h * w * cout)), bias(static_cast<size_t>(16 * cout)),
        seg(static_cast<size_t>(9 * cin * cout)), scale(static_cast<size_t>(cout)), shift(scale.size());
    for (auto* v : {&in, &init, &bias, &seg, &scale, &shift})
      for (float& f : *v) f = static_cast<float>(g.uniform() - 0.5);
    const std::vector<float> pack = nn::infer::pack_weights({seg}, cout, nb);
    for (int stride : {1, 2})
      for (bool cached : {false, true})
        for (int epilogue = 0; epilogue < 5; ++epilogue) {
          const std::int64_t wo = stride == 1 ? w : (w - 1) / 2;  // 9 * cin floats stay inside the row
          nn::infer::ConvJob j;
          j.nseg = 1;
          j.base[0] = in.data();
          j.row[0] = (w + 2) * cin;
          j.lda[0] = stride * cin;
          j.k[0] = 9 * cin;  // reads 9 * cin floats from each pixel: past the row, as a 3x3 im2col would
          j.height = h, j.width = wo, j.cout = cout, j.nb = nb, j.wpack = pack.data();
          j.out_row = wo * cout, j.out_ld = cout;
          j.relu = epilogue == 1 || epilogue == 4;
          j.leaky = epilogue == 2 || epilogue == 3, j.slope = 0.2f;
          if (epilogue >= 3) j.post_scale = scale.data(), j.post_shift = shift.data();
          if (cached) j.init_base = init.data(), j.init_row = wo * cout, j.init_ld = cout;
          else j.bias_classes = bias.data();
          std::vector<float> want(static_cast<size_t>(h * wo * cout), -1.0f);
          j.out = want.data();
          nn::infer::run_conv_reference(j, 0, h, 0, wo, 0, j.blocks());
          std::int64_t negative = 0;
          for (float v : want) negative += v < 0.0f;
          if (epilogue == 1) EXPECT_EQ(negative, 0);
          else EXPECT_GT(negative, 0);  // LeakyReLU keeps (scaled) negative values
          for (SimdLevel level : available_simd_levels()) {
            ScopedSimdLevel scope(level);
            EXPECT_EQ(nn::infer::simd_kernel_available(), level >= SimdLevel::Avx2);
            std::vector<float> got(want.size(), -1.0f);
            j.out = got.data();
            nn::infer::run_conv(j, 0, h, 0, wo, 0, j.blocks());
            for (size_t i = 0; i < got.size(); ++i)
              ASSERT_EQ(got[i], want[i]) << simd_level_name(level) << " nb " << nb << " stride " << stride
                                         << " epilogue " << epilogue << " i " << i;
          }
        }
  }
}

TEST(InferConvBf16, MatchesThePlainLoopUpToSummationOrder) {
  if (!nn::infer::bf16_kernel_available()) GTEST_SKIP() << "no AVX512_BF16 at the SIMD level in use";
  using nn::infer::from_bf16;
  using nn::infer::to_bf16;
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(from_bf16(to_bf16(1.00390625f)), 1.0f);  // halfway: to even
  EXPECT_EQ(from_bf16(to_bf16(1.01171875f)), 1.015625f);
  Generator g(5);
  for (int nb : {1, 2, 4}) {
    const std::int64_t h = 3, w = 29, cin = 6, cout = 16 * nb * 2, kt = 2 * 3 * cin;
    std::vector<std::uint16_t> in(static_cast<size_t>((h + 2) * (w + 2) * cin));
    for (auto& v : in) v = to_bf16(static_cast<float>(g.uniform() - 0.5));
    std::vector<float> seg0(static_cast<size_t>(3 * cin * cout)), seg1(seg0.size()), bias(static_cast<size_t>(16 * cout)),
        scale(static_cast<size_t>(cout)), shift(scale.size());
    for (auto* v : {&seg0, &seg1, &bias, &scale, &shift})
      for (float& f : *v) f = static_cast<float>(g.uniform() - 0.5);
    const std::vector<std::uint16_t> pack =
        nn::infer::pack_weights_bf16(nn::infer::pack_weights({seg0, seg1}, cout, nb), kt, cout, nb);
    for (int stride : {1, 2})
      for (int epilogue = 0; epilogue < 4; ++epilogue)
        for (bool wide : {false, true}) {
          const std::int64_t wo = stride == 1 ? w - 2 : (w - 2) / 2;
          nn::infer::ConvJobBf16 j;
          j.nseg = 2;  // two rows of 3 pixels
          for (int r = 0; r < 2; ++r) {
            j.base[r] = in.data() + r * (w + 2) * cin;
            j.row[r] = (w + 2) * cin;
            j.lda[r] = stride * cin;
            j.k[r] = 3 * cin;
          }
          j.height = h, j.width = wo, j.cout = cout, j.nb = nb, j.wpack = pack.data(), j.bias_classes = bias.data();
          j.out_row = wo * cout, j.out_ld = cout;
          j.relu = epilogue == 1, j.leaky = epilogue >= 2, j.slope = 0.2f;
          if (epilogue == 3) j.post_scale = scale.data(), j.post_shift = shift.data();
          const size_t n = static_cast<size_t>(h * wo * cout);
          std::vector<float> want32(n, -7.0f), got32(n, -7.0f);
          std::vector<std::uint16_t> want16(n, 0), got16(n, 0);
          if (wide) j.out32 = want32.data(); else j.out16 = want16.data();
          nn::infer::run_conv_bf16_reference(j, 0, h, 0, wo, 0, j.blocks());
          if (wide) j.out32 = got32.data(); else j.out16 = got16.data();
          nn::infer::run_conv_bf16(j, 0, h, 0, wo, 0, j.blocks());
          for (size_t i = 0; i < n; ++i) {
            const float a = wide ? want32[i] : from_bf16(want16[i]), b = wide ? got32[i] : from_bf16(got16[i]);
            // float32 sums of 36 products below 0.25 each: order changes them by ~1e-6;
            // a bfloat16 output may then round to the neighbouring value (2^-8 relative).
            ASSERT_NEAR(a, b, wide ? 1e-5 : 1e-5 + std::fabs(a) / 128.0)
                << "nb " << nb << " stride " << stride << " epilogue " << epilogue << " i " << i;
          }
          std::int64_t negative = 0;
          for (size_t i = 0; i < n; ++i) negative += (wide ? got32[i] : from_bf16(got16[i])) < 0.0f;
          EXPECT_EQ(negative == 0, epilogue == 1);
        }
  }
}

// A 3x3 "same" convolution, one segment per kernel row, over a grid of h rows
// between padding rows that hold NaN: with each segment restricted to the
// output rows whose input row is real (y_from / y_to), no kernel reads the
// padding, and the result equals the same job over zero padding without the
// restriction, bit for bit (float32) or up to summation order (bfloat16).
TEST(InferConvLevels, SkippedPaddingRowsAreNeverReadAndChangeNothing) {
  Generator g(11);
  for (std::int64_t h : {1, 2, 3, 5})
    for (int nb : {1, 2})
    for (std::int64_t w : {7, 13}) {  // narrow grids take tiles of two rows at the AVX2 level
      const std::int64_t cin = 4, cout = 16 * nb, row = (w + 2) * cin;
      std::vector<float> zero_pad(static_cast<size_t>((h + 2) * row), 0.0f), bias(static_cast<size_t>(16 * cout));
      std::vector<std::vector<float>> seg(3, std::vector<float>(static_cast<size_t>(3 * cin * cout)));
      for (std::int64_t y = 1; y <= h; ++y)
        for (std::int64_t i = cin; i < row - cin; ++i) zero_pad[static_cast<size_t>(y * row + i)] = static_cast<float>(g.uniform() - 0.5);
      for (auto& sg : seg)
        for (float& f : sg) f = static_cast<float>(g.uniform() - 0.5);
      for (float& f : bias) f = static_cast<float>(g.uniform() - 0.5);
      std::vector<float> nan_pad = zero_pad;
      for (std::int64_t i = 0; i < row; ++i)
        nan_pad[static_cast<size_t>(i)] = nan_pad[static_cast<size_t>((h + 1) * row + i)] = std::nanf("");
      const std::vector<float> pack = nn::infer::pack_weights(seg, cout, nb);
      auto job = [&](const std::vector<float>& in, bool restrict_rows) {
        nn::infer::ConvJob j;
        j.nseg = 3;
        for (int ky = 0; ky < 3; ++ky) {
          j.base[ky] = in.data() + ky * row;
          j.row[ky] = row, j.lda[ky] = cin, j.k[ky] = 3 * cin;
          if (restrict_rows) j.y_from[ky] = ky == 0 ? 1 : 0, j.y_to[ky] = ky == 2 ? h - 1 : h;
        }
        j.height = h, j.width = w, j.cout = cout, j.nb = nb, j.wpack = pack.data(), j.bias_classes = bias.data();
        j.out_row = w * cout, j.out_ld = cout;  // no epilogue: a ReLU could hide a NaN
        return j;
      };
      const size_t n = static_cast<size_t>(h * w * cout);
      std::vector<float> want(n, -1.0f);
      nn::infer::ConvJob full = job(zero_pad, false);
      full.out = want.data();
      nn::infer::run_conv_reference(full, 0, h, 0, w, 0, full.blocks());
      nn::infer::ConvJob skip = job(nan_pad, true);
      std::vector<float> got(n, -1.0f);
      skip.out = got.data();
      nn::infer::run_conv_reference(skip, 0, h, 0, w, 0, skip.blocks());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << "plain loop, h " << h << " nb " << nb << " i " << i;
      for (SimdLevel level : available_simd_levels()) {
        ScopedSimdLevel scope(level);
        std::fill(got.begin(), got.end(), -1.0f);
        nn::infer::run_conv(skip, 0, h, 0, w, 0, skip.blocks());
        for (size_t i = 0; i < n; ++i)
          ASSERT_EQ(got[i], want[i]) << simd_level_name(level) << " h " << h << " nb " << nb << " i " << i;
        // Without the restriction the NaN rows reach the result (the check can fail).
        nn::infer::ConvJob unrestricted = job(nan_pad, false);
        unrestricted.out = got.data();
        nn::infer::run_conv(unrestricted, 0, h, 0, w, 0, unrestricted.blocks());
        EXPECT_TRUE(std::isnan(got[0]));
      }
      if (!nn::infer::bf16_kernel_available()) continue;
      using nn::infer::to_bf16;
      std::vector<std::uint16_t> nan16(nan_pad.size());
      for (size_t i = 0; i < nan16.size(); ++i) nan16[i] = to_bf16(nan_pad[i]);
      std::vector<std::uint16_t> zero16(zero_pad.size());
      for (size_t i = 0; i < zero16.size(); ++i) zero16[i] = to_bf16(zero_pad[i]);
      const std::vector<std::uint16_t> pack16 = nn::infer::pack_weights_bf16(pack, 9 * cin, cout, nb);
      auto job16 = [&](const std::vector<std::uint16_t>& in, bool restrict_rows, float* out) {
        nn::infer::ConvJobBf16 j;
        static_cast<nn::infer::ConvShape&>(j) = job(zero_pad, restrict_rows);
        for (int ky = 0; ky < 3; ++ky) j.base[ky] = in.data() + ky * row;
        j.wpack = pack16.data(), j.out32 = out;
        return j;
      };
      std::vector<float> want16(n, -1.0f), got16(n, -1.0f);
      nn::infer::run_conv_bf16_reference(job16(zero16, false, want16.data()), 0, h, 0, w, 0, full.blocks());
      nn::infer::run_conv_bf16(job16(nan16, true, got16.data()), 0, h, 0, w, 0, full.blocks());
      for (size_t i = 0; i < n; ++i) ASSERT_NEAR(got16[i], want16[i], 1e-5) << "bfloat16 h " << h << " nb " << nb << " i " << i;
      nn::infer::run_conv_bf16_reference(job16(nan16, true, got16.data()), 0, h, 0, w, 0, full.blocks());
      for (size_t i = 0; i < n; ++i) ASSERT_NEAR(got16[i], want16[i], 1e-5) << "bfloat16 plain h " << h << " i " << i;
    }
}

// A large k (6300 packed rows: several chunks of k, boundaries inside the
// segments) and a grid wide enough that the partial sums are kept for groups
// of rows: the chunked kernels give the plain loop's bits at every level (and
// the bfloat16 kernel its plain loop's values up to summation order), with and
// without rows skipped.
TEST(InferConvLevels, ChunksOfLargeKGiveThePlainLoopsBits) {
  Generator g(17);
  const std::int64_t cin = 700, cout = 16, kt = 9 * cin;
  std::vector<std::vector<float>> seg(3, std::vector<float>(static_cast<size_t>(3 * cin * cout)));
  for (auto& sg : seg)
    for (float& f : sg) f = static_cast<float>(g.uniform() - 0.5);
  std::vector<float> bias(static_cast<size_t>(16 * cout));
  for (float& f : bias) f = static_cast<float>(g.uniform() - 0.5);
  const std::vector<float> pack = nn::infer::pack_weights(seg, cout, 1);
  for (std::int64_t h : {2, 35}) {
    const std::int64_t w = h == 2 ? 9 : 33, row = (w + 2) * cin;
    std::vector<float> in(static_cast<size_t>((h + 2) * row), 0.0f);
    for (std::int64_t y = 1; y <= h; ++y)
      for (std::int64_t i = cin; i < row - cin; ++i) in[static_cast<size_t>(y * row + i)] = static_cast<float>(g.uniform() - 0.5);
    for (bool restrict_rows : {false, true}) {
      nn::infer::ConvJob j;
      j.nseg = 3;
      for (int ky = 0; ky < 3; ++ky) {
        j.base[ky] = in.data() + ky * row;
        j.row[ky] = row, j.lda[ky] = cin, j.k[ky] = 3 * cin;
        if (restrict_rows) j.y_from[ky] = ky == 0 ? 1 : 0, j.y_to[ky] = ky == 2 ? h - 1 : h;
      }
      j.height = h, j.width = w, j.cout = cout, j.nb = 1, j.wpack = pack.data(), j.bias_classes = bias.data();
      j.out_row = w * cout, j.out_ld = cout, j.leaky = true, j.slope = 0.2f;
      const size_t n = static_cast<size_t>(h * w * cout);
      std::vector<float> want(n, -1.0f), got(n, -1.0f);
      j.out = want.data();
      nn::infer::run_conv_reference(j, 0, h, 0, w, 0, 1);
      j.out = got.data();
      for (SimdLevel level : available_simd_levels()) {
        ScopedSimdLevel scope(level);
        std::fill(got.begin(), got.end(), -1.0f);
        nn::infer::run_conv(j, 0, h, 0, w, 0, 1);
        for (size_t i = 0; i < n; ++i)
          ASSERT_EQ(got[i], want[i]) << simd_level_name(level) << " h " << h << " restrict " << restrict_rows << " i " << i;
        // a sub-rectangle alone gives the same bits
        std::fill(got.begin(), got.end(), -1.0f);
        nn::infer::run_conv(j, h - 1, h, 2, w - 1, 0, 1);
        for (std::int64_t x = 2; x < w - 1; ++x)
          for (std::int64_t o = 0; o < cout; ++o) {
            const size_t i = static_cast<size_t>(((h - 1) * w + x) * cout + o);
            ASSERT_EQ(got[i], want[i]) << simd_level_name(level) << " sub-rectangle x " << x;
          }
      }
      if (!nn::infer::bf16_kernel_available()) continue;
      std::vector<std::uint16_t> in16(in.size());
      for (size_t i = 0; i < in.size(); ++i) in16[i] = nn::infer::to_bf16(in[i]);
      const std::vector<std::uint16_t> pack16 = nn::infer::pack_weights_bf16(pack, kt, cout, 1);
      nn::infer::ConvJobBf16 j16;
      static_cast<nn::infer::ConvShape&>(j16) = j;
      for (int ky = 0; ky < 3; ++ky) j16.base[ky] = in16.data() + ky * row;
      j16.wpack = pack16.data();
      std::vector<float> want16(n), got16(n);
      j16.out32 = want16.data();
      nn::infer::run_conv_bf16_reference(j16, 0, h, 0, w, 0, 1);
      j16.out32 = got16.data();
      nn::infer::run_conv_bf16(j16, 0, h, 0, w, 0, 1);
      for (size_t i = 0; i < n; ++i) ASSERT_NEAR(got16[i], want16[i], 2e-4 * (1.0 + std::fabs(want16[i]))) << "bfloat16 h " << h << " i " << i;
    }
  }
}

}  // namespace
}  // namespace partita

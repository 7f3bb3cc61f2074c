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

}  // namespace
}  // namespace partita

// The AR-CNN inference convolution (src/nn/infer_conv.cpp) at every SIMD
// level this CPU has, forced in turn: run_conv gives the plain loop's bits
// (the same fused multiply-adds in the same order) for each column-block width,
// with border-class biases and with a cached init, and each epilogue (none,
// ReLU, LeakyReLU, LeakyReLU then a per-channel affine map, ReLU then the map),
// reading every pixel (stride 1) or every other one (stride 2, the GAN's encoder).
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace partita

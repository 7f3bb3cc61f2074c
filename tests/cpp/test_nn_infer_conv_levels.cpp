// The AR-CNN inference convolution (src/nn/infer_conv.cpp) at every SIMD
// level this CPU has, forced in turn: run_conv gives the plain loop's bits
// (the same fused multiply-adds in the same order) for each column-block width,
// with border-class biases and with a cached init plus ReLU.
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
        seg(static_cast<size_t>(9 * cin * cout));
    for (auto* v : {&in, &init, &bias, &seg})
      for (float& f : *v) f = static_cast<float>(g.uniform() - 0.5);
    const std::vector<float> pack = nn::infer::pack_weights({seg}, cout, nb);
    for (bool cached : {false, true}) {
      nn::infer::ConvJob j;
      j.nseg = 1;
      j.base[0] = in.data();
      j.row[0] = (w + 2) * cin;
      j.lda[0] = cin;
      j.k[0] = 9 * cin;  // reads 9 * cin floats from each pixel: past the row, as a 3x3 im2col would
      j.height = h, j.width = w, j.cout = cout, j.nb = nb, j.wpack = pack.data();
      j.out_row = w * cout, j.out_ld = cout, j.relu = cached;
      if (cached) j.init_base = init.data(), j.init_row = w * cout, j.init_ld = cout;
      else j.bias_classes = bias.data();
      std::vector<float> want(static_cast<size_t>(h * w * cout), -1.0f);
      j.out = want.data();
      nn::infer::run_conv_reference(j, 0, h, 0, w, 0, j.blocks());
      for (SimdLevel level : available_simd_levels()) {
        ScopedSimdLevel scope(level);
        EXPECT_EQ(nn::infer::simd_kernel_available(), level >= SimdLevel::Avx2);
        std::vector<float> got(want.size(), -1.0f);
        j.out = got.data();
        nn::infer::run_conv(j, 0, h, 0, w, 0, j.blocks());
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_EQ(got[i], want[i]) << simd_level_name(level) << " nb " << nb << " i " << i;
      }
    }
  }
}

}  // namespace
}  // namespace partita

// Adam's update at every SIMD level this CPU has (forced in turn): the same
// values as the generic level, over a tensor long enough for the 4096-element
// blocks and with a tail no vector width divides, for Adam, Adam with L2
// decay and AdamW, and both branches of the first-moment update.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/optim/adam.hpp"
#include "simd_levels.hpp"

namespace partita {
namespace {

// Values after `steps` steps from fixed values and gradients.
std::vector<float> run(const optim::AdamOptions& o, int steps) {
  nn::ParameterSet ps;
  ps.add("w", Shape{9001}, nn::init_zeros());
  ps.add("b", Shape{13}, nn::init_zeros());
  ps.allocate(0);
  Generator gen(5);
  float* x = ps.values().data();
  for (std::int64_t i = 0; i < ps.size(); ++i) x[i] = static_cast<float>(gen.uniform() - 0.5);
  optim::Adam adam(ps, o);
  for (int s = 0; s < steps; ++s) {
    float* g = ps.grads().data();
    for (std::int64_t i = 0; i < ps.size(); ++i) g[i] = static_cast<float>(gen.uniform() - 0.5) * 1e-2f;
    adam.step();
  }
  return std::vector<float>(x, x + ps.size());
}

TEST(AdamLevels, EveryLevelMatchesTheGenericUpdate) {
  std::vector<optim::AdamOptions> configs(4);
  configs[1].weight_decay = 0.1;                            // L2 into the gradient
  configs[2] = optim::AdamOptions::adamw(1e-3, 0.05);       // decoupled
  configs[3].beta1 = 0.3;                                   // 1 - beta1 >= 0.5: the other lerp branch
  for (std::size_t c = 0; c < configs.size(); ++c) {
    std::vector<float> want;
    {
      ScopedSimdLevel scope(SimdLevel::Generic);
      want = run(configs[c], 4);
    }
    for (SimdLevel level : available_simd_levels()) {
      ScopedSimdLevel scope(level);
      const std::vector<float> got = run(configs[c], 4);
      ASSERT_EQ(got.size(), want.size());
      // the value update is exactly rounded at every level; the moments may
      // use fused multiply-adds where the level has them
      for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-6f * (1.0f + std::fabs(want[i])))
            << simd_level_name(level) << " config " << c << " element " << i;
    }
  }
}

}  // namespace
}  // namespace partita

// exp_inplace per SIMD level: the branch-free loop of fast_exp.hpp inlined into
// a function targeted at each level and dispatched on partita::simd_level().
// The attention softmax spends most of its non-product time here: compiled
// only for the x86-64 baseline (4 lanes, no FMA) a Transformer-XL layer's
// forward and backward took about 19 % longer than with -march=native.
#include "fast_exp.hpp"

#include "core/simd_target.hpp"
#include "partita/core/cpu.hpp"

namespace partita::nn::detail {

namespace {
void exp_generic(float* x, std::int64_t n) { exp_inplace_body(x, n); }
#if PARTITA_SIMD_X86
PARTITA_TARGET_AVX2 void exp_avx2(float* x, std::int64_t n) { exp_inplace_body(x, n); }
PARTITA_TARGET_AVX512 void exp_avx512(float* x, std::int64_t n) { exp_inplace_body(x, n); }
#endif
}  // namespace

void exp_inplace(float* x, std::int64_t n) {
#if PARTITA_SIMD_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return exp_avx512(x, n);
    case SimdLevel::Avx2: return exp_avx2(x, n);
    case SimdLevel::Generic: break;
  }
#endif
  exp_generic(x, n);
}

}  // namespace partita::nn::detail

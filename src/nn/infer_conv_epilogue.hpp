// The epilogue of the batch-1 inference convolutions (private to src/nn:
// infer_conv.cpp and infer_conv_bf16.cpp), one definition for the float32 and
// bfloat16 kernels: after the sums and the init, ReLU or LeakyReLU, then the
// optional per-channel affine map (ConvShape's comment says what each field does).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/simd_target.hpp"
#include "nn/infer_conv.hpp"

#if PARTITA_SIMD_X86
#include <immintrin.h>
#endif

namespace partita::nn::infer {

/// One output value v of output channel o (the plain loops).
inline float epilogue(const ConvShape& j, float v, std::int64_t o) {
  if (j.relu) v = v < 0.0f ? 0.0f : v;
  else if (j.leaky) v = v < 0.0f ? v * j.slope : v;
  if (j.post_scale) v = std::fma(v, j.post_scale[o], j.post_shift[o]);
  return v;
}

#if PARTITA_SIMD_X86
/// 16 outputs of channels col .. col + 15 (the AVX-512 kernels; the same operations
/// as epilogue(), lane by lane).
PARTITA_TARGET_AVX512 PARTITA_INLINE_BODY __m512 epilogue_avx512(const ConvShape& j, __m512 r, std::int64_t col) {
  const __m512 zero = _mm512_setzero_ps();
  if (j.relu) r = _mm512_max_ps(r, zero);
  else if (j.leaky) r = _mm512_mask_mul_ps(r, _mm512_cmp_ps_mask(r, zero, _CMP_LT_OQ), r, _mm512_set1_ps(j.slope));
  if (j.post_scale) r = _mm512_fmadd_ps(r, _mm512_loadu_ps(j.post_scale + col), _mm512_loadu_ps(j.post_shift + col));
  return r;
}
#endif

}  // namespace partita::nn::infer

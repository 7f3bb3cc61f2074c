// What the batch-1 inference convolutions' kernels share (private to src/nn:
// infer_conv.cpp and infer_conv_bf16.cpp), one definition for the float32 and
// bfloat16 kernels: the epilogue (after the sums and the init, ReLU or
// LeakyReLU, then the optional per-channel affine map; ConvShape's comment says
// what each field does) and the walk over a column block in chunks of k.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

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

/// How many bytes of packed weights a chunk of k holds: the chunk stays in
/// cache while every tile of the rows in hand reads it. Without chunks a tile
/// streams its block's whole k x 16 nb weights, and a layer with a large k (a
/// 3x3 window over 1024 channels: 1.2 MB a block) streams them from memory
/// once per tile, not once per block. The AVX2 kernel reads a weight vector
/// for every 6 broadcasts and keeps its chunk in L1 (16 KB); the AVX-512
/// kernels read one for every 12-16 and take chunks in L2.
constexpr std::int64_t kChunkBytesL1 = 16 * 1024;
constexpr std::int64_t kChunkBytesL2 = 96 * 1024;
/// At most this many partial sums (floats) are kept between chunks; more rows
/// are taken in groups.
constexpr std::int64_t kMaxPartials = 16 * 1024;

/// Walk output rows [y0, y1) x columns [x0, x1) of one column block in tiles
/// and chunks of k. A tile is one row of at most P pixels (next_tile) or, with
/// `pairs`, two rows of at most P pixels each (a last odd row alone). For each
/// chunk in order, tile(y, x, rows, n, k0, k1, part, part_row, first, last)
/// adds the products of packed rows [k0, k1) of the tile's pixels (rows x n
/// from (y, x)) to sums that start at zero (first) or at part's (pixel stride
/// `lanes` floats, row stride part_row), then stores them to part or, at the
/// last chunk, finishes them into the output. Every output gets the same
/// operations in the same order as in one pass over k: the result is the
/// same bit for bit. `row_bytes` is the size of one packed row of the block;
/// `kstep` the granularity of chunk boundaries (2 for bfloat16 pairs).
template <class Tile>
void for_tiles_in_chunks(std::int64_t kt, std::int64_t row_bytes, std::int64_t kstep, std::int64_t lanes,
                         std::int64_t chunk_bytes, int P, bool pairs, std::int64_t y0, std::int64_t y1,
                         std::int64_t x0, std::int64_t x1, Tile&& tile) {
  const std::int64_t width = x1 - x0;
  auto walk = [&](std::int64_t ya, std::int64_t yb, std::int64_t k0, std::int64_t k1, float* part) {
    for (std::int64_t y = ya; y < yb;) {
      const int rows = pairs && y + 1 < yb ? 2 : 1;
      for (std::int64_t x = x0; x < x1;) {
        const int n = next_tile(x1 - x, P);
        tile(y, x, rows, n, k0, k1, part ? part + ((y - ya) * width + (x - x0)) * lanes : nullptr,
             width * lanes, k0 == 0, k1 == kt);
        x += n;
      }
      y += rows;
    }
  };
  std::int64_t kc = std::max<std::int64_t>(kstep, chunk_bytes / row_bytes / kstep * kstep);
  if (kc >= kt) {
    walk(y0, y1, 0, kt, nullptr);
    return;
  }
  // Equal chunks (a short last chunk reads its weights for nothing else).
  const std::int64_t nchunks = (kt + kc - 1) / kc;
  kc = ((kt + nchunks - 1) / nchunks + kstep - 1) / kstep * kstep;
  std::int64_t group = std::max<std::int64_t>(1, kMaxPartials / (width * lanes));
  if (pairs && group > 1) group -= group % 2;  // keep row pairs within a group
  thread_local std::vector<float> partials;
  const std::size_t need = static_cast<std::size_t>(std::min(group, y1 - y0) * width * lanes);
  if (partials.size() < need) partials.resize(need);
  for (std::int64_t ya = y0; ya < y1; ya += group) {
    const std::int64_t yb = std::min(y1, ya + group);
    for (std::int64_t k0 = 0; k0 < kt; k0 += kc) walk(ya, yb, k0, std::min(kt, k0 + kc), partials.data());
  }
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

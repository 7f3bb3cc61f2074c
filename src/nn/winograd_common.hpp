// What the Winograd convolutions (winograd.cpp's F(2x2, 3x3), winograd_s2.cpp's
// F(2x2, 2x2) on parity streams) share: the chunk layout of transformed tiles
// and the threading helpers of their drivers. Private to src/nn.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include <omp.h>

namespace partita::nn::detail::wino {

using i64 = std::int64_t;

constexpr int kCB = 64;  // channels per block in the tile transforms (stays in L1)
alignas(64) inline const float kZeros[kCB] = {};

// Where a chunk's transformed tiles live: matrix k of a chunk holding `tiles`
// tiles of C channels starts at k * tiles * C; tile t's row at t * C.
struct ChunkLayout {
  i64 th, tw;   // tiles per image column / row
  i64 q0;       // first tile row (n * th + ty) of the chunk
  i64 tiles;    // tiles in the chunk
};

// fn(e0, e1) over [0, E) in blocks, threaded when there are enough.
template <class Fn>
void for_blocks(i64 E, Fn&& fn) {
  constexpr i64 kBlock = 1024;
  const i64 blocks = (E + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (blocks > 4)
  for (i64 bk = 0; bk < blocks; ++bk) fn(bk * kBlock, std::min(E, (bk + 1) * kBlock));
}

// fn(k) for the `count` transform positions, threads taking whole products.
template <class Fn>
void for_positions(int count, int threads, Fn&& fn) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int k = 0; k < count; ++k) fn(k);
}

// fn(qa, qb) over the tile rows q in [q0, q1) with q % period == phase, one
// row at a time, split across the threads.
template <class Fn>
void for_tile_rows(i64 q0, i64 q1, int period, int phase, Fn&& fn) {
  i64 first = q0;
  while (first < q1 && first % period != phase) ++first;
  const i64 count = first < q1 ? (q1 - first + period - 1) / period : 0;
#pragma omp parallel for schedule(static)
  for (i64 r = 0; r < count; ++r) fn(first + period * r, first + period * r + 1);
}

// parts[0 .. n) += parts[t n .. (t + 1) n) for t = 1 .. threads - 1, in thread
// order (the per-thread dU partials).
inline void sum_partials(float* parts, i64 n, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (i64 i = 0; i < n; ++i) {
    float s = parts[i];
    for (int t = 1; t < threads; ++t) s += parts[t * n + i];
    parts[i] = s;
  }
}

// p[0 .. size) = 0, split across the threads.
inline void zero_parallel(float* p, i64 size, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; ++t) {
    const i64 a = size * t / threads, e = size * (t + 1) / threads;
    std::memset(p + a, 0, sizeof(float) * static_cast<size_t>(e - a));
  }
}

// The forward driver of both forms over `rows` tile rows in chunks of R:
// input(L, qa, qb, v) transforms tile rows [qa, qb) into v, product(k, tiles,
// v, m) forms M_k, output(L, qa, qb, m) writes y. With many chunks each thread
// takes whole chunks (gemm then runs serially inside the parallel region;
// the chunks' outputs are disjoint), else each chunk's transforms and
// products are threaded. v and m hold per-thread chunk buffers of vmax and
// mmax floats. Returns the number of chunks.
template <class Buffer, class In, class Prod, class Out>
i64 run_forward(i64 th, i64 tw, i64 rows, i64 R, int positions, i64 vmax, i64 mmax, int threads, Buffer& v,
                Buffer& m, In&& input, Prod&& product, Out&& output) {
  const i64 chunks = (rows + R - 1) / R;
  if (threads > 1 && chunks >= 2 * threads) {
    v.resize({threads * vmax});
    m.resize({threads * mmax});
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (i64 c = 0; c < chunks; ++c) {
      const int t = omp_get_thread_num();
      const i64 q0 = c * R, q1 = std::min(rows, q0 + R);
      const ChunkLayout L{th, tw, q0, (q1 - q0) * tw};
      float* vt = v.data() + t * vmax;
      float* mt = m.data() + t * mmax;
      input(L, q0, q1, vt);
      for (int k = 0; k < positions; ++k) product(k, L.tiles, vt, mt);
      output(L, q0, q1, mt);
    }
    return chunks;
  }
  v.resize({vmax});
  m.resize({mmax});
  for (i64 q0 = 0; q0 < rows; q0 += R) {
    const i64 q1 = std::min(rows, q0 + R);
    const ChunkLayout L{th, tw, q0, (q1 - q0) * tw};
    for_tile_rows(q0, q1, 1, 0, [&](i64 a, i64 e) { input(L, a, e, v.data()); });
    for_positions(positions, threads, [&](int k) { product(k, L.tiles, v.data(), m.data()); });
    for_tile_rows(q0, q1, 1, 0, [&](i64 a, i64 e) { output(L, a, e, m.data()); });
  }
  return chunks;
}

}  // namespace partita::nn::detail::wino

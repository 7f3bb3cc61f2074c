// Per-column sums over the rows of a (rows x C) matrix, deterministic
// (private to src/nn): fixed row blocks, each summed in double, then the
// blocks added in order, so the result does not depend on the thread count.
// Used by BatchNorm, SplitBatchNorm (statistics), Conv2d and UpConcatConv2d
// (bias gradients).
#pragma once
#include <cstdint>
#include <vector>

namespace partita::nn::detail {

constexpr std::int64_t kSumBlocks = 16;

/// out[c] = sum over rows r of what fn(r, acc) adds into acc[c] (acc: C doubles).
template <class Fn>
void channel_sums(std::int64_t rows, std::int64_t c, std::vector<double>& out, Fn&& fn) {
  std::vector<double> part(static_cast<size_t>(kSumBlocks * c), 0.0);
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < kSumBlocks; ++b) {
    double* acc = part.data() + b * c;
    for (std::int64_t r = rows * b / kSumBlocks; r < rows * (b + 1) / kSumBlocks; ++r) fn(r, acc);
  }
  out.assign(static_cast<size_t>(c), 0.0);
  for (std::int64_t b = 0; b < kSumBlocks; ++b)
    for (std::int64_t j = 0; j < c; ++j) out[static_cast<size_t>(j)] += part[static_cast<size_t>(b * c + j)];
}

/// out[c] += sum_r a[r, c] for a row-major (rows x cols) matrix.
inline void add_column_sums(const float* a, std::int64_t rows, std::int64_t cols, float* out) {
  std::vector<double> sums;
  channel_sums(rows, cols, sums, [&](std::int64_t r, double* acc) {
    const float* row = a + r * cols;
    for (std::int64_t c = 0; c < cols; ++c) acc[c] += row[c];
  });
  for (std::int64_t c = 0; c < cols; ++c) out[c] += static_cast<float>(sums[static_cast<size_t>(c)]);
}

}  // namespace partita::nn::detail

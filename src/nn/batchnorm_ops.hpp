// BatchNorm's per-channel math on a (M x C) row-major slice (private to
// src/nn): shared by nn::BatchNorm and nn::SplitBatchNorm, whose two channel
// slices are each such a slice of one parameter set. Reductions go through
// channel_sums (blocked, in double, summed in order: independent of the thread
// count).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "nn/reductions.hpp"

namespace partita::nn::detail {

/// Training mode: mean and 1/sqrt(var + eps) of x's channels (two-pass
/// variance), and running <- (1 - w) running + w batch, the running variance
/// scaled by n / (n - 1) when `bessel_n` > 1 (else unscaled).
inline void batchnorm_batch_stats(const float* x, std::int64_t M, std::int64_t C, float eps,
                                  float w, std::int64_t bessel_n, float* mean, float* istd,
                                  float* running_mean, float* running_var) {
  std::vector<double> s, ss;
  channel_sums(M, C, s, [&](std::int64_t r, double* acc) {
    const float* row = x + r * C;
    for (std::int64_t j = 0; j < C; ++j) acc[j] += row[j];
  });
  for (std::int64_t j = 0; j < C; ++j) mean[j] = static_cast<float>(s[j] / M);
  channel_sums(M, C, ss, [&](std::int64_t r, double* acc) {  // two-pass variance
    const float* row = x + r * C;
    for (std::int64_t j = 0; j < C; ++j) {
      const double d = static_cast<double>(row[j]) - mean[j];
      acc[j] += d * d;
    }
  });
  const double bessel = bessel_n > 1 ? double(bessel_n) / double(bessel_n - 1) : 1.0;
  for (std::int64_t j = 0; j < C; ++j) {
    const double var = ss[j] / M;
    istd[j] = static_cast<float>(1.0 / std::sqrt(var + eps));
    running_mean[j] = (1.0f - w) * running_mean[j] + w * mean[j];
    running_var[j] = (1.0f - w) * running_var[j] + w * static_cast<float>(var * bessel);
  }
}

/// Eval mode: the running statistics as mean and 1/sqrt(var + eps).
inline void batchnorm_running_stats(std::int64_t C, float eps, const float* running_mean,
                                    const float* running_var, float* mean, float* istd) {
  for (std::int64_t j = 0; j < C; ++j) {
    mean[j] = running_mean[j];
    istd[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[j]) + eps));
  }
}

/// y = x * scale + shift with scale = gamma * istd, shift = beta - mean * scale.
inline void batchnorm_apply(const float* x, std::int64_t M, std::int64_t C, const float* mean,
                            const float* istd, const float* gamma, const float* beta, float* y) {
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (std::int64_t j = 0; j < C; ++j) {
    scale[j] = gamma[j] * istd[j];
    shift[j] = beta[j] - mean[j] * scale[j];
  }
  const float* sc = scale.data();
  const float* sh = shift.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < M; ++r)
    for (std::int64_t j = 0; j < C; ++j) y[r * C + j] = x[r * C + j] * sc[j] + sh[j];
}

/// dbeta += sum dy, dgamma += sum dy * xhat, and
/// dx = gamma * istd * (dy - mean(dy) - xhat * mean(dy * xhat)) after a
/// training-mode forward, dx = gamma * istd * dy after an eval-mode one.
inline void batchnorm_backward(const float* x, const float* dy, std::int64_t M, std::int64_t C,
                               const float* mean, const float* istd, const float* gamma,
                               bool training, float* dgamma, float* dbeta, float* dx) {
  std::vector<double> sdy, sdyx;
  channel_sums(M, C, sdy, [&](std::int64_t r, double* acc) {
    const float* row = dy + r * C;
    for (std::int64_t j = 0; j < C; ++j) acc[j] += row[j];
  });
  channel_sums(M, C, sdyx, [&](std::int64_t r, double* acc) {  // sum dy * xhat
    const float* dr = dy + r * C;
    const float* xr = x + r * C;
    for (std::int64_t j = 0; j < C; ++j)
      acc[j] += static_cast<double>(dr[j]) * ((xr[j] - mean[j]) * istd[j]);
  });
  std::vector<float> k(static_cast<size_t>(C)), mdy(static_cast<size_t>(C)),
      mdyx(static_cast<size_t>(C));
  for (std::int64_t j = 0; j < C; ++j) {
    dbeta[j] += static_cast<float>(sdy[j]);
    dgamma[j] += static_cast<float>(sdyx[j]);
    k[j] = gamma[j] * istd[j];
    mdy[j] = training ? static_cast<float>(sdy[j] / M) : 0.0f;
    mdyx[j] = training ? static_cast<float>(sdyx[j] / M) : 0.0f;
  }
  const float* kp = k.data();
  const float* m1 = mdy.data();
  const float* m2 = mdyx.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < M; ++r)
    for (std::int64_t j = 0; j < C; ++j) {
      const float xhat = (x[r * C + j] - mean[j]) * istd[j];
      dx[r * C + j] = kp[j] * (dy[r * C + j] - m1[j] - xhat * m2[j]);
    }
}

}  // namespace partita::nn::detail

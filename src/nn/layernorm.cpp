// LayerNorm forward/backward; rows are independent and split across threads.
#include "partita/nn/layernorm.hpp"

#include <cmath>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"

namespace partita::nn {

LayerNorm::LayerNorm(ParameterSet& params, const std::string& prefix, std::int64_t d, float eps)
    : d_(d), eps_(eps) {
  if (d < 1) throw InvalidArgument("LayerNorm(" + prefix + "): d must be >= 1");
  if (!(eps > 0.0f)) throw InvalidArgument("LayerNorm(" + prefix + "): eps must be > 0");
  weight_ = &params.add(prefix + ".weight", {d_}, init_ones());
  bias_ = &params.add(prefix + ".bias", {d_}, init_zeros());
}

const Tensor& LayerNorm::forward(const Tensor& x) {
  if (x.rank() < 1 || x.dim(-1) != d_)
    throw ShapeError("LayerNorm::forward: expected last extent " + std::to_string(d_) + ", got " +
                     shape_str(x.shape()));
  const std::int64_t rows = x.size() / d_, d = d_;
  y_.resize(x.shape());
  xhat_.resize(x.shape());
  rstd_.resize({rows});
  const float* w = weight_->value.data();
  const float* b = bias_->value.data();
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (rows * d > 32768)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * d;
    // Two passes in double for the statistics: d is small, accuracy matters more.
    double mean = 0.0;
    for (std::int64_t k = 0; k < d; ++k) mean += xr[k];
    mean /= static_cast<double>(d);
    double var = 0.0;
    for (std::int64_t k = 0; k < d; ++k) {
      double c = xr[k] - mean;
      var += c * c;
    }
    var /= static_cast<double>(d);
    const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps_));
    const float m = static_cast<float>(mean);
    rstd_[r] = rstd;
    float* xh = xhat_.data() + r * d;
    float* yr = y_.data() + r * d;
    for (std::int64_t k = 0; k < d; ++k) {
      xh[k] = (xr[k] - m) * rstd;
      yr[k] = xh[k] * w[k] + b[k];
    }
  }
  return y_;
}

const Tensor& LayerNorm::backward(const Tensor& dy) {
  if (xhat_.shape().empty()) throw InvalidArgument("LayerNorm::backward: called before forward");
  dy.expect_shape(xhat_.shape(), "LayerNorm::backward");
  const std::int64_t rows = dy.size() / d_, d = d_;
  dx_.resize(dy.shape());
  const float* w = weight_->value.data();
  // Parameter gradients: column sums (serial over rows, vectorised over d).
  float* dw = weight_->grad.data();
  float* db = bias_->grad.data();
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* g = dy.data() + r * d;
    const float* xh = xhat_.data() + r * d;
    for (std::int64_t k = 0; k < d; ++k) {
      dw[k] += g[k] * xh[k];
      db[k] += g[k];
    }
  }
#pragma omp parallel for schedule(static) num_threads(num_threads()) if (rows * d > 32768)
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* dyr = dy.data() + r * d;
    const float* xh = xhat_.data() + r * d;
    float* dxr = dx_.data() + r * d;
    float sg = 0.0f, sgx = 0.0f;
    for (std::int64_t k = 0; k < d; ++k) {
      float g = dyr[k] * w[k];
      sg += g;
      sgx += g * xh[k];
    }
    const float inv_d = 1.0f / static_cast<float>(d);
    const float mg = sg * inv_d, mgx = sgx * inv_d, rstd = rstd_[r];
    for (std::int64_t k = 0; k < d; ++k) dxr[k] = rstd * (dyr[k] * w[k] - mg - xh[k] * mgx);
  }
  return dx_;
}

}  // namespace partita::nn

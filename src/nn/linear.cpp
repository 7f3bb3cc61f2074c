// Linear layer: one gemm forward, two gemms and a column sum backward.
#include "partita/nn/linear.hpp"

#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"

namespace partita::nn {

Linear::Linear(ParameterSet& params, const std::string& prefix, std::int64_t in_features,
               std::int64_t out_features, bool bias, Initializer init)
    : in_(in_features), out_(out_features) {
  if (in_features < 1 || out_features < 1)
    throw InvalidArgument("Linear(" + prefix + "): features must be >= 1, got in=" +
                          std::to_string(in_features) + " out=" + std::to_string(out_features));
  bool custom = static_cast<bool>(init);
  weight_ = &params.add(prefix + ".weight", {in_, out_},
                        custom ? std::move(init) : init_torch_default(in_), Layout::LinearIO);
  if (bias)
    bias_ = &params.add(prefix + ".bias", {out_},
                        custom ? init_zeros() : init_torch_default(in_));
}

const Tensor& Linear::forward(const Tensor& x) {
  if (x.rank() < 1 || x.dim(-1) != in_)
    throw ShapeError("Linear::forward: expected last extent " + std::to_string(in_) + ", got " +
                     shape_str(x.shape()));
  std::int64_t rows = x.size() / in_;
  x_ = Tensor::view(const_cast<float*>(x.data()), x.shape());
  Shape ys = x.shape();
  ys.back() = out_;
  y_.resize(ys);
  const float* w = weight_->value.data();
  if (bias_) {
    // Broadcast the bias into every row, then accumulate x W on top (beta = 1).
    const float* b = bias_->value.data();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < out_; ++j) y_[r * out_ + j] = b[j];
  }
  gemm(Trans::No, Trans::No, rows, out_, in_, 1.0f, x.data(), in_, w, out_,
       bias_ ? 1.0f : 0.0f, y_.data(), out_);
  return y_;
}

const Tensor& Linear::backward(const Tensor& dy) {
  Shape ys = x_.shape();
  if (ys.empty()) throw InvalidArgument("Linear::backward: called before forward");
  ys.back() = out_;
  dy.expect_shape(ys, "Linear::backward");
  std::int64_t rows = dy.size() / out_;
  // dW (in, out) += x^T (in, rows) * dy (rows, out)
  gemm(Trans::Yes, Trans::No, in_, out_, rows, 1.0f, x_.data(), in_, dy.data(), out_, 1.0f,
       weight_->grad.data(), out_);
  if (bias_) {
    float* db = bias_->grad.data();
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < out_; ++j) db[j] += dy[r * out_ + j];
  }
  // dx (rows, in) = dy (rows, out) * W^T (out, in)
  dx_.resize(x_.shape());
  gemm(Trans::No, Trans::Yes, rows, in_, out_, 1.0f, dy.data(), out_, weight_->value.data(), out_,
       0.0f, dx_.data(), in_);
  return dx_;
}

}  // namespace partita::nn

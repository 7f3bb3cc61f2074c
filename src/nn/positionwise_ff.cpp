// Position-wise FFN: two Linear layers around a fused ReLU + dropout, residual, post-LN.
#include "partita/nn/positionwise_ff.hpp"

#include <cstring>

#include "counter_hash.hpp"
#include "partita/core/error.hpp"

namespace partita::nn {

using detail::hash_uniform;

// Validate before any parameter is declared, so a bad call leaves `params` untouched.
static std::int64_t checked_dims(const std::string& prefix, std::int64_t d_model,
                                 std::int64_t d_inner, float dropout) {
  if (d_model < 1 || d_inner < 1)
    throw InvalidArgument("PositionwiseFF(" + prefix + "): d_model and d_inner must be >= 1");
  if (!(dropout >= 0.0f && dropout < 1.0f))
    throw InvalidArgument("PositionwiseFF(" + prefix + "): dropout must be in [0, 1)");
  return d_model;
}

PositionwiseFF::PositionwiseFF(ParameterSet& params, const std::string& prefix,
                               std::int64_t d_model, std::int64_t d_inner, float dropout,
                               std::uint64_t seed, float layer_norm_eps)
    : d_model_(checked_dims(prefix, d_model, d_inner, dropout)),
      d_inner_(d_inner),
      dropout_(dropout),
      fc1_(params, prefix + ".CoreNet.0", d_model, d_inner, true, init_normal(0.0f, 0.02f)),
      fc2_(params, prefix + ".CoreNet.3", d_inner, d_model, true, init_normal(0.0f, 0.02f)),
      ln_(params, prefix + ".layer_norm", d_model, layer_norm_eps),
      rng_(seed) {}

const Tensor& PositionwiseFF::forward(const Tensor& x) {
  if (x.rank() < 1 || x.dim(-1) != d_model_)
    throw ShapeError("PositionwiseFF::forward: expected last extent " + std::to_string(d_model_) +
                     ", got " + shape_str(x.shape()));
  x_ = Tensor::view(const_cast<float*>(x.data()), x.shape());
  drop_ = training_ && dropout_ > 0.0f;
  if (drop_) {
    seed_inner_ = rng_.next_u64();
    seed_out_ = rng_.next_u64();
  }
  const float p = dropout_, keep = 1.0f / (1.0f - dropout_);
  const Tensor& h = fc1_.forward(x);
  inner_.resize(h.shape());
  const std::int64_t ni = h.size();
  if (drop_) {
    for (std::int64_t e = 0; e < ni; ++e)
      inner_[e] = (h[e] > 0.0f && hash_uniform(seed_inner_, e) >= p) ? h[e] * keep : 0.0f;
  } else {
    for (std::int64_t e = 0; e < ni; ++e) inner_[e] = h[e] > 0.0f ? h[e] : 0.0f;
  }
  const Tensor& o = fc2_.forward(inner_);
  sum_.resize(x.shape());
  const std::int64_t n = x.size();
  if (drop_) {
    for (std::int64_t e = 0; e < n; ++e)
      sum_[e] = x[e] + (hash_uniform(seed_out_, e) >= p ? o[e] * keep : 0.0f);
  } else {
    for (std::int64_t e = 0; e < n; ++e) sum_[e] = x[e] + o[e];
  }
  return ln_.forward(sum_);
}

const Tensor& PositionwiseFF::backward(const Tensor& dy) {
  if (x_.shape().empty()) throw InvalidArgument("PositionwiseFF::backward: called before forward");
  dy.expect_shape(x_.shape(), "PositionwiseFF::backward");
  const float p = dropout_, keep = 1.0f / (1.0f - dropout_);
  const Tensor& ds = ln_.backward(dy);
  const std::int64_t n = ds.size();
  dx_.resize(ds.shape());
  dbranch_.resize(ds.shape());
  std::memcpy(dx_.data(), ds.data(), sizeof(float) * n);
  if (drop_) {
    for (std::int64_t e = 0; e < n; ++e)
      dbranch_[e] = hash_uniform(seed_out_, e) >= p ? ds[e] * keep : 0.0f;
  } else {
    std::memcpy(dbranch_.data(), ds.data(), sizeof(float) * n);
  }
  const Tensor& dinner = fc2_.backward(dbranch_);
  // inner > 0 exactly where ReLU passed and dropout kept (then d inner/d h = keep).
  dinner_.resize(dinner.shape());
  const float scale = drop_ ? keep : 1.0f;
  for (std::int64_t e = 0; e < dinner.size(); ++e)
    dinner_[e] = inner_[e] > 0.0f ? dinner[e] * scale : 0.0f;
  const Tensor& dx1 = fc1_.backward(dinner_);
  for (std::int64_t e = 0; e < n; ++e) dx_[e] += dx1[e];
  return dx_;
}

}  // namespace partita::nn

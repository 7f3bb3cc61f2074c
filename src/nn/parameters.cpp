// ParameterSet allocation and the named initialisers.
#include "partita/nn/parameters.hpp"

#include <cmath>

#include "partita/core/error.hpp"

namespace partita::nn {

Parameter& ParameterSet::add(std::string name, Shape shape, Initializer init, Layout layout,
                             bool trainable) {
  if (allocated_)
    throw InvalidArgument("ParameterSet::add: '" + name + "' declared after allocate()");
  for (const auto& p : params_)
    if (p.name == name) throw InvalidArgument("ParameterSet::add: duplicate name '" + name + "'");
  Parameter p;
  p.name = std::move(name);
  p.shape = std::move(shape);
  p.init = std::move(init);
  p.layout = layout;
  p.trainable = trainable;
  p.offset = total_;
  // Keep every parameter 16-float (64-byte) aligned inside the flat buffer.
  std::int64_t n = shape_numel(p.shape);
  total_ += (n + 15) / 16 * 16;
  params_.push_back(std::move(p));
  return params_.back();
}

void ParameterSet::allocate(std::uint64_t seed) {
  if (allocated_) throw InvalidArgument("ParameterSet::allocate: already allocated");
  ++version_;
  values_ = Tensor(Shape{total_});
  grads_ = Tensor(Shape{total_});
  Generator rng(seed);
  for (auto& p : params_) {
    p.value = Tensor::view(values_.data() + p.offset, p.shape);
    p.grad = Tensor::view(grads_.data() + p.offset, p.shape);
    if (p.init) p.init(p.value, rng);
  }
  allocated_ = true;
}

Parameter& ParameterSet::get(const std::string& name) {
  ++version_;
  for (auto& p : params_)
    if (p.name == name) return p;
  throw InvalidArgument("ParameterSet::get: no parameter named '" + name + "'");
}

std::int64_t ParameterSet::trainable_count() const {
  std::int64_t n = 0;
  for (const auto& p : params_)
    if (p.trainable) n += shape_numel(p.shape);
  return n;
}

Initializer init_zeros() { return init_constant(0.0f); }
Initializer init_ones() { return init_constant(1.0f); }
Initializer init_constant(float v) {
  return [v](Tensor& t, Generator&) { t.fill(v); };
}
Initializer init_uniform(float lo, float hi) {
  return [lo, hi](Tensor& t, Generator& rng) {
    for (std::int64_t i = 0; i < t.size(); ++i) t[i] = rng.uniform(lo, hi);
  };
}
Initializer init_normal(float mean, float stddev) {
  return [mean, stddev](Tensor& t, Generator& rng) {
    for (std::int64_t i = 0; i < t.size(); ++i)
      t[i] = mean + stddev * static_cast<float>(rng.normal());
  };
}
Initializer init_glorot_uniform(std::int64_t fan_in, std::int64_t fan_out) {
  float limit = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
  return init_uniform(-limit, limit);
}
Initializer init_he_normal(std::int64_t fan_in) {
  return init_normal(0.0f, std::sqrt(2.0f / static_cast<float>(fan_in)));
}
Initializer init_torch_default(std::int64_t fan_in) {
  float b = 1.0f / std::sqrt(static_cast<float>(fan_in));
  return init_uniform(-b, b);
}

}  // namespace partita::nn

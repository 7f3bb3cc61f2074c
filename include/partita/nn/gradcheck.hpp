// Finite-difference gradient checks for nn layers (header-only, for tests).
//
// A layer's backward is checked against central differences of a scalar loss
// L = sum_i y_i * r_i, where r is a fixed random "upstream gradient": the
// analytic gradient of L with respect to an input or parameter element is
// exactly what backward(r) returns (dx) or adds into a parameter's grad, and
// the numerical one is (L(v + eps) - L(v - eps)) / (2 eps). L is accumulated
// in double from the float forward, so eps can be fairly large (1e-2 by
// default) and the truncation error of the central difference is O(eps^2 *
// f'''), while float rounding stays around 1e-7 * |L| / eps. Piecewise-linear
// layers (ReLU, max-pool) must be fed inputs that stay at least eps away from
// their kinks and ties; the tests arrange that.
//
// Two levels:
//   check_gradients(loss, targets, options): perturb every element (or a
//     random subset) of each target tensor, compare with its analytic grad.
//   gradcheck_layer(forward, backward, x, params, options): the usual
//     single-input layer; runs the analytic pass itself and checks dx and
//     every trainable parameter of `params`.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::nn {

struct GradcheckOptions {
  double eps = 1e-2;    // perturbation of one element
  double rtol = 1e-2;   // |num - ana| <= atol + rtol * max(|num|, |ana|)
  double atol = 1e-3;
  std::int64_t max_elements = 0;  // per target; 0 = all, else a random subset
  std::uint64_t seed = 1234;      // for r and for the subset
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;  // relative to max(|num|, |ana|, atol)
  std::int64_t checked = 0;
  std::string report;          // the first failures, "name[i]: numeric x, analytic y"
};

/// One tensor whose elements are perturbed, with its analytic gradient.
struct GradTarget {
  std::string name;
  Tensor* value;       // perturbed in place (restored afterwards)
  Tensor analytic;     // owning copy of the analytic gradient, same numel
};

/// Fill t with uniform values in [lo, hi) from rng.
inline void fill_uniform(Tensor& t, Generator& rng, float lo = -1.0f, float hi = 1.0f) {
  for (std::int64_t i = 0; i < t.size(); ++i) t[i] = rng.uniform(lo, hi);
}

/// sum_i a_i * b_i in double.
inline double dot_double(const Tensor& a, const Tensor& b) {
  double s = 0.0;
  for (std::int64_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

/// `loss()` runs the forward pass with the current values and returns L in double.
inline GradcheckResult check_gradients(const std::function<double()>& loss,
                                       std::vector<GradTarget>& targets,
                                       const GradcheckOptions& opt = {}) {
  GradcheckResult res;
  Generator pick(opt.seed ^ 0x9e3779b97f4a7c15ULL);
  std::ostringstream rep;
  int failures = 0;
  for (auto& t : targets) {
    if (t.analytic.size() != t.value->size())
      throw ShapeError("check_gradients: analytic gradient of '" + t.name + "' has " +
                       std::to_string(t.analytic.size()) + " elements, value has " +
                       std::to_string(t.value->size()));
    std::vector<std::int64_t> idx;
    const std::int64_t n = t.value->size();
    if (opt.max_elements <= 0 || opt.max_elements >= n) {
      for (std::int64_t i = 0; i < n; ++i) idx.push_back(i);
    } else {
      for (std::int64_t j = 0; j < opt.max_elements; ++j)
        idx.push_back(static_cast<std::int64_t>(pick.below(static_cast<std::uint64_t>(n))));
    }
    for (std::int64_t i : idx) {
      float& v = (*t.value)[i];
      const float saved = v;
      v = static_cast<float>(saved + opt.eps);
      const double hi_step = static_cast<double>(v) - saved;  // the step actually taken
      const double lp = loss();
      v = static_cast<float>(saved - opt.eps);
      const double lo_step = saved - static_cast<double>(v);
      const double lm = loss();
      v = saved;
      const double num = (lp - lm) / (hi_step + lo_step);
      const double ana = t.analytic[i];
      const double err = std::fabs(num - ana);
      const double scale = std::max({std::fabs(num), std::fabs(ana), opt.atol});
      res.max_abs_error = std::max(res.max_abs_error, err);
      res.max_rel_error = std::max(res.max_rel_error, err / scale);
      ++res.checked;
      if (err > opt.atol + opt.rtol * std::max(std::fabs(num), std::fabs(ana))) {
        res.ok = false;
        if (failures++ < 10)
          rep << t.name << "[" << i << "]: numeric " << num << ", analytic " << ana << "\n";
      }
    }
  }
  if (failures > 10) rep << "... " << failures << " failures in all\n";
  res.report = rep.str();
  loss();  // leave the layer's caches consistent with the restored values
  return res;
}

/// Check a single-input layer: dx and the grads of every trainable parameter
/// in `params` (which must be allocated; its grads are zeroed here).
/// forward: const Tensor&(const Tensor&); backward: const Tensor&(const Tensor&).
template <class Forward, class Backward>
GradcheckResult gradcheck_layer(Forward&& forward, Backward&& backward, Tensor& x,
                                ParameterSet* params, const GradcheckOptions& opt = {}) {
  Generator rng(opt.seed);
  Tensor r(forward(x).shape());
  fill_uniform(r, rng);
  if (params) params->zero_grad();
  std::vector<GradTarget> targets;
  {
    const Tensor& dx = backward(r);
    GradTarget t{"x", &x, Tensor(dx.shape())};
    t.analytic.copy_from(dx);
    targets.push_back(std::move(t));
  }
  if (params)
    for (auto& p : params->params()) {
      if (!p.trainable) continue;
      GradTarget t{p.name, &p.value, Tensor(p.grad.shape())};
      t.analytic.copy_from(p.grad);
      targets.push_back(std::move(t));
    }
  return check_gradients([&] { return dot_double(forward(x), r); }, targets, opt);
}

}  // namespace partita::nn

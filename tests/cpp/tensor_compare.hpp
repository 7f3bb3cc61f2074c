// Small tensor helpers shared by the nn layer tests.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "partita/core/tensor.hpp"

namespace partita::test {

/// max |a - b| / max(floor, max |b|); a shape mismatch is a test failure (and 1e30).
inline double max_rel_diff(const Tensor& a, const Tensor& b, double floor = 1e-6) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return 1e30;
  double scale = floor, diff = 0.0;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return diff / scale;
}

/// An owning copy (a layer's outputs and gradients are views of its buffers).
inline Tensor copy_of(const Tensor& t) {
  Tensor c(t.shape());
  c.copy_from(t);
  return c;
}

}  // namespace partita::test

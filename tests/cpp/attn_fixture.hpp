// Reader for the PyTorch fixtures written by tools/torch_twins/make_attention_fixtures.py
// (format described there), plus small comparison helpers for the nn tests.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"

namespace attn_test {

using partita::Tensor;

inline std::map<std::string, Tensor> load_fixture(const std::string& name) {
  const std::string path = std::string(PARTITA_TEST_DATA) + "/nn/attn/" + name + ".bin";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw partita::IoError("load_fixture: cannot open " + path);
  char magic[4];
  std::uint32_t version = 0, count = 0;
  f.read(magic, 4);
  f.read(reinterpret_cast<char*>(&version), 4);
  f.read(reinterpret_cast<char*>(&count), 4);
  if (!f || std::memcmp(magic, "PTFX", 4) != 0 || version != 1)
    throw partita::FormatError("load_fixture: " + path + " is not a PTFX v1 file");
  std::map<std::string, Tensor> out;
  for (std::uint32_t t = 0; t < count; ++t) {
    std::uint32_t len = 0, rank = 0;
    f.read(reinterpret_cast<char*>(&len), 4);
    std::string key(len, '\0');
    f.read(key.data(), len);
    f.read(reinterpret_cast<char*>(&rank), 4);
    partita::Shape shape(rank);
    f.read(reinterpret_cast<char*>(shape.data()), 8 * rank);
    Tensor x(shape);
    f.read(reinterpret_cast<char*>(x.data()), sizeof(float) * x.size());
    if (!f) throw partita::FormatError("load_fixture: " + path + " truncated at " + key);
    out.emplace(key, std::move(x));
  }
  return out;
}

/// torch Linear weight (out, in) -> ours (in, out).
inline void copy_transposed(const Tensor& torch_w, Tensor& ours) {
  const std::int64_t out = torch_w.dim(0), in = torch_w.dim(1);
  ASSERT_EQ(ours.size(), out * in);
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i) ours[i * out + o] = torch_w[o * in + i];
}

/// max |a - b| / (1 + |b|) over all elements must stay under tol.
inline void expect_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double worst = 0.0;
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    double e = std::fabs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::fabs(b[i]));
    if (!(e <= worst)) {  // also catches NaN
      worst = std::isnan(e) ? INFINITY : e;
      at = i;
    }
  }
  EXPECT_LE(worst, tol) << what << ": element " << at << " is " << a[at] << ", expected " << b[at];
}

inline void expect_close_transposed(const Tensor& ours, const Tensor& torch_w, double tol,
                                    const std::string& what) {
  Tensor t(ours.shape());
  const std::int64_t out = torch_w.dim(0), in = torch_w.dim(1);
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i) t[i * out + o] = torch_w[o * in + i];
  expect_close(ours, t, tol, what);
}

inline std::vector<std::int32_t> as_ids(const Tensor& t) {
  std::vector<std::int32_t> ids(t.size());
  for (std::int64_t i = 0; i < t.size(); ++i) ids[i] = static_cast<std::int32_t>(std::lround(t[i]));
  return ids;
}

}  // namespace attn_test

// The convolutional layers against PyTorch: fixtures written by
// tools/torch_twins/make_nn_fixtures.py (float64 PyTorch runs on fixed float32
// inputs, weights and upstream gradients, stored NHWC / HWIO as .npy) are
// loaded, and forward outputs, dx and the parameter gradients must agree to
// 1e-4 relative (to the largest magnitude of each tensor).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

#include "partita/nn/activations.hpp"
#include "partita/nn/batchnorm.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/pool.hpp"
#include "partita/nn/upsample.hpp"

using namespace partita;
using namespace partita::nn;

namespace {

const std::string kDir = std::string(PARTITA_TEST_DATA) + "/nn/conv/";

// Minimal .npy reader: version 1/2 headers, little-endian float32, C order.
Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("load_npy: cannot open " + path);
  char magic[8];
  f.read(magic, 8);
  if (!f || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw FormatError("load_npy: " + path + ": not a .npy file");
  std::uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    hlen = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t(b[3]) << 24);
  }
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  if (!f) throw FormatError("load_npy: " + path + ": truncated header");
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw FormatError("load_npy: " + path + ": expected little-endian float32 in C order");
  const auto lp = header.find('(', header.find("'shape'"));
  const auto rp = header.find(')', lp);
  Shape shape;
  std::string dims = header.substr(lp + 1, rp - lp - 1);
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string tok = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (tok.find_first_of("0123456789") != std::string::npos) shape.push_back(std::stoll(tok));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  Tensor t(shape.empty() ? Shape{1} : shape);
  f.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(sizeof(float) * t.size()));
  if (!f) throw FormatError("load_npy: " + path + ": truncated data");
  return t;
}

Tensor fx(const std::string& c, const std::string& name) { return load_npy(kDir + c + "/" + name + ".npy"); }

void expect_close(const Tensor& got, const Tensor& want, const std::string& what, double tol = 1e-4) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1e-12, err = 0.0;
  for (std::int64_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
    err = std::max(err, static_cast<double>(std::fabs(got[i] - want[i])));
  }
  EXPECT_LE(err / scale, tol) << what << ": max abs error " << err << " at scale " << scale;
}

void conv_case(const std::string& c, int k, int s) {
  SCOPED_TRACE(c);
  Tensor x = fx(c, "x"), w = fx(c, "w"), b = fx(c, "b"), dy = fx(c, "dy");
  ParameterSet ps;
  Conv2dSpec spec;
  spec.in_channels = w.dim(2);
  spec.out_channels = w.dim(3);
  spec.kernel_h = spec.kernel_w = k;
  spec.stride_h = spec.stride_w = s;
  spec.column_budget = 64;  // several chunks even on these small shapes
  Conv2d conv(ps, "conv", spec);
  ps.allocate(0);
  conv.weight().value.copy_from(w);
  conv.bias()->value.copy_from(b);
  expect_close(conv.forward(x), fx(c, "y"), "y");
  ps.zero_grad();
  expect_close(conv.backward(dy), fx(c, "dx"), "dx");
  expect_close(conv.weight().grad, fx(c, "dw"), "dw");
  expect_close(conv.bias()->grad, fx(c, "db"), "db");
}

template <class L>
void elementwise_case(L& layer, const std::string& c) {
  SCOPED_TRACE(c);
  Tensor x = fx(c, "x");
  expect_close(layer.forward(x), fx(c, "y"), "y");
  expect_close(layer.backward(fx(c, "dy")), fx(c, "dx"), "dx");
}

void batchnorm_case(const std::string& c, BatchNormSpec spec, bool training) {
  SCOPED_TRACE(c);
  ParameterSet ps;
  Tensor x = fx(c, "x");
  BatchNorm bn(ps, "bn", x.dim(-1), spec);
  ps.allocate(0);
  bn.weight().value.copy_from(fx(c, "gamma"));
  bn.bias().value.copy_from(fx(c, "beta"));
  bn.running_mean().value.copy_from(fx(c, "running_mean"));
  bn.running_var().value.copy_from(fx(c, "running_var"));
  bn.set_training(training);
  expect_close(bn.forward(x), fx(c, "y"), "y");
  expect_close(bn.running_mean().value, fx(c, "running_mean_after"), "running_mean");
  expect_close(bn.running_var().value, fx(c, "running_var_after"), "running_var");
  ps.zero_grad();
  expect_close(bn.backward(fx(c, "dy")), fx(c, "dx"), "dx");
  expect_close(bn.weight().grad, fx(c, "dgamma"), "dgamma");
  expect_close(bn.bias().grad, fx(c, "dbeta"), "dbeta");
}

}  // namespace

TEST(TorchFixtures, Conv3x3Same) { conv_case("conv3x3", 3, 1); }
TEST(TorchFixtures, Conv4x4Stride2TfSame) { conv_case("conv4x4_s2", 4, 2); }
TEST(TorchFixtures, Conv4x4Stride1TfSame) { conv_case("conv4x4_s1", 4, 1); }
TEST(TorchFixtures, Conv1x1) { conv_case("conv1x1", 1, 1); }

TEST(TorchFixtures, MaxPool) {
  MaxPool2d pool;
  elementwise_case(pool, "maxpool");
}

TEST(TorchFixtures, Upsample) {
  UpsampleNearest2d up;
  elementwise_case(up, "upsample");
}

TEST(TorchFixtures, BatchNormTorchTraining) {
  batchnorm_case("batchnorm_torch_train", BatchNormSpec::torch(), true);
}
TEST(TorchFixtures, BatchNormKerasTraining) {
  batchnorm_case("batchnorm_keras_train", BatchNormSpec::keras(0.8f), true);
}
TEST(TorchFixtures, BatchNormEval) {
  batchnorm_case("batchnorm_eval", BatchNormSpec::keras(), false);
}

TEST(TorchFixtures, Activations) {
  ReLU relu;
  LeakyReLU leaky(0.2f);
  Tanh th;
  Sigmoid sg;
  Softmax sm;
  elementwise_case(relu, "relu");
  elementwise_case(leaky, "leaky_relu");
  elementwise_case(th, "tanh");
  elementwise_case(sg, "sigmoid");
  elementwise_case(sm, "softmax");
}

TEST(TorchFixtures, ReaderRejectsBadFiles) {
  EXPECT_THROW(load_npy(kDir + "no_such_case/x.npy"), IoError);
  EXPECT_THROW(load_npy(std::string(PARTITA_SOURCE_DIR) + "/CMakeLists.txt"), FormatError);
}

// Private: the layers of the AR-CNN U-Net (shared by arcnn*.cpp, not installed).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "partita/models/arcnn.hpp"
#include "partita/nn/activations.hpp"
#include "partita/nn/batchnorm.hpp"
#include "partita/nn/concat.hpp"
#include "partita/nn/conv2d.hpp"
#include "partita/nn/dropout.hpp"
#include "partita/nn/losses.hpp"
#include "partita/nn/pool.hpp"
#include "partita/nn/split_batchnorm.hpp"
#include "partita/nn/upsample.hpp"
#include "partita/nn/upconv.hpp"

namespace partita::models {

struct EncoderLevel {
  nn::Conv2d conv1;
  nn::ReLU relu1;
  nn::Conv2d conv2;
  nn::ReLU relu2;  // its output is the skip connection
  nn::MaxPool2d pool;
  nn::Dropout drop;
  nn::BatchNorm bn;
  Tensor dskip;  // gradient of the skip: from the pool path plus the decoder's concat
};

// Upsample x2 -> concat skip -> BatchNorm -> conv1, computed without building
// the upsampled concatenation: BatchNorm of the upsampled channels runs on the
// low-res tensor (same statistics) and conv1 folds the upsampling into four
// phase 2x2 convolutions (nn::UpConcatConv2d). Parameters and names are those
// of the plain composition ("dec.<j>.bn.*" of size cin + f, "dec.<j>.conv1.*").
struct DecoderLevel {
  nn::SplitBatchNorm bn;
  nn::UpConcatConv2d conv1;
  nn::ReLU relu1;
  nn::Conv2d conv2;
  nn::ReLU relu2;
  nn::Dropout drop;
};

struct ArcnnImpl {
  /// allocate = false only declares the parameters (their names and shapes),
  /// e.g. to check a file against a config before committing memory to it.
  ArcnnImpl(const ArcnnConfig& config, std::uint64_t seed, bool allocate = true);
  const Tensor& forward(const Tensor& x);
  void backward(const Tensor& dlogits);
  void set_training(bool t);
  void reseed_dropout(std::uint64_t seed);
  /// Set every BatchNorm's running mean/var to the average of the batch statistics
  /// of `batches` forwards (train-mode BatchNorm, dropout off); `next(k, x)` fills
  /// batch k. Training mode is restored afterwards.
  void recalibrate_batchnorm(std::int64_t batches, const std::function<void(std::int64_t, Tensor&)>& next);

  ArcnnConfig config;
  nn::ParameterSet params;
  std::vector<std::unique_ptr<EncoderLevel>> enc;
  std::vector<std::unique_ptr<DecoderLevel>> dec;  // dec[0] is the deepest
  std::unique_ptr<nn::Conv2d> mid1, mid2, out;
  nn::ReLU mid_relu1, mid_relu2;
  nn::KLDivergenceLoss loss;
  std::vector<const Tensor*> skips;
  bool training = true;
};

}  // namespace partita::models

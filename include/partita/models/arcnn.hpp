// ARCNN: the AR-CNN melody editor (after the AWS DeepComposer samples' AR-CNN, MIT-0).
//
// A U-Net scores every cell of a 128-step x 128-pitch piano-roll window; the
// editor (arcnn_sampler.hpp) toggles one cell per iteration, sampling from the
// tempered softmax of those scores. Architecture for `levels` L and base
// filters F (reference: L = 5, F = 32, bottleneck 1024):
//
//   encoder level i (filters F*2^i):  2 x [Conv 3x3 "same", ReLU] -> skip_i
//                                     -> MaxPool 2 -> Dropout(enc_i) -> BatchNorm
//   bottleneck (filters F*2^L):       2 x [Conv 3x3, ReLU]
//   decoder level i (deepest first):  Upsample x2 -> concat(., skip_i) -> BatchNorm
//                                     -> 2 x [Conv 3x3, ReLU] -> Dropout(dec_i)
//   head:                             Conv 1x1 -> 1 channel of linear logits
//
// Dropout is `dropout` everywhere except the full-resolution levels (the
// reference's [0,.5,.5,.5,.5] / [.5,.5,.5,.5,0]). BatchNorm follows Keras
// (momentum 0.99 by default, eps 1e-3); convolutions start Glorot-uniform with zero bias.
// Parameter names are those of the PyTorch twin (tools/torch_twins/arcnn_twin.py):
// enc.<i>.conv1/conv2/bn, mid.conv1/conv2, dec.<j>.bn/conv1/conv2 (j = 0 is the
// deepest), out. The loss is KL(label / sum(label) || softmax(logits)) per sample
// (nn::KLDivergenceLoss), averaged over the batch.
//
// Weights files are model files (model_file.hpp) of kind "arcnn" in the twin's
// layout, with the ArcnnConfig as the "config" JSON, so `ARCNN::load(path)`
// rebuilds the right network. Training runs on the shared loop (trainer.hpp).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/data/training_pairs.hpp"
#include "partita/data/windows.hpp"
#include "partita/models/arcnn_sampler.hpp"
#include "partita/music/pianoroll.hpp"
#include "partita/models/trainer.hpp"
#include "partita/music/score.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::models {

struct ArcnnConfig {
  int levels = 5;             // encoder levels (each halves time and pitch)
  int base_filters = 32;      // filters of level 0; level i has base * 2^i
  int bottleneck_filters = 0; // 0: base * 2^levels (1024 for the reference)
  float dropout = 0.5f;       // rate of every dropout except the full-resolution ones
  float bn_momentum = 0.99f;  // Keras convention: running = m * running + (1 - m) * batch

  /// The reference network (about 31.5M parameters).
  static ArcnnConfig reference() { return ArcnnConfig{}; }
  /// The shipped default: 4 levels, 16 base filters (see docs/arcnn.md).
  /// BatchNorm momentum 0.9 rather than Keras' 0.99: with a few hundred training
  /// steps the 0.99 running statistics lag the weights and eval-mode losses suffer.
  static ArcnnConfig compact() { return ArcnnConfig{4, 16, 0, 0.5f, 0.9f}; }

  int bottleneck() const { return bottleneck_filters > 0 ? bottleneck_filters : base_filters << levels; }
  /// InvalidArgument (naming `who`) if a field is out of range.
  void validate(const char* who) const;
  std::string to_json() const;
  /// Parse to_json()'s output; WeightsError (naming `who`) on anything else.
  static ArcnnConfig from_json(const std::string& text, const char* who);
  bool operator==(const ArcnnConfig& o) const {
    return levels == o.levels && base_filters == o.base_filters && bottleneck() == o.bottleneck() &&
           dropout == o.dropout && bn_momentum == o.bn_momentum;
  }
};

/// Options of ARCNN::fit: the loop's (trainer.hpp: epochs, max_steps,
/// max_steps_per_epoch, seed, checkpoint_dir, resume) and the AR-CNN's own.
struct ArcnnFitOptions : FitOptions {
  std::int64_t batch_size = 32;
  double lr = 1e-3;
  data::PairOptions pairs;                // 8 variants per window, add 1-1.5 %, no transposition
  std::int64_t max_valid_batches = 0;     // 0: the whole validation set
  /// Before each validation, re-estimate BatchNorm's running statistics as the plain
  /// average of this many training batches' statistics, with dropout off (so eval mode
  /// sees the statistics of eval-mode activations, not a lagging, dropout-inflated
  /// moving average). 0 keeps the moving averages as they are (the reference).
  std::int64_t bn_recalibration_batches = 8;
};

struct ArcnnImpl;  // the layers (src/models/arcnn_impl.hpp)

class ARCNN {
 public:
  /// A freshly initialised network (seeded).
  explicit ARCNN(const ArcnnConfig& config = ArcnnConfig::compact(), std::uint64_t seed = 0);
  ~ARCNN();
  ARCNN(ARCNN&&) noexcept;
  ARCNN& operator=(ARCNN&&) noexcept;

  /// The network a model file describes (its config from the metadata), loaded,
  /// in eval mode. WeightsError if the file is not an "arcnn" model file of a
  /// version this build reads.
  static ARCNN load(const std::string& path);
  /// A shipped model by name (registry.hpp; "arcnn-default", alias "arcnn"), in
  /// eval mode. InvalidArgument for an unknown name or another kind's model.
  static ARCNN pretrained(const std::string& name = "arcnn-default");
  /// Where the shipped default model is: shipped_model_path("arcnn-default")
  /// ($PARTITA_ARCNN_WEIGHTS, next to the binary, the install data dir, the
  /// source tree; registry.hpp). IoError listing every place tried.
  static std::string default_weights_path();

  /// Save a model file (twin layout, kind "arcnn", the config) with `extra` metadata, atomically.
  void save(const std::string& path, const std::vector<std::pair<std::string, std::string>>& extra = {}) const;
  /// Load weights into this network; WeightsError if the file's config differs.
  void load_weights(const std::string& path);

  const ArcnnConfig& config() const;
  nn::ParameterSet& parameters();
  std::int64_t parameter_count() const;  // trainable
  void set_training(bool training);
  bool training() const;

  /// logits (N, H, W, 1) for x (N, H, W, 1); H and W divisible by 2^levels.
  const Tensor& forward(const Tensor& x);
  /// Backpropagate d loss / d logits; adds into parameters().grads().
  void backward(const Tensor& dlogits);
  /// Loss of logits against labels (KL per sample, batch mean) and its gradient
  /// into the network (training mode is whatever set_training says).
  float loss_and_backward(const Tensor& x, const Tensor& label);
  /// Loss without gradients, in eval mode (restores the previous mode).
  float evaluate_loss(const Tensor& x, const Tensor& label);

  /// Train on `train` windows, validate on `valid` (may be empty) each epoch, in
  /// training mode; the caller's mode is restored on return (exceptions too).
  /// Step losses are named "loss".
  FitResult fit(const data::WindowSet& train, const data::WindowSet& valid,
                const ArcnnFitOptions& options, const FitCallbacks& callbacks = {});

  static constexpr std::int64_t kMaxEditSteps = std::int64_t{1} << 16;

  /// Edit a roll of any length at resolution 4 (16th notes; any other is an
  /// InvalidArgument): windows of 128 steps (the last padded), each edited with
  /// `controls`; a cell is on when non-zero, onsets are ignored. Returns a new
  /// binary roll of the input's length, grid and track info, without onsets.
  PianoRoll edit_roll(const PianoRoll& roll, const EditControls& controls,
                      std::vector<EditStats>* stats = nullptr);
  /// Edit `track` of `melody` (-1: the first track with notes). The result has the
  /// input's ticks per quarter, tempo map, meters and keys and one track with the
  /// input track's name, program and channel; notes at velocity 100, on a grid
  /// of 16ths, lasting the input's length rounded up to a whole quarter.
  /// A track longer than kMaxEditSteps 16ths (4096 bars of 4/4, over two hours at
  /// 120 bpm: 512 windows) is refused with InvalidArgument before anything is
  /// allocated (a stray note far out in a damaged file would otherwise ask for
  /// billions of steps).
  Score edit(const Score& melody, const EditControls& controls, int track = -1,
             std::vector<EditStats>* stats = nullptr);

 private:
  std::unique_ptr<ArcnnImpl> impl_;
};

}  // namespace partita::models

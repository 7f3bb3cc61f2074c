// GAN: melody-conditioned accompaniment (after the AWS DeepComposer samples' GAN, MIT-0).
//
// A U-Net generator G(c, z) turns a 2-bar melody roll c (N, 32, 128, 1) and a
// noise tensor z (N, 2, 8, latent) into a multitrack roll (N, 32, 128, tracks)
// in [-1, 1] (tanh); a convolutional critic D(x | c) scores a multitrack roll
// given the melody. Both follow the reference (F = filters, 64 there):
//
//   generator  enc.0   Conv 4x4 s2 "same" (1 -> F), LeakyReLU 0.2        -> (16, 64, F)
//              enc.i   Conv 4x4 s2 (-> F 2^i), LeakyReLU 0.2, BatchNorm   i = 1..3
//              concat(enc.3, z)                                           -> (2, 8, 8F + latent)
//              dec.j   Upsample x2, Conv 4x4 s1 "same", BatchNorm, ReLU,
//                      concat(., enc.(2-j))                               j = 0..2, filters 4F, 2F, F
//              out     Upsample x2, Conv 4x4 s1 (-> tracks), tanh         -> (32, 128, tracks)
//   critic     concat(x, c) (tracks + 1 channels); conv.k: Conv 4x4 s2 (-> F 2^k), LeakyReLU 0.2,
//              k = 0..3, no normalisation; flatten (NHWC order); fc: Linear(.., 1)
//
// BatchNorm is Keras' (momentum 0.8, eps 1e-3). Conv weights start as PyTorch's
// default (kaiming-uniform a = sqrt(5), bias U(+-1/sqrt(fan_in))).
// Parameter names are those of the PyTorch twin (tools/torch_twins/gan_twin.py):
// "generator.enc.<i>.conv.*", "generator.enc.<i>.bn.*" (i >= 1),
// "generator.dec.<j>.conv.*", "generator.dec.<j>.bn.*", "generator.out.*",
// "critic.conv.<k>.*", "critic.fc.*".
//
// Loss (WGAN-GP): critic  mean D(G(z|c)|c) - mean D(x|c) + 10 mean (|grad D(xhat|c)| - 1)^2,
// xhat = e x + (1 - e) G(z|c), e ~ U(0, 1) per sample (nn/gradient_penalty.hpp);
// generator -mean D(G(z|c)|c). Adam (1e-3, 0.5, 0.9), batch 64, 5 critic steps per
// generator step. As the reference, the critic steps draw their fakes from the
// generator in eval mode (BatchNorm on running statistics), the generator step
// runs it in training mode.
//
// Weights files are model files (model_file.hpp) of kind "gan" with the GanConfig
// as "config"; a file may hold the generator alone (enough to accompany: the
// shipped models) or both networks (training checkpoints).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"
#include "partita/data/multitrack_windows.hpp"
#include "partita/models/trainer.hpp"
#include "partita/music/pianoroll.hpp"
#include "partita/music/score.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::models {

/// Architecture and style of a GAN. The style fields (names, programs, pitch
/// ranges) travel with the weights so a model file knows what it accompanies with.
struct GanConfig {
  int filters = 64;           // F: encoder filters F, 2F, 4F, 8F
  int tracks = 4;             // generated tracks; track 0 is the melody's own channel
  int latent_channels = 512;  // z is (steps / 16, pitches / 16, latent_channels)
  int steps = 32;             // time steps per window (2 bars of 16th notes in 4/4)
  int pitches = 128;          // pitch rows (MIDI 0..127)
  float bn_momentum = 0.8f;   // Keras convention: running = m * running + (1 - m) * batch
  float leak = 0.2f;          // LeakyReLU slope
  /// Condition on the melody's pitch classes too: a second melody channel, +1 at
  /// every pitch row (every octave) whose pitch class the melody sounds at that
  /// step, -1 elsewhere, beside the melody itself, for the generator's input and
  /// the critic's condition. The reference network has none: a part two or three
  /// octaves below the melody sees its pitch only through the coarse layers
  /// (docs/gan.md, "Hearing the melody's pitch classes").
  bool melody_chroma = false;

  // Style: what the generated tracks are.
  std::string style = "chorale";
  /// Names of tracks 1..tracks-1 (the accompaniment parts), e.g. Alto, Tenor, Bass.
  std::vector<std::string> part_names = {"Alto", "Tenor", "Bass"};
  /// General MIDI programs (0-based) of the parts, e.g. 52 (Choir Aahs).
  std::vector<int> programs = {52, 52, 52};
  /// The training melodies' mean pitch: accompany() moves a melody by octaves so
  /// that its mean pitch lands within 6 semitones of this, and moves the parts back.
  double melody_mean_pitch = 67.0;

  /// The reference network (generator about 8.3M parameters, critic about 2.8M).
  static GanConfig reference() { return GanConfig{}; }
  /// The shipped size: F = 32, latent 256 (generator about 2.1M, critic 0.7M;
  /// docs/gan.md says why).
  static GanConfig compact();
  /// String-quartet style names and programs (Violin II, Viola, Cello: 40, 41, 42).
  GanConfig with_quartet_style() const;

  /// InvalidArgument (naming `who`) if a field is out of range: steps and pitches
  /// must be multiples of 16, filters 1..1024, tracks 2..16, programs 0..127,
  /// one name and program per part.
  void validate(const char* who) const;
  std::string to_json() const;
  /// Parse to_json()'s output; WeightsError (naming `who`) on anything else.
  static GanConfig from_json(const std::string& text, const char* who);
  /// Same architecture (the style fields may differ).
  bool same_architecture(const GanConfig& o) const;
};

/// Options of GAN::fit: the loop's (trainer.hpp) and the GAN's own. One step of
/// the loop is one generator iteration: `critic_steps` critic updates, then one
/// generator update, each on its own batch; an epoch is one pass over the
/// (shuffled) training windows, batch_size * (critic_steps + 1) windows a step.
struct GanFitOptions : FitOptions {
  std::int64_t batch_size = 64;
  double lr = 1e-3;
  double beta1 = 0.5;
  double beta2 = 0.9;
  int critic_steps = 5;
  double gp_weight = 10.0;
  /// Random transposition of each training window by up to this many semitones,
  /// among the shifts that keep every voice inside `range` (0: none).
  int max_transpose = 5;
  data::PitchRange range{};
  /// Validation: the critic's Wasserstein estimate mean D(real) - mean D(fake) on
  /// at most this many validation batches (0: all), lower is better.
  std::int64_t max_valid_batches = 8;
  /// Every this many steps (0: never), the sample callback gets the generator's
  /// output (eval mode) for the first `sample_count` validation windows (training
  /// windows without validation) with a fixed z.
  std::int64_t sample_every = 0;
  std::int64_t sample_count = 4;
};

/// A sample during training: the global step and the generated windows
/// (model layout (n, steps, pitches, tracks), values in [-1, 1]) with their melodies.
struct GanSample {
  std::int64_t global_step = 0;
  Tensor melody;     // (n, steps, pitches, 1)
  Tensor generated;  // (n, steps, pitches, tracks)
};

struct GanCallbacks : FitCallbacks {
  std::function<void(const GanSample&)> on_sample;
};

/// What accompany() does with the melody and the generated parts.
struct AccompanyOptions {
  int track = -1;             // melody track of the input score (-1: the first with notes)
  std::vector<int> programs;  // one GM program per part (empty: the model's style defaults)
  std::uint64_t seed = 0;     // the noise z of every window comes from this
  float threshold = 0.0f;     // a generated cell sounds when its value is above this
  int velocity = 80;          // velocity of the generated notes
  /// Generated notes shorter than this many 16ths are dropped (1 keeps all).
  int min_note_steps = 1;
  /// One note at a time per part (a chorale voice, a string part): at each step
  /// the part sounds the pitch with the highest value among those above the
  /// threshold. false: every cell above the threshold sounds (the reference's
  /// plain binarization, chords and clusters included).
  bool monophonic = true;
  /// Monophonic parts are read as a line: a Viterbi path through the generated
  /// values (a pitch scores its value, a rest the threshold) where each move from
  /// one pitch to the next, across rests too, costs this much per semitone. 0:
  /// at each step the highest value above the threshold sounds. Larger values
  /// give smoother lines in a narrower register (docs/gan.md measures it; the
  /// default was chosen on the validation pieces of both shipped styles).
  float leap_penalty = 0.02f;
};

/// What accompany() did (for reports and tests).
struct AccompanyReport {
  int melody_track = 0;
  int octave_shift = 0;       // semitones the melody was moved by into the model's range (multiple of 12)
  std::int64_t steps = 0;     // 16th steps of the melody
  std::int64_t windows = 0;   // generator windows run
  std::vector<std::int64_t> notes_per_part;
};

struct GanImpl;  // the networks (src/models/gan_impl.hpp)

class GAN {
 public:
  /// Freshly initialised networks (seeded).
  explicit GAN(const GanConfig& config = GanConfig::reference(), std::uint64_t seed = 0);
  ~GAN();
  GAN(GAN&&) noexcept;
  GAN& operator=(GAN&&) noexcept;

  /// The GAN a model file describes, in eval mode (the critic too when the file
  /// has it). WeightsError if it is not a "gan" model file this build reads.
  static GAN load(const std::string& path);
  /// A shipped model by name (registry.hpp): "chorale" (alias "gan",
  /// "gan-chorale") or "quartet" ("gan-quartet"), in eval mode.
  static GAN pretrained(const std::string& name = "chorale");

  /// Save a model file (kind "gan", the config, `extra` metadata), atomically;
  /// with_critic = false writes the generator alone (what accompany needs).
  void save(const std::string& path, const std::vector<std::pair<std::string, std::string>>& extra = {},
            bool with_critic = true) const;

  const GanConfig& config() const;
  /// Change the style fields (names, programs, melody mean); InvalidArgument if
  /// the architecture differs.
  void set_style(const GanConfig& style);
  nn::ParameterSet& generator_parameters();
  nn::ParameterSet& critic_parameters();
  std::int64_t generator_parameter_count() const;  // trainable
  std::int64_t critic_parameter_count() const;
  /// False for a GAN loaded from a generator-only model file: its critic is freshly
  /// initialised (fit() then trains it from scratch beside the loaded generator).
  bool has_critic() const;
  void set_training(bool training);
  bool training() const;

  /// z of shape (n, steps / 16, pitches / 16, latent) from the truncated normal.
  Tensor sample_latent(std::int64_t n, Generator& rng) const;
  /// G(c, z): melody (n, steps, pitches, 1) in [-1, 1], z as sample_latent's;
  /// returns (n, steps, pitches, tracks). ShapeError on other shapes.
  const Tensor& generate(const Tensor& melody, const Tensor& z);
  /// D(x | c): scores (n, 1) of x (n, steps, pitches, tracks) given c (n, steps, pitches, 1).
  const Tensor& critique(const Tensor& x, const Tensor& melody);

  /// One critic update's loss parts on a batch of real windows (model layout),
  /// gradients into critic_parameters().grads() (zeroed first); no optimizer step.
  /// Returns {wasserstein = mean D(fake) - mean D(real), penalty}. `rng` draws z and e.
  struct CriticLoss {
    double wasserstein = 0.0;
    double penalty = 0.0;
  };
  CriticLoss critic_loss_and_backward(const Tensor& real, Generator& rng);
  /// The same with the noise given: z as sample_latent's, e (n) the interpolation
  /// weights of xhat = e real + (1 - e) fake (for tests against the PyTorch twin).
  CriticLoss critic_loss_and_backward(const Tensor& real, const Tensor& z, const std::vector<float>& e);
  /// The generator's loss -mean D(G(z|c)|c) for the batch's melodies, gradients into
  /// generator_parameters().grads() (zeroed first); no optimizer step.
  double generator_loss_and_backward(const Tensor& real, Generator& rng);
  double generator_loss_and_backward(const Tensor& real, const Tensor& z);

  /// Train on `train` windows (validate on `valid`, may be empty). Step losses are
  /// "critic" (Wasserstein + penalty of the last critic update), "generator",
  /// "wasserstein", "penalty". Transposition draws from (seed, epoch).
  FitResult fit(const data::MultiTrackWindows& train, const data::MultiTrackWindows& valid,
                const GanFitOptions& options, const GanCallbacks& callbacks = {});

  /// Accompany a melody roll of any length at resolution 4 (InvalidArgument
  /// otherwise): the model hears its top line (the highest pitch of each step),
  /// 2-bar windows, each generated with its own z; returns
  /// tracks - 1 binary part rolls of the melody's length (the melody is not in it),
  /// named after the style's parts with its programs (or options.programs).
  MultiTrackRoll accompany_roll(const PianoRoll& melody, const AccompanyOptions& options,
                                AccompanyReport* report = nullptr);
  /// The score with its melody track unchanged and one named track per part
  /// (style programs unless options.programs). See docs/gan.md for what is refused.
  Score accompany(const Score& score, const AccompanyOptions& options = {},
                  AccompanyReport* report = nullptr);

  static constexpr std::int64_t kMaxSteps = std::int64_t{1} << 16;

  /// In eval mode, generate() and accompany() run a copy of the generator
  /// packed for one window at a time (docs/gan.md, "Speed and memory"), window
  /// by window: the same result as the layers up to float rounding, and each
  /// window's result independent of the others in the batch. It is packed on
  /// first use and again after the weights change: any non-const access to
  /// generator_parameters(), a training-mode forward, fit(). While numpy views
  /// of the weights are alive the layers run instead. A reference to a
  /// parameter kept across such a call and written through later needs
  /// generator_parameters().touch(). The packed copy takes about 1.6x the
  /// generator's weights in memory (52 MB for the reference network, 13 MB
  /// compact); set_packed_inference(false) frees it and runs the layers.
  void set_packed_inference(bool on);
  bool packed_inference() const;
  /// Packs made so far (a diagnostic).
  std::int64_t engine_packs() const;
  /// Whether the last generate() / accompany() ran the packed engine.
  bool engine_used() const;

 private:
  std::unique_ptr<GanImpl> impl_;
};

}  // namespace partita::models

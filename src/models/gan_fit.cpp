// GAN::fit: WGAN-GP training as a TrainTask of the shared loop (trainer.hpp).
//
// One step of the loop is one generator iteration: `critic_steps` critic updates
// (Wasserstein loss + gradient penalty, Adam on the critic) and one generator
// update (Adam on the generator), each on its own batch of windows. Batches walk
// a permutation of the training windows drawn from (seed, epoch); each window is
// transposed by a shift drawn from (seed, epoch, batch) among those that keep
// every voice in range; z and e come from the step's Generator (seed, global
// step). So a resumed run repeats the uninterrupted one exactly.
// Validation: the critic's Wasserstein estimate mean D(real) - mean D(fake) on
// validation windows with a fixed z (lower: the critic tells them apart less).
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "models/gan_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/optim/adam.hpp"

namespace partita::models {

namespace {

/// Batches of model-layout windows with per-window transposition.
class GanBatcher {
 public:
  GanBatcher(const data::MultiTrackWindows& w, const GanConfig& c, int max_transpose, data::PitchRange range)
      : w_(w), c_(c), max_t_(max_transpose), range_(range) {
    const std::int64_t n = w.count();
    lo_.resize(static_cast<size_t>(n));
    hi_.resize(static_cast<size_t>(n));
    const std::int64_t cells = w.window_cells();
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint8_t* p = w.window(i);
      int lo = 128, hi = -1;
      for (std::int64_t k = 0; k < cells; ++k)
        if (p[k]) {
          const int pitch = static_cast<int>(k % 128);
          lo = std::min(lo, pitch);
          hi = std::max(hi, pitch);
        }
      lo_[static_cast<size_t>(i)] = lo;
      hi_[static_cast<size_t>(i)] = hi;
    }
    perm_.resize(static_cast<size_t>(n));
    std::iota(perm_.begin(), perm_.end(), 0);
  }

  std::int64_t count() const { return w_.count(); }
  void shuffle_identity() { std::iota(perm_.begin(), perm_.end(), 0); }

  void shuffle(std::uint64_t seed) {
    std::iota(perm_.begin(), perm_.end(), 0);
    Generator g(seed);
    for (std::int64_t i = static_cast<std::int64_t>(perm_.size()) - 1; i > 0; --i) {
      const auto j = static_cast<std::int64_t>(g.next_u64() % static_cast<std::uint64_t>(i + 1));
      std::swap(perm_[static_cast<size_t>(i)], perm_[static_cast<size_t>(j)]);
    }
  }

  /// Batch b (windows perm[(b * size + i) mod N]) into x (size, steps, pitches, tracks),
  /// transposed with shifts drawn from `g` (none when max_transpose is 0).
  void batch(std::int64_t b, std::int64_t size, Generator& g, Tensor& x) {
    const std::int64_t n = count(), S = c_.steps, P = c_.pitches, T = c_.tracks;
    x.resize({size, S, P, T});
    x.fill(-1.0f);
    for (std::int64_t i = 0; i < size; ++i) {
      const std::int64_t idx = perm_[static_cast<size_t>((b * size + i) % n)];
      int shift = 0;
      const int lo = lo_[static_cast<size_t>(idx)], hi = hi_[static_cast<size_t>(idx)];
      if (max_t_ > 0 && hi >= 0 && lo >= range_.low && hi <= range_.high) {
        const int a = std::max(-max_t_, range_.low - lo), z = std::min(max_t_, range_.high - hi);
        shift = a + static_cast<int>(g.next_u64() % static_cast<std::uint64_t>(z - a + 1));
      }
      const std::uint8_t* p = w_.window(idx);  // (tracks, steps, 128)
      float* out = x.data() + i * S * P * T;
      for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::uint8_t* row = p + (t * w_.steps() + s) * 128;
          for (int q = 0; q < 128; ++q)
            if (row[q]) {
              const int to = q + shift;
              if (to >= 0 && to < P) out[(s * P + to) * T + t] = 1.0f;
            }
        }
    }
  }

 private:
  const data::MultiTrackWindows& w_;
  const GanConfig& c_;
  int max_t_;
  data::PitchRange range_;
  std::vector<int> lo_, hi_;
  std::vector<std::int64_t> perm_;
};

optim::AdamOptions adam_options(const GanFitOptions& o) {
  optim::AdamOptions a;
  a.lr = o.lr;
  a.beta1 = o.beta1;
  a.beta2 = o.beta2;
  return a;
}

class GanTask final : public TrainTask {
 public:
  GanTask(GAN& gan, GanImpl& impl, const data::MultiTrackWindows& train, const data::MultiTrackWindows& valid,
          const GanFitOptions& o, const GanCallbacks& cb)
      : gan_(gan), m_(impl), o_(o), cb_(cb), tb_(train, impl.config, o.max_transpose, o.range),
        gopt_(impl.gparams, adam_options(o)), copt_(impl.cparams, adam_options(o)) {
    m_.gp = nn::GradientPenalty(nn::GradientPenaltyOptions{o.gp_weight, 1e-8});
    if (valid.count() > 0) vb_ = std::make_unique<GanBatcher>(valid, impl.config, 0, o.range);
    // Fixed validation and sample noise.
    Generator g(o.seed ^ 0x5a3b1e5ULL);
    vz_ = gan_.sample_latent(o.batch_size, g);
    if (o.sample_every > 0 && o.sample_count > 0) sz_ = gan_.sample_latent(o.sample_count, g);
  }

  std::string kind() const override { return "gan"; }
  std::string config_json() const override { return m_.config.to_json(); }
  std::vector<nn::ParameterSet*> parameter_sets() override { return {&m_.gparams, &m_.cparams}; }
  std::vector<optim::NamedOptimizer> optimizers() override {
    return {{"generator", &gopt_, &m_.gparams}, {"critic", &copt_, &m_.cparams}};
  }
  void set_training(bool t) override { m_.set_training(t); }
  bool training() const override { return m_.training; }

  std::int64_t begin_epoch(int epoch) override {
    gopt_.set_lr(o_.lr);
    copt_.set_lr(o_.lr);
    epoch_ = epoch;
    tb_.shuffle(o_.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
    const std::int64_t per_step = o_.batch_size * (o_.critic_steps + 1);
    steps_ = std::max<std::int64_t>(1, tb_.count() / per_step);
    if (o_.max_steps_per_epoch > 0) steps_ = std::min(steps_, o_.max_steps_per_epoch);
    return steps_;
  }

  Losses train_step(int epoch, std::int64_t step, Generator& rng) override {
    const std::int64_t per = o_.critic_steps + 1;
    GAN::CriticLoss cl;
    for (int k = 0; k < o_.critic_steps; ++k) {
      next_batch(epoch, step * per + k);
      cl = gan_.critic_loss_and_backward(x_, rng);
      check(cl.wasserstein + cl.penalty, "critic", epoch, step);
      copt_.step();
    }
    next_batch(epoch, step * per + per - 1);
    const double gl = gan_.generator_loss_and_backward(x_, rng);
    check(gl, "generator", epoch, step);
    gopt_.step();
    const std::int64_t global = static_cast<std::int64_t>(epoch) * steps_ + step + 1;
    if (o_.sample_every > 0 && cb_.on_sample && global % o_.sample_every == 0) emit_sample(global);
    return {{"critic", cl.wasserstein + cl.penalty},
            {"generator", gl},
            {"wasserstein", cl.wasserstein},
            {"penalty", cl.penalty}};
  }

  bool has_validation() const override { return vb_ != nullptr; }

  double validate() override {
    std::int64_t nb = (vb_->count() + o_.batch_size - 1) / o_.batch_size;
    if (o_.max_valid_batches > 0) nb = std::min(nb, o_.max_valid_batches);
    Generator g(0);
    double sum = 0.0;
    std::int64_t count = 0;
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t n = std::min(o_.batch_size, vb_->count() - b * o_.batch_size);
      if (n <= 0) break;
      vb_->batch(b, n, g, x_);
      extract_channel(x_, 0, mel_);
      Tensor z = vz_.slice(0, n);
      fake_ = gan_.generate(mel_, z);
      const Tensor& sr = gan_.critique(x_, mel_);
      double d = 0.0;
      for (std::int64_t i = 0; i < n; ++i) d += sr[i];
      const Tensor& sf = gan_.critique(fake_, mel_);
      for (std::int64_t i = 0; i < n; ++i) d -= sf[i];
      sum += d;
      count += n;
    }
    return sum / static_cast<double>(count);
  }

 private:
  void next_batch(int epoch, std::int64_t b) {
    Generator g((o_.seed * 0x9e3779b97f4a7c15ULL) ^ (static_cast<std::uint64_t>(epoch) << 32) ^
                static_cast<std::uint64_t>(b));
    tb_.batch(b, o_.batch_size, g, x_);
  }

  static void check(double v, const char* what, int epoch, std::int64_t step) {
    if (!std::isfinite(v))
      throw Error("GAN::fit: the " + std::string(what) + " loss became " + std::to_string(v) + " at epoch " +
                  std::to_string(epoch) + " step " + std::to_string(step) + " (lower the lr)");
  }

  void emit_sample(std::int64_t global) {
    GanBatcher& src = vb_ ? *vb_ : tb_;
    const std::int64_t n = std::min<std::int64_t>(o_.sample_count, src.count());
    if (n < 1) return;
    Generator g(0);
    Tensor x;
    GanBatcher fixed = src;  // unshuffled order: the same windows every time
    fixed.shuffle_identity();
    fixed.batch(0, n, g, x);
    GanSample s;
    s.global_step = global;
    extract_channel(x, 0, s.melody);
    const bool was = m_.training;
    m_.set_training(false);
    Tensor z = sz_.slice(0, n);
    s.generated = gan_.generate(s.melody, z);
    m_.set_training(was);
    cb_.on_sample(s);
  }

  GAN& gan_;
  GanImpl& m_;
  const GanFitOptions& o_;
  const GanCallbacks& cb_;
  GanBatcher tb_;
  std::unique_ptr<GanBatcher> vb_;
  optim::Adam gopt_, copt_;
  Tensor x_, mel_, fake_, vz_, sz_;
  int epoch_ = 0;
  std::int64_t steps_ = 1;
};

}  // namespace

FitResult GAN::fit(const data::MultiTrackWindows& train, const data::MultiTrackWindows& valid, const GanFitOptions& o,
                   const GanCallbacks& cb) {
  const char* who = "GAN::fit";
  const GanConfig& c = impl_->config;
  if (o.epochs < 0) throw InvalidArgument(std::string(who) + ": epochs must be >= 0");
  if (o.batch_size < 1) throw InvalidArgument(std::string(who) + ": batch_size must be >= 1");
  if (!(o.lr > 0.0)) throw InvalidArgument(std::string(who) + ": lr must be > 0");
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0))
    throw InvalidArgument(std::string(who) + ": beta1 and beta2 must be in [0, 1)");
  if (o.critic_steps < 1) throw InvalidArgument(std::string(who) + ": critic_steps must be >= 1");
  if (!(o.gp_weight >= 0.0)) throw InvalidArgument(std::string(who) + ": gp_weight must be >= 0");
  if (o.max_transpose < 0 || o.max_transpose > 24)
    throw InvalidArgument(std::string(who) + ": max_transpose must be in 0..24");
  if (o.max_steps < 0 || o.max_steps_per_epoch < 0 || o.max_valid_batches < 0 || o.sample_every < 0 ||
      o.sample_count < 0)
    throw InvalidArgument(std::string(who) + ": step limits and sample settings must be >= 0");
  if (train.count() == 0) throw InvalidArgument(std::string(who) + ": no training windows");
  auto check_windows = [&](const data::MultiTrackWindows& w, const char* what) {
    if (w.count() > 0 && (w.tracks() != c.tracks || w.steps() != c.steps))
      throw InvalidArgument(std::string(who) + ": " + what + " windows are " + std::to_string(w.tracks()) +
                            " tracks x " + std::to_string(w.steps()) + " steps; the model needs " +
                            std::to_string(c.tracks) + " x " + std::to_string(c.steps));
  };
  check_windows(train, "training");
  check_windows(valid, "validation");
  // The melodies' mean pitch: accompany() moves a melody into this register.
  {
    double sum = 0.0, cnt = 0.0;
    const std::int64_t per = train.steps() * 128;
    for (std::int64_t i = 0; i < train.count(); ++i) {
      const std::uint8_t* p = train.window(i);  // track 0 first
      for (std::int64_t k = 0; k < per; ++k)
        if (p[k]) sum += static_cast<double>(k % 128), cnt += 1.0;
    }
    if (cnt > 0.0) impl_->config.melody_mean_pitch = sum / cnt;
  }
  GanTask task(*this, *impl_, train, valid, o, cb);
  FitResult r = run_training(task, o, cb, who);
  impl_->has_critic = true;
  return r;
}

}  // namespace partita::models

// GAN networks: config, generator and critic construction, forward, backward,
// the WGAN-GP losses, weights I/O.
#include "partita/models/gan.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/gan_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/threads.hpp"
#include "partita/models/model_file.hpp"
#include "partita/models/registry.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::models {

// ---------------------------------------------------------------- config

GanConfig GanConfig::compact() {
  GanConfig c;
  c.filters = 32;
  c.latent_channels = 256;
  return c;
}

GanConfig GanConfig::with_quartet_style() const {
  GanConfig c = *this;
  c.style = "quartet";
  c.part_names = {"Violin II", "Viola", "Cello"};
  c.programs = {40, 41, 42};
  c.melody_mean_pitch = 74.0;
  return c;
}

void GanConfig::validate(const char* who) const {
  auto bad = [&](const std::string& m) { throw InvalidArgument(std::string(who) + ": " + m); };
  if (filters < 1 || filters > 1024) bad("filters must be in 1..1024, got " + std::to_string(filters));
  if (tracks < 2 || tracks > 16) bad("tracks must be in 2..16, got " + std::to_string(tracks));
  if (latent_channels < 1 || latent_channels > 8192)
    bad("latent_channels must be in 1..8192, got " + std::to_string(latent_channels));
  if (steps < 16 || steps > 4096 || steps % 16 != 0)
    bad("steps must be a positive multiple of 16 up to 4096, got " + std::to_string(steps));
  if (pitches < 16 || pitches > 128 || pitches % 16 != 0)
    bad("pitches must be a multiple of 16 in 16..128, got " + std::to_string(pitches));
  if (!(bn_momentum >= 0.0f && bn_momentum < 1.0f))
    bad("bn_momentum must be in [0, 1), got " + std::to_string(bn_momentum));
  if (!(leak >= 0.0f && leak < 1.0f)) bad("leak must be in [0, 1), got " + std::to_string(leak));
  const size_t parts = static_cast<size_t>(tracks - 1);
  if (part_names.size() != parts)
    bad("part_names needs " + std::to_string(parts) + " names (one per generated part), got " +
        std::to_string(part_names.size()));
  if (programs.size() != parts)
    bad("programs needs " + std::to_string(parts) + " entries (one per generated part), got " +
        std::to_string(programs.size()));
  for (int p : programs)
    if (p < 0 || p > 127) bad("programs must be General MIDI programs 0..127, got " + std::to_string(p));
  if (!(melody_mean_pitch >= 0.0 && melody_mean_pitch <= 127.0))
    bad("melody_mean_pitch must be in 0..127, got " + std::to_string(melody_mean_pitch));
}

std::string GanConfig::to_json() const {
  json::Value v = json::Value::object();
  v.set("filters", filters);
  v.set("tracks", tracks);
  v.set("latent_channels", latent_channels);
  v.set("steps", steps);
  v.set("pitches", pitches);
  v.set("bn_momentum", static_cast<double>(bn_momentum));
  v.set("leak", static_cast<double>(leak));
  if (melody_chroma) v.set("melody_chroma", true);  // absent: false (files before the option)
  v.set("style", style);
  json::Value names = json::Value::array();
  for (const std::string& n : part_names) names.push_back(n);
  v.set("part_names", names);
  json::Value progs = json::Value::array();
  for (int p : programs) progs.push_back(p);
  v.set("programs", progs);
  v.set("melody_mean_pitch", melody_mean_pitch);
  return v.dump();
}

GanConfig GanConfig::from_json(const std::string& text, const char* who) {
  GanConfig c;
  try {
    json::Value v = json::parse(text, who);
    auto get = [&](const char* key) -> const json::Value& {
      const json::Value* f = v.find(key);
      if (!f) throw WeightsError(std::string(who) + ": GAN config has no \"" + key + "\"");
      return *f;
    };
    c.filters = static_cast<int>(get("filters").as_int());
    c.tracks = static_cast<int>(get("tracks").as_int());
    c.latent_channels = static_cast<int>(get("latent_channels").as_int());
    c.steps = static_cast<int>(get("steps").as_int());
    c.pitches = static_cast<int>(get("pitches").as_int());
    c.bn_momentum = static_cast<float>(get("bn_momentum").as_double());
    c.leak = static_cast<float>(get("leak").as_double());
    if (const json::Value* f = v.find("melody_chroma")) c.melody_chroma = f->as_bool();
    c.style = get("style").as_string();
    c.part_names.clear();
    for (const json::Value& n : get("part_names").as_array()) c.part_names.push_back(n.as_string());
    c.programs.clear();
    for (const json::Value& p : get("programs").as_array()) c.programs.push_back(static_cast<int>(p.as_int()));
    c.melody_mean_pitch = get("melody_mean_pitch").as_double();
    c.validate(who);
  } catch (const WeightsError&) {
    throw;
  } catch (const Error& e) {
    throw WeightsError(std::string(who) + ": bad GAN config " + text + ": " + e.what());
  }
  return c;
}

bool GanConfig::same_architecture(const GanConfig& o) const {
  return filters == o.filters && tracks == o.tracks && latent_channels == o.latent_channels && steps == o.steps &&
         pitches == o.pitches && bn_momentum == o.bn_momentum && leak == o.leak && melody_chroma == o.melody_chroma;
}

// ---------------------------------------------------------------- helpers

namespace {

nn::Conv2dSpec conv4(std::int64_t cin, std::int64_t cout, int stride) {
  nn::Conv2dSpec s;
  s.in_channels = cin;
  s.out_channels = cout;
  s.kernel_h = s.kernel_w = 4;
  s.stride_h = s.stride_w = stride;
  s.padding = nn::Padding::same();
  s.init = nn::WeightInit::GlorotUniform;  // Keras' default, as the reference
  return s;
}

void add_into(Tensor& acc, const Tensor& g) {
  float* a = acc.data();
  const float* b = g.data();
  const std::int64_t n = acc.size();
  for (std::int64_t i = 0; i < n; ++i) a[i] += b[i];
}

}  // namespace

void melody_input(const Tensor& melody, Tensor& out) {
  const std::int64_t n = melody.dim(0), S = melody.dim(1), P = melody.dim(2);
  out.resize({n, S, P, 2});
  const float* m = melody.data();
  float* o = out.data();
  for (std::int64_t r = 0; r < n * S; ++r) {
    bool pc[12];
    sounding_pitch_classes(m + r * P, P, pc);
    for (std::int64_t p = 0; p < P; ++p) {
      o[(r * P + p) * 2] = m[r * P + p];
      o[(r * P + p) * 2 + 1] = pc[p % 12] ? 1.0f : -1.0f;
    }
  }
}

void extract_channel(const Tensor& x, std::int64_t ch, Tensor& out) {
  const std::int64_t C = x.dim(3);
  const std::int64_t pixels = x.size() / C;
  out.resize({x.dim(0), x.dim(1), x.dim(2), 1});
  const float* s = x.data();
  float* d = out.data();
  for (std::int64_t i = 0; i < pixels; ++i) d[i] = s[i * C + ch];
}

// ---------------------------------------------------------------- generator

GanGenerator::GanGenerator(nn::ParameterSet& ps, const GanConfig& c) : params_(&ps), c_(c) {
  const std::int64_t F = c.filters;
  std::int64_t cin = c.melody_chroma ? 2 : 1;
  for (int i = 0; i < 4; ++i) {
    const std::string p = "generator.enc." + std::to_string(i);
    Down d;
    d.conv = std::make_unique<nn::Conv2d>(ps, p + ".conv", conv4(cin, F << i, 2));
    d.act = nn::LeakyReLU(c.leak);
    if (i > 0) d.bn = std::make_unique<nn::BatchNorm>(ps, p + ".bn", F << i, nn::BatchNormSpec::keras(c.bn_momentum));
    enc_.push_back(std::move(d));
    cin = F << i;
  }
  enc_[0].conv->set_input_grad(false);  // nothing upstream of the melody
  cin = (F << 3) + c.latent_channels;
  for (int j = 0; j < 3; ++j) {
    const std::string p = "generator.dec." + std::to_string(j);
    const std::int64_t f = F << (2 - j);
    Up u;
    u.conv = std::make_unique<nn::UpsampleConv2d>(ps, p + ".conv", cin, f, 4, nn::WeightInit::GlorotUniform);
    u.bn = std::make_unique<nn::BatchNorm>(ps, p + ".bn", f, nn::BatchNormSpec::keras(c.bn_momentum));
    dec_.push_back(std::move(u));
    cin = 2 * f;  // the block's output and the matching encoder output
  }
  out_ = std::make_unique<nn::UpsampleConv2d>(ps, "generator.out", cin, c.tracks, 4, nn::WeightInit::GlorotUniform);
  enc_out_.assign(4, nullptr);
}

void GanGenerator::set_training(bool t) {
  training_ = t;
  for (auto& d : enc_)
    if (d.bn) d.bn->set_training(t);
  for (auto& u : dec_) u.bn->set_training(t);
}

const Tensor& GanGenerator::forward(const Tensor& melody, const Tensor& z) {
  if (training_) params_->touch();  // the BatchNorm running statistics move
  const Tensor* h = &melody;
  if (c_.melody_chroma) {
    melody_input(melody, input_);
    h = &input_;
  }
  for (int i = 0; i < 4; ++i) {
    Down& d = enc_[i];
    h = &d.act.forward(d.conv->forward(*h));
    if (d.bn) h = &d.bn->forward(*h);
    enc_out_[i] = h;
  }
  h = &zcat_.forward(*h, z);
  for (int j = 0; j < 3; ++j) {
    Up& u = dec_[j];
    h = &u.act.forward(u.bn->forward(u.conv->forward(*h)));
    h = &u.cat.forward(*h, *enc_out_[2 - j]);
  }
  return tanh_.forward(out_->forward(*h));
}

void GanGenerator::backward(const Tensor& dy) {
  const Tensor* g = &out_->backward(tanh_.backward(dy));
  std::vector<const Tensor*> dskip(3, nullptr);
  for (int j = 2; j >= 0; --j) {
    Up& u = dec_[j];
    auto parts = u.cat.backward(*g);
    dskip[2 - j] = &parts.b;
    g = &u.conv->backward(u.bn->backward(u.act.backward(parts.a)));
  }
  g = &zcat_.backward(*g).a;
  for (int i = 3; i >= 0; --i) {
    Down& d = enc_[i];
    if (i < 3) {  // this level's output also fed decoder block 2 - i
      d.dsum.resize(g->shape());
      std::memcpy(d.dsum.data(), g->data(), sizeof(float) * static_cast<size_t>(g->size()));
      add_into(d.dsum, *dskip[i]);
      g = &d.dsum;
    }
    if (d.bn) g = &d.bn->backward(*g);
    g = &d.conv->backward(d.act.backward(*g));
  }
}

// ---------------------------------------------------------------- critic

GanCritic::GanCritic(nn::ParameterSet& ps, const GanConfig& c) : c_(c) {
  const std::int64_t F = c.filters;
  std::int64_t cin = c.tracks + (c.melody_chroma ? 2 : 1);
  for (int k = 0; k < 4; ++k) {
    conv_.push_back(std::make_unique<nn::Conv2d>(ps, "critic.conv." + std::to_string(k), conv4(cin, F << k, 2)));
    act_.emplace_back(c.leak);
    cin = F << k;
  }
  slopes_.resize(4);
  tk_.resize(4);
  const std::int64_t flat = (c.steps / 16) * (c.pitches / 16) * (F << 3);
  fc_ = std::make_unique<nn::Linear>(ps, "critic.fc", flat, 1, true, nn::init_glorot_uniform(flat, 1));
}

void GanCritic::set_condition(const Tensor& melody) {
  if (c_.melody_chroma && melody.rank() == 4 && melody.dim(3) == 1) {
    melody_input(melody, cond_own_);  // the melody and its pitch classes
    cond_ = Tensor::view(cond_own_.data(), cond_own_.shape());
  } else {
    cond_ = Tensor::view(const_cast<float*>(melody.data()), melody.shape());
  }
}

const Tensor& GanCritic::forward(const Tensor& x) {
  if (x.rank() != 4 || x.dim(3) != c_.tracks || x.dim(1) != c_.steps || x.dim(2) != c_.pitches)
    throw ShapeError("GAN critic: expected x of shape (n, " + std::to_string(c_.steps) + ", " +
                     std::to_string(c_.pitches) + ", " + std::to_string(c_.tracks) + "), got " + shape_str(x.shape()));
  if (cond_.rank() != 4 || cond_.dim(0) != x.dim(0) || cond_.dim(1) != x.dim(1) || cond_.dim(2) != x.dim(2) ||
      cond_.dim(3) != (c_.melody_chroma ? 2 : 1))
    throw ShapeError("GAN critic: the melody condition " + shape_str(cond_.shape()) + " does not match x " +
                     shape_str(x.shape()));
  ++forwards_;
  const Tensor* h = &cat_.forward(x, cond_);
  for (int k = 0; k < 4; ++k) {
    h = &act_[k].forward(conv_[k]->forward(*h));
    slopes_[k].record(*h, c_.leak);
  }
  last_shape_ = h->shape();
  flat_ = h->reshaped({h->dim(0), h->size() / h->dim(0)});
  return fc_->forward(flat_);
}

void GanCritic::set_parameter_grad(bool on) {
  for (auto& c : conv_) c->set_weight_grad(on);
}

const Tensor& GanCritic::backward(const Tensor& dscores) {
  d_ = fc_->backward(dscores).reshaped(last_shape_);
  const Tensor* g = &d_;
  conv_[0]->set_input_grad(input_grad_);
  for (int k = 3; k >= 0; --k) {
    deltas_[k] = &act_[k].backward(*g);
    g = &conv_[k]->backward(*deltas_[k]);
  }
  deltas_of_ = forwards_;
  delta_scores_.assign(dscores.data(), dscores.data() + dscores.size());
  if (!input_grad_) return empty_;
  return cat_.backward(*g).a;
}

const Tensor& GanCritic::forward_tangent(const Tensor& u) {
  zeros_.resize(cond_.shape());
  zeros_.zero();
  const Tensor* h = &cat_.forward(u, zeros_);
  for (int k = 0; k < 4; ++k) {
    tk_[k] = conv_[k]->forward(*h);
    nn::subtract_bias(tk_[k], conv_[k]->bias()->value);
    slopes_[k].apply(tk_[k]);
    h = &tk_[k];
  }
  t_ = h->reshaped({h->dim(0), h->size() / h->dim(0)});
  Tensor& y = const_cast<Tensor&>(fc_->forward(t_));
  nn::subtract_bias(y, fc_->bias()->value);
  return y;
}

void GanCritic::backward_tangent(const Tensor& dscores) {
  std::vector<Tensor*> b;
  for (auto& c : conv_) b.push_back(&c->bias()->grad);
  b.push_back(&fc_->bias()->grad);
  biases_.save(b);
  d_ = fc_->backward(dscores).reshaped(last_shape_);
  // The gradient penalty's second pass follows its first (backward(ones) at
  // xhat): the linearisation's backward signals are that pass's, so only the
  // weight gradients against the tangent activations remain to be computed.
  if (deltas_of_ == forwards_ && static_cast<std::int64_t>(delta_scores_.size()) == dscores.size() &&
      std::equal(delta_scores_.begin(), delta_scores_.end(), dscores.data())) {
    for (int k = 3; k >= 0; --k) {
      conv_[k]->set_input_grad(false);
      conv_[k]->backward(*deltas_[k]);
      conv_[k]->set_input_grad(true);
    }
    biases_.restore();
    return;
  }
  Tensor* g = &d_;
  for (int k = 3; k >= 0; --k) {
    slopes_[k].apply(*g);
    if (k == 0) {
      conv_[0]->set_input_grad(false);
      conv_[0]->backward(*g);
      conv_[0]->set_input_grad(true);
    } else {
      tk_[k] = conv_[k]->backward(*g);
      g = &tk_[k];
    }
  }
  biases_.restore();
}

// ---------------------------------------------------------------- impl

GanImpl::GanImpl(const GanConfig& c, std::uint64_t seed, bool allocate)
    : config(c), gp(nn::GradientPenaltyOptions{10.0, 1e-8}) {
  config.validate("GAN");
  gen = std::make_unique<GanGenerator>(gparams, config);
  critic = std::make_unique<GanCritic>(cparams, config);
  if (allocate) {
    gparams.allocate(seed);
    cparams.allocate(seed ^ 0xc417c0ffeeULL);
  }
}

void GanImpl::set_training(bool t) {
  training = t;
  gen->set_training(t);
}

GanInference* GanImpl::inference() {
  if (!use_engine || training || gparams.live_views() > 0) return nullptr;
  const int threads = num_threads();
  const bool bf16 = bf16_matmul_active() && nn::infer::bf16_kernel_available();
  const std::uint64_t v = gparams.version();
  const bool same = engine && engine->threads() == threads && engine->bfloat16() == bf16;
  if (same && engine_version == v) return engine.get();
  if (same) {
    engine->repack(*gen);  // into the same memory: no page is faulted in again
  } else {
    engine.reset();  // the old packing's memory first
    engine = std::make_unique<GanInference>(*gen, threads, bf16);
  }
  engine_version = v;
  ++engine_packs;
  return engine.get();
}

// ---------------------------------------------------------------- GAN

GAN::GAN(const GanConfig& config, std::uint64_t seed) : impl_(std::make_unique<GanImpl>(config, seed)) {}
GAN::~GAN() = default;
GAN::GAN(GAN&&) noexcept = default;
GAN& GAN::operator=(GAN&&) noexcept = default;

const GanConfig& GAN::config() const { return impl_->config; }
void GAN::set_style(const GanConfig& style) {
  style.validate("GAN::set_style");
  if (!style.same_architecture(impl_->config))
    throw InvalidArgument("GAN::set_style: the style's architecture " + style.to_json() + " differs from the model's " +
                          impl_->config.to_json());
  impl_->config = style;
}
nn::ParameterSet& GAN::generator_parameters() { return impl_->gparams; }
nn::ParameterSet& GAN::critic_parameters() { return impl_->cparams; }
std::int64_t GAN::generator_parameter_count() const { return impl_->gparams.trainable_count(); }
std::int64_t GAN::critic_parameter_count() const { return impl_->cparams.trainable_count(); }
bool GAN::has_critic() const { return impl_->has_critic; }
void GAN::set_training(bool t) { impl_->set_training(t); }
bool GAN::training() const { return impl_->training; }
std::int64_t GAN::engine_packs() const { return impl_->engine_packs; }
void GAN::set_packed_inference(bool on) {
  impl_->use_engine = on;
  if (!on) impl_->engine.reset();  // its memory back
}
bool GAN::packed_inference() const { return impl_->use_engine; }
bool GAN::engine_used() const { return impl_->engine_used; }

Tensor GAN::sample_latent(std::int64_t n, Generator& rng) const {
  if (n < 1) throw InvalidArgument("GAN::sample_latent: n must be >= 1, got " + std::to_string(n));
  const GanConfig& c = impl_->config;
  Tensor z({n, c.steps / 16, c.pitches / 16, c.latent_channels});
  for (std::int64_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(rng.truncated_normal());
  return z;
}

static void check_melody(const GanConfig& c, const Tensor& m, const char* who) {
  if (m.rank() != 4 || m.dim(0) < 1 || m.dim(1) != c.steps || m.dim(2) != c.pitches || m.dim(3) != 1)
    throw ShapeError(std::string(who) + ": expected a melody batch (n, " + std::to_string(c.steps) + ", " +
                     std::to_string(c.pitches) + ", 1), got " + shape_str(m.shape()));
}

static void check_latent(const GanConfig& c, const Tensor& z, std::int64_t n, const char* who) {
  if (z.rank() != 4 || z.dim(0) != n || z.dim(1) != c.steps / 16 || z.dim(2) != c.pitches / 16 ||
      z.dim(3) != c.latent_channels)
    throw ShapeError(std::string(who) + ": expected z of shape (" + std::to_string(n) + ", " +
                     std::to_string(c.steps / 16) + ", " + std::to_string(c.pitches / 16) + ", " +
                     std::to_string(c.latent_channels) + "), got " + shape_str(z.shape()));
}

static void check_real(const GanConfig& c, const Tensor& x, const char* who) {
  if (x.rank() != 4 || x.dim(0) < 1 || x.dim(1) != c.steps || x.dim(2) != c.pitches || x.dim(3) != c.tracks)
    throw ShapeError(std::string(who) + ": expected windows (n, " + std::to_string(c.steps) + ", " +
                     std::to_string(c.pitches) + ", " + std::to_string(c.tracks) + "), got " + shape_str(x.shape()));
}

const Tensor& GAN::generate(const Tensor& melody, const Tensor& z) {
  check_melody(impl_->config, melody, "GAN::generate");
  check_latent(impl_->config, z, melody.dim(0), "GAN::generate");
  GanInference* e = impl_->inference();
  impl_->engine_used = e != nullptr;
  if (e) {  // window by window
    const GanConfig& c = impl_->config;
    const std::int64_t n = melody.dim(0), win = c.steps * c.pitches, zper = z.size() / n;
    impl_->engine_out.resize({n, c.steps, c.pitches, c.tracks});
    for (std::int64_t w = 0; w < n; ++w)
      e->run(melody.data() + w * win, z.data() + w * zper, impl_->engine_out.data() + w * win * c.tracks);
    return impl_->engine_out;
  }
  return impl_->gen->forward(melody, z);
}

const Tensor& GAN::critique(const Tensor& x, const Tensor& melody) {
  check_real(impl_->config, x, "GAN::critique");
  check_melody(impl_->config, melody, "GAN::critique");
  impl_->critic->set_condition(melody);
  return impl_->critic->forward(x);
}

GAN::CriticLoss GAN::critic_loss_and_backward(const Tensor& real, Generator& rng) {
  check_real(impl_->config, real, "GAN::critic_loss_and_backward");
  const std::int64_t n = real.dim(0);
  Tensor z = sample_latent(n, rng);
  std::vector<float> e(static_cast<size_t>(n));
  for (float& v : e) v = static_cast<float>(rng.uniform());
  return critic_loss_and_backward(real, z, e);
}

GAN::CriticLoss GAN::critic_loss_and_backward(const Tensor& real, const Tensor& z, const std::vector<float>& e) {
  GanImpl& m = *impl_;
  const char* who = "GAN::critic_loss_and_backward";
  check_real(m.config, real, who);
  const std::int64_t n = real.dim(0);
  check_latent(m.config, z, n, who);
  if (static_cast<std::int64_t>(e.size()) != n)
    throw ShapeError(std::string(who) + ": need one interpolation weight per sample (" + std::to_string(n) +
                     "), got " + std::to_string(e.size()));
  extract_channel(real, 0, m.melody_);
  // Fakes from the generator in eval mode (the reference's training=False).
  const bool was = m.training;
  m.gen->set_training(false);
  m.fake_ = m.gen->forward(m.melody_, z);
  m.gen->set_training(was);

  m.cparams.zero_grad();
  GanCritic& D = *m.critic;
  D.set_condition(m.melody_);
  D.set_input_grad(false);
  m.dscore_.resize({n, 1});
  const Tensor& sr = D.forward(real);
  double mean_real = 0.0;
  for (std::int64_t i = 0; i < n; ++i) mean_real += sr[i];
  mean_real /= static_cast<double>(n);
  m.dscore_.fill(-1.0f / static_cast<float>(n));
  D.backward(m.dscore_);
  const Tensor& sf = D.forward(m.fake_);
  double mean_fake = 0.0;
  for (std::int64_t i = 0; i < n; ++i) mean_fake += sf[i];
  mean_fake /= static_cast<double>(n);
  m.dscore_.fill(1.0f / static_cast<float>(n));
  D.backward(m.dscore_);
  D.set_input_grad(true);

  m.xhat_.resize(real.shape());
  const std::int64_t per = real.size() / n;
  for (std::int64_t s = 0; s < n; ++s) {
    const float w = e[static_cast<size_t>(s)];
    const float* r = real.data() + s * per;
    const float* f = m.fake_.data() + s * per;
    float* x = m.xhat_.data() + s * per;
    for (std::int64_t i = 0; i < per; ++i) x[i] = w * r[i] + (1.0f - w) * f[i];
  }
  const double penalty = m.gp.forward_backward(D, m.xhat_, m.cparams.grads());
  return {mean_fake - mean_real, penalty};
}

double GAN::generator_loss_and_backward(const Tensor& real, Generator& rng) {
  check_real(impl_->config, real, "GAN::generator_loss_and_backward");
  return generator_loss_and_backward(real, sample_latent(real.dim(0), rng));
}

double GAN::generator_loss_and_backward(const Tensor& real, const Tensor& z) {
  GanImpl& m = *impl_;
  const char* who = "GAN::generator_loss_and_backward";
  check_real(m.config, real, who);
  const std::int64_t n = real.dim(0);
  check_latent(m.config, z, n, who);
  extract_channel(real, 0, m.melody_);
  m.gparams.zero_grad();
  const Tensor& fake = m.gen->forward(m.melody_, z);
  GanCritic& D = *m.critic;
  D.set_condition(m.melody_);
  D.set_input_grad(true);
  const Tensor& s = D.forward(fake);
  double mean = 0.0;
  for (std::int64_t i = 0; i < n; ++i) mean += s[i];
  mean /= static_cast<double>(n);
  m.dscore_.resize({n, 1});
  m.dscore_.fill(-1.0f / static_cast<float>(n));
  D.set_parameter_grad(false);  // only d/dfake is needed
  const Tensor& dfake = D.backward(m.dscore_);
  D.set_parameter_grad(true);
  m.gen->backward(dfake);
  return -mean;
}

// ---------------------------------------------------------------- files

void GAN::save(const std::string& path, const std::vector<std::pair<std::string, std::string>>& extra,
               bool with_critic) const {
  optim::Metadata md;
  for (const auto& kv : extra) md[kv.first] = kv.second;
  if (with_critic)
    save_model_file(path, std::vector<const nn::ParameterSet*>{&impl_->gparams, &impl_->cparams}, "gan",
                    impl_->config.to_json(), md);
  else
    save_model_file(path, impl_->gparams, "gan", impl_->config.to_json(), md);
}

GAN GAN::load(const std::string& path) {
  const char* who = "GAN::load";
  const ModelFileHeader h = read_model_header(path, "gan", who);
  const GanConfig config = GanConfig::from_json(h.config, who);
  bool critic_in_file = false;
  std::int64_t held = 0;
  {
    optim::SafetensorsReader r(path);
    for (const optim::TensorInfo& t : r.tensors()) {
      held += t.numel();
      if (t.name.rfind("critic.", 0) == 0) critic_in_file = true;
    }
  }
  // Refuse a config far larger than the tensors (a damaged or hostile header)
  // before allocating anything.
  const GanImpl declared(config, 0, /*allocate=*/false);
  std::int64_t needed = 0;
  for (const nn::Parameter& p : declared.gparams.params()) needed += shape_numel(p.shape);
  if (needed > held)
    throw WeightsError(std::string(who) + ": " + path + " holds " + std::to_string(held) + " values, but its config " +
                       config.to_json() + " needs " + std::to_string(needed) + " for the generator alone");
  GAN m(config, 0);
  if (critic_in_file)
    load_model_file(path, std::vector<nn::ParameterSet*>{&m.impl_->gparams, &m.impl_->cparams}, "gan", who);
  else
    load_model_file(path, m.impl_->gparams, "gan", who);
  m.impl_->has_critic = critic_in_file;
  m.set_training(false);
  return m;
}

GAN GAN::pretrained(const std::string& name) {
  const ShippedModel& entry = find_shipped_model(name);
  if (entry.kind != "gan")
    throw InvalidArgument("GAN::pretrained: '" + name + "' is a \"" + entry.kind + "\" model, not a GAN");
  return load(shipped_model_path(entry.name));
}

}  // namespace partita::models

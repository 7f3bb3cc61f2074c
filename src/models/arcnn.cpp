// ARCNN network: config, U-Net construction, forward, backward, loss, weights I/O.
#include "partita/models/arcnn.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "partita/core/error.hpp"
#include "models/arcnn_impl.hpp"
#include "partita/models/model_file.hpp"
#include "partita/models/registry.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::models {

// ---------------------------------------------------------------- config

void ArcnnConfig::validate(const char* who) const {
  auto bad = [&](const std::string& m) { throw InvalidArgument(std::string(who) + ": " + m); };
  if (levels < 1 || levels > 7) bad("levels must be in 1..7, got " + std::to_string(levels));
  if (base_filters < 1 || base_filters > 1024)
    bad("base_filters must be in 1..1024, got " + std::to_string(base_filters));
  if (bottleneck_filters < 0 || bottleneck_filters > 8192)
    bad("bottleneck_filters must be in 0..8192, got " + std::to_string(bottleneck_filters));
  if (!(bn_momentum >= 0.0f && bn_momentum < 1.0f))
    bad("bn_momentum must be in [0, 1), got " + std::to_string(bn_momentum));
  if (!(dropout >= 0.0f && dropout < 1.0f))
    bad("dropout must be in [0, 1), got " + std::to_string(dropout));
}

std::string ArcnnConfig::to_json() const {
  json::Value v = json::Value::object();
  v.set("levels", levels);
  v.set("base_filters", base_filters);
  v.set("bottleneck_filters", bottleneck());
  v.set("dropout", static_cast<double>(dropout));
  v.set("bn_momentum", static_cast<double>(bn_momentum));
  return v.dump();
}

ArcnnConfig ArcnnConfig::from_json(const std::string& text, const char* who) {
  ArcnnConfig c;
  try {
    json::Value v = json::parse(text, who);
    auto get = [&](const char* key) -> const json::Value& {
      const json::Value* f = v.find(key);
      if (!f) throw WeightsError(std::string(who) + ": config has no \"" + key + "\"");
      return *f;
    };
    c.levels = static_cast<int>(get("levels").as_int());
    c.base_filters = static_cast<int>(get("base_filters").as_int());
    c.bottleneck_filters = static_cast<int>(get("bottleneck_filters").as_int());
    c.dropout = static_cast<float>(get("dropout").as_double());
    // Optional (files written before it existed used Keras' 0.99).
    if (const json::Value* bm = v.find("bn_momentum")) c.bn_momentum = static_cast<float>(bm->as_double());
    c.validate(who);
  } catch (const WeightsError&) {
    throw;
  } catch (const Error& e) {
    throw WeightsError(std::string(who) + ": bad AR-CNN config " + text + ": " + e.what());
  }
  return c;
}

// ---------------------------------------------------------------- network

static nn::Conv2dSpec conv3(std::int64_t cin, std::int64_t cout) {
  nn::Conv2dSpec s;
  s.in_channels = cin;
  s.out_channels = cout;
  s.kernel_h = s.kernel_w = 3;
  s.padding = nn::Padding::same();
  s.init = nn::WeightInit::GlorotUniform;
  return s;
}

ArcnnImpl::ArcnnImpl(const ArcnnConfig& c, std::uint64_t seed, bool allocate) : config(c) {
  config.validate("ARCNN");
  const int L = config.levels;
  const std::int64_t F = config.base_filters;
  std::int64_t cin = 1;
  for (int i = 0; i < L; ++i) {
    const std::string p = "enc." + std::to_string(i);
    const std::int64_t f = F << i;
    auto e = std::make_unique<EncoderLevel>(EncoderLevel{
        nn::Conv2d(params, p + ".conv1", conv3(cin, f)), {},
        nn::Conv2d(params, p + ".conv2", conv3(f, f)), {}, nn::MaxPool2d(2),
        nn::Dropout(i == 0 ? 0.0f : config.dropout), nn::BatchNorm(params, p + ".bn", f, nn::BatchNormSpec::keras(config.bn_momentum)), {}});
    enc.push_back(std::move(e));
    cin = f;
  }
  enc[0]->conv1.set_input_grad(false);  // nothing upstream of the input
  const std::int64_t B = config.bottleneck();
  mid1 = std::make_unique<nn::Conv2d>(params, "mid.conv1", conv3(cin, B));
  mid2 = std::make_unique<nn::Conv2d>(params, "mid.conv2", conv3(B, B));
  cin = B;
  for (int j = 0; j < L; ++j) {
    const int i = L - 1 - j;  // encoder level this decoder level mirrors
    const std::string p = "dec." + std::to_string(j);
    const std::int64_t f = F << i;
    auto d = std::make_unique<DecoderLevel>(DecoderLevel{
        nn::SplitBatchNorm(params, p + ".bn", cin, f, nn::BatchNormSpec::keras(config.bn_momentum),
                           /*a_replicas=*/4),
        nn::UpConcatConv2d(params, p + ".conv1", cin, f, f, nn::WeightInit::GlorotUniform), {},
        nn::Conv2d(params, p + ".conv2", conv3(f, f)), {},
        nn::Dropout(i == 0 ? 0.0f : config.dropout)});
    dec.push_back(std::move(d));
    cin = f;
  }
  nn::Conv2dSpec head;
  head.in_channels = cin;
  head.out_channels = 1;
  head.kernel_h = head.kernel_w = 1;
  head.padding = nn::Padding::valid();
  out = std::make_unique<nn::Conv2d>(params, "out", head);
  if (allocate) params.allocate(seed);
  reseed_dropout(seed);
}

void ArcnnImpl::reseed_dropout(std::uint64_t seed) {
  Generator g(seed ^ 0xd20f0a7c0ULL);
  for (auto& e : enc) e->drop.reseed(g.next_u64());
  for (auto& d : dec) d->drop.reseed(g.next_u64());
}

void ArcnnImpl::set_training(bool t) {
  training = t;
  for (auto& e : enc) e->drop.set_training(t), e->bn.set_training(t);
  for (auto& d : dec) d->drop.set_training(t), d->bn.set_training(t);
}

void ArcnnImpl::recalibrate_batchnorm(std::int64_t batches,
                                      const std::function<void(std::int64_t, Tensor&)>& next) {
  if (batches <= 0) return;
  struct Stats {
    nn::Parameter& mean;
    nn::Parameter& var;
    double weight;  // of the batch statistic in the running average
  };
  std::vector<Stats> stats;
  for (auto& e : enc)
    stats.push_back({e->bn.running_mean(), e->bn.running_var(), e->bn.spec().batch_weight()});
  for (auto& d : dec)
    stats.push_back({d->bn.running_mean(), d->bn.running_var(), d->bn.spec().batch_weight()});
  const bool was = training;
  set_training(true);
  for (auto& e : enc) e->drop.set_training(false);
  for (auto& d : dec) d->drop.set_training(false);
  // A train-mode forward moves running <- (1 - w) running + w batch (w = batch weight);
  // the batch statistic is recovered as (new - (1 - w) old) / w and averaged.
  std::vector<std::vector<double>> sum_m(stats.size()), sum_v(stats.size());
  std::vector<std::vector<float>> old_m(stats.size()), old_v(stats.size());
  Tensor x;
  for (std::int64_t k = 0; k < batches; ++k) {
    for (size_t i = 0; i < stats.size(); ++i) {
      const Tensor& rm = stats[i].mean.value;
      const Tensor& rv = stats[i].var.value;
      old_m[i].assign(rm.data(), rm.data() + rm.size());
      old_v[i].assign(rv.data(), rv.data() + rv.size());
      sum_m[i].resize(static_cast<size_t>(rm.size()), 0.0);
      sum_v[i].resize(static_cast<size_t>(rv.size()), 0.0);
    }
    next(k, x);
    forward(x);
    for (size_t i = 0; i < stats.size(); ++i) {
      const double w = stats[i].weight;
      const Tensor& rm = stats[i].mean.value;
      const Tensor& rv = stats[i].var.value;
      for (std::int64_t c = 0; c < rm.size(); ++c) {
        sum_m[i][c] += (rm[c] - (1.0 - w) * old_m[i][c]) / w;
        sum_v[i][c] += (rv[c] - (1.0 - w) * old_v[i][c]) / w;
      }
    }
  }
  for (size_t i = 0; i < stats.size(); ++i) {
    Tensor& rm = stats[i].mean.value;
    Tensor& rv = stats[i].var.value;
    for (std::int64_t c = 0; c < rm.size(); ++c) {
      rm[c] = static_cast<float>(sum_m[i][c] / static_cast<double>(batches));
      rv[c] = static_cast<float>(std::max(0.0, sum_v[i][c] / static_cast<double>(batches)));
    }
  }
  set_training(was);
}

const Tensor& ArcnnImpl::forward(const Tensor& x) {
  const int L = config.levels;
  if (x.rank() != 4 || x.dim(3) != 1)
    throw ShapeError("ARCNN::forward: expected (N, H, W, 1), got " + shape_str(x.shape()));
  const std::int64_t m = std::int64_t{1} << L;
  if (x.dim(0) < 1 || x.dim(1) % m != 0 || x.dim(2) % m != 0 || x.dim(1) == 0 || x.dim(2) == 0)
    throw ShapeError("ARCNN::forward: H and W must be positive multiples of " +
                     std::to_string(m) + " (2^levels), got " + shape_str(x.shape()));
  skips.assign(static_cast<size_t>(L), nullptr);
  const Tensor* h = &x;
  for (int i = 0; i < L; ++i) {
    EncoderLevel& e = *enc[i];
    h = &e.relu1.forward(e.conv1.forward(*h));
    skips[i] = &e.relu2.forward(e.conv2.forward(*h));
    h = &e.bn.forward(e.drop.forward(e.pool.forward(*skips[i])));
  }
  h = &mid_relu1.forward(mid1->forward(*h));
  h = &mid_relu2.forward(mid2->forward(*h));
  for (int j = 0; j < L; ++j) {
    DecoderLevel& d = *dec[j];
    auto normed = d.bn.forward(*h, *skips[L - 1 - j]);  // BN(concat(up2(h), skip)), split
    h = &d.relu1.forward(d.conv1.forward(normed.a, normed.b));
    h = &d.drop.forward(d.relu2.forward(d.conv2.forward(*h)));
  }
  return out->forward(*h);
}

void ArcnnImpl::backward(const Tensor& dlogits) {
  const int L = config.levels;
  std::vector<const Tensor*> dskips(static_cast<size_t>(L), nullptr);
  const Tensor* g = &out->backward(dlogits);
  for (int j = L - 1; j >= 0; --j) {
    DecoderLevel& d = *dec[j];
    g = &d.conv2.backward(d.relu2.backward(d.drop.backward(*g)));
    auto dconv = d.conv1.backward(d.relu1.backward(*g));  // dconv.a: summed over replicas
    auto grads = d.bn.backward(dconv.a, dconv.b);
    dskips[L - 1 - j] = &grads.b;
    g = &grads.a;
  }
  g = &mid2->backward(mid_relu2.backward(*g));
  g = &mid1->backward(mid_relu1.backward(*g));
  for (int i = L - 1; i >= 0; --i) {
    EncoderLevel& e = *enc[i];
    const Tensor& dpool = e.pool.backward(e.drop.backward(e.bn.backward(*g)));
    // skip_i feeds both the pool and the decoder's concat: the gradients add.
    e.dskip.resize(dpool.shape());
    e.dskip.vec() = dpool.vec() + dskips[i]->vec();
    g = &e.conv2.backward(e.relu2.backward(e.dskip));
    g = &e.conv1.backward(e.relu1.backward(*g));
  }
}

// ---------------------------------------------------------------- ARCNN

ARCNN::ARCNN(const ArcnnConfig& config, std::uint64_t seed)
    : impl_(std::make_unique<ArcnnImpl>(config, seed)) {}
ARCNN::~ARCNN() = default;
ARCNN::ARCNN(ARCNN&&) noexcept = default;
ARCNN& ARCNN::operator=(ARCNN&&) noexcept = default;

const ArcnnConfig& ARCNN::config() const { return impl_->config; }
nn::ParameterSet& ARCNN::parameters() { return impl_->params; }
std::int64_t ARCNN::parameter_count() const { return impl_->params.trainable_count(); }
void ARCNN::set_training(bool t) { impl_->set_training(t); }
bool ARCNN::training() const { return impl_->training; }
const Tensor& ARCNN::forward(const Tensor& x) { return impl_->forward(x); }
void ARCNN::backward(const Tensor& dlogits) { impl_->backward(dlogits); }

float ARCNN::loss_and_backward(const Tensor& x, const Tensor& label) {
  const Tensor& logits = impl_->forward(x);
  float loss = impl_->loss.forward(logits, label);
  impl_->backward(impl_->loss.backward());
  return loss;
}

float ARCNN::evaluate_loss(const Tensor& x, const Tensor& label) {
  const bool was = impl_->training;
  impl_->set_training(false);
  float loss;
  try {
    loss = impl_->loss.forward(impl_->forward(x), label);
  } catch (...) {
    impl_->set_training(was);
    throw;
  }
  impl_->set_training(was);
  return loss;
}

void ARCNN::save(const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& extra) const {
  optim::Metadata md;
  for (const auto& kv : extra) md[kv.first] = kv.second;
  save_model_file(path, impl_->params, "arcnn", impl_->config.to_json(), md);
}

static ArcnnConfig config_of_file(const std::string& path, const char* who) {
  return ArcnnConfig::from_json(read_model_header(path, "arcnn", who).config, who);
}

void ARCNN::load_weights(const std::string& path) {
  ArcnnConfig c = config_of_file(path, "ARCNN::load_weights");
  if (!(c == impl_->config))
    throw WeightsError("ARCNN::load_weights: " + path + " was saved for config " + c.to_json() +
                       ", this network is " + impl_->config.to_json());
  optim::load_safetensors(path, impl_->params, /*strict=*/true);
}

// A corrupt or hostile file could name a config far larger than the tensors it
// holds (levels 7, 1024 filters: billions of values); refuse it before
// allocating anything: the config's parameters must fit in the file's tensors.
static void check_file_holds_config(const std::string& path, const ArcnnConfig& c, const char* who) {
  optim::SafetensorsReader r(path);
  std::int64_t held = 0;
  for (const optim::TensorInfo& t : r.tensors()) held += t.numel();
  const ArcnnImpl declared(c, 0, /*allocate=*/false);
  std::int64_t needed = 0;
  for (const nn::Parameter& p : declared.params.params()) needed += shape_numel(p.shape);
  if (needed > held)
    throw WeightsError(std::string(who) + ": " + path + " holds " + std::to_string(held) +
                       " values, but its config " + c.to_json() + " needs " +
                       std::to_string(needed) + " (corrupt or not an AR-CNN weights file)");
}

ARCNN ARCNN::load(const std::string& path) {
  const ArcnnConfig config = config_of_file(path, "ARCNN::load");
  check_file_holds_config(path, config, "ARCNN::load");
  ARCNN m(config, 0);
  optim::load_safetensors(path, m.impl_->params, true);
  m.set_training(false);  // a loaded model is for inference until fit() says otherwise
  return m;
}

ARCNN ARCNN::pretrained(const std::string& name) {
  const ShippedModel& entry = find_shipped_model(name);
  if (entry.kind != "arcnn")
    throw InvalidArgument("ARCNN::pretrained: '" + name + "' is a \"" + entry.kind + "\" model, not an AR-CNN");
  return load(shipped_model_path(entry.name));
}

std::string ARCNN::default_weights_path() {
  try {
    return shipped_model_path(default_shipped_model("arcnn").name);
  } catch (const IoError& e) {
    throw IoError(std::string("ARCNN::default_weights_path: ") + e.what());
  }
}

}  // namespace partita::models

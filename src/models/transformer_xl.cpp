// TransformerXL network: config, construction, the training forward and backward
// with the caller's memory, the loss, weights I/O.
#include "partita/models/transformer_xl.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/transformer_xl_impl.hpp"
#include "partita/core/error.hpp"
#include "partita/models/model_file.hpp"
#include "partita/models/registry.hpp"
#include "partita/nn/positional.hpp"
#include "partita/optim/json.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::models {

// ---------------------------------------------------------------- config

TransformerXLConfig TransformerXLConfig::medium() {
  TransformerXLConfig c;
  c.heads = 8;
  c.d_model = 256;
  c.d_head = 32;
  c.d_inner = 1024;
  return c;
}

TransformerXLConfig TransformerXLConfig::small() {
  TransformerXLConfig c;
  c.layers = 2;
  c.heads = 3;
  c.d_model = 24;
  c.d_head = 6;
  c.d_inner = 40;
  c.segment = 8;
  c.memory = 16;
  return c;
}

void TransformerXLConfig::validate(const char* who) const {
  auto bad = [&](const std::string& m) { throw InvalidArgument(std::string(who) + ": " + m); };
  auto range = [&](const char* name, int v, int lo, int hi) {
    if (v < lo || v > hi)
      bad(std::string(name) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
          std::to_string(v));
  };
  range("vocab", vocab, 2, 1 << 20);
  range("layers", layers, 1, 64);
  range("heads", heads, 1, 256);
  range("d_model", d_model, 2, 1 << 14);
  range("d_head", d_head, 1, 1 << 12);
  range("d_inner", d_inner, 1, 1 << 16);
  range("segment", segment, 1, 1 << 16);
  range("memory", memory, 0, 1 << 16);
  if (d_model % 2 != 0) bad("d_model must be even (sine and cosine halves), got " + std::to_string(d_model));
  if (!(dropout >= 0.0f && dropout < 1.0f)) bad("dropout must be in [0, 1), got " + std::to_string(dropout));
  if (!(dropout_attention >= 0.0f && dropout_attention < 1.0f))
    bad("dropout_attention must be in [0, 1), got " + std::to_string(dropout_attention));
}

namespace {

// The config's fields, for to_json / from_json.
struct IntField {
  const char* name;
  int TransformerXLConfig::*member;
};
constexpr IntField kIntFields[] = {
    {"vocab", &TransformerXLConfig::vocab},       {"layers", &TransformerXLConfig::layers},
    {"heads", &TransformerXLConfig::heads},       {"d_model", &TransformerXLConfig::d_model},
    {"d_head", &TransformerXLConfig::d_head},     {"d_inner", &TransformerXLConfig::d_inner},
    {"segment", &TransformerXLConfig::segment},   {"memory", &TransformerXLConfig::memory},
};
struct FloatField {
  const char* name;
  float TransformerXLConfig::*member;
};
constexpr FloatField kFloatFields[] = {
    {"dropout", &TransformerXLConfig::dropout},
    {"dropout_attention", &TransformerXLConfig::dropout_attention},
};

}  // namespace

std::string TransformerXLConfig::to_json() const {
  json::Value v = json::Value::object();
  for (const IntField& f : kIntFields) v.set(f.name, this->*f.member);
  for (const FloatField& f : kFloatFields) v.set(f.name, static_cast<double>(this->*f.member));
  return v.dump();
}

TransformerXLConfig TransformerXLConfig::from_json(const std::string& text, const char* who) {
  TransformerXLConfig c;
  try {
    const json::Value v = json::parse(text, who);
    auto field = [&](const char* key) -> const json::Value& {
      if (const json::Value* f = v.find(key)) return *f;
      throw WeightsError(std::string(who) + ": Transformer-XL config has no \"" + key + "\"");
    };
    for (const IntField& f : kIntFields) c.*f.member = static_cast<int>(field(f.name).as_int());
    for (const FloatField& f : kFloatFields) c.*f.member = static_cast<float>(field(f.name).as_double());
    c.validate(who);
  } catch (const WeightsError&) {
    throw;
  } catch (const Error& e) {
    throw WeightsError(std::string(who) + ": bad Transformer-XL config " + text + ": " + e.what());
  }
  return c;
}

bool TransformerXLConfig::operator==(const TransformerXLConfig& o) const {
  for (const IntField& f : kIntFields)
    if (this->*f.member != o.*f.member) return false;
  for (const FloatField& f : kFloatFields)
    if (this->*f.member != o.*f.member) return false;
  return true;
}

// ---------------------------------------------------------------- memory

std::int64_t TransformerXLMemory::row_length(std::int64_t row) const {
  if (row < 0 || row >= batch_)
    throw InvalidArgument("TransformerXLMemory::row_length: row " + std::to_string(row) + " outside 0.." +
                          std::to_string(batch_ - 1));
  return rows_[static_cast<std::size_t>(row)];
}

const Tensor& TransformerXLMemory::layer(int l) const {
  if (l < 0 || l >= layers())
    throw InvalidArgument("TransformerXLMemory::layer: layer " + std::to_string(l) + " outside 0.." +
                          std::to_string(layers() - 1));
  return layers_[static_cast<std::size_t>(l)];
}

void TransformerXLMemory::clear() {
  layers_.clear();
  spare_.clear();
  rows_.clear();
  batch_ = length_ = 0;
}

void TransformerXLMemory::clear_row(std::int64_t row) {
  if (row < 0 || row >= batch_)
    throw InvalidArgument("TransformerXLMemory::clear_row: row " + std::to_string(row) + " outside 0.." +
                          std::to_string(batch_ - 1));
  rows_[static_cast<std::size_t>(row)] = 0;
}

// ---------------------------------------------------------------- network

TransformerXLImpl::TransformerXLImpl(const TransformerXLConfig& c, std::uint64_t seed, bool allocate)
    : config(c), drop_emb(c.dropout), drop_pos(c.dropout), drop_out(c.dropout) {
  config.validate("TransformerXL");
  emb = std::make_unique<nn::Embedding>(params, "word_emb", c.vocab, c.d_model, /*scale_by_sqrt_d=*/true);
  biases = nn::add_rel_position_biases(params, "", c.heads, c.d_head);
  nn::RelAttentionConfig ac;
  ac.d_model = c.d_model;
  ac.n_head = c.heads;
  ac.d_head = c.d_head;
  ac.dropout = c.dropout;
  ac.dropatt = c.dropout_attention;
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = "layers." + std::to_string(l);
    TransformerXLLayer layer;
    layer.attn = std::make_unique<nn::RelMultiHeadAttention>(params, p + ".dec_attn", ac, biases);
    layer.ff = std::make_unique<nn::PositionwiseFF>(params, p + ".pos_ff", c.d_model, c.d_inner, c.dropout);
    layers.push_back(std::move(layer));
  }
  out = std::make_unique<nn::TiedProjection>(params, "out", *emb, /*bias=*/true);
  if (allocate) params.allocate(seed);
  reseed_dropout(seed ^ 0xd40f0c7ULL);
}

void TransformerXLImpl::set_training(bool t) {
  training = t;
  drop_emb.set_training(t);
  drop_pos.set_training(t);
  drop_out.set_training(t);
  for (TransformerXLLayer& l : layers) {
    l.attn->set_training(t);
    l.ff->set_training(t);
  }
}

void TransformerXLImpl::reseed_dropout(std::uint64_t seed) {
  Generator g(seed);
  drop_emb.reseed(g.next_u64());
  drop_pos.reseed(g.next_u64());
  drop_out.reseed(g.next_u64());
  for (TransformerXLLayer& l : layers) {
    l.attn->set_seed(g.next_u64());
    l.ff->set_seed(g.next_u64());
  }
}

const Tensor& TransformerXLImpl::forward(const data::TokenBatch& tokens, TransformerXLMemory& memory,
                                         const char* who) {
  const std::int64_t B = tokens.batch, T = tokens.time, E = config.d_model;
  if (B < 1 || T < 1 || static_cast<std::int64_t>(tokens.ids.size()) != B * T)
    throw ShapeError(std::string(who) + ": tokens must be a non-empty (batch, time) block, got " +
                     std::to_string(B) + " x " + std::to_string(T) + " with " + std::to_string(tokens.ids.size()) +
                     " ids");
  if (memory.length_ > 0 && (memory.batch_ != B || memory.layers() != config.layers ||
                             memory.layers_[0].dim(2) != E))
    throw ShapeError(std::string(who) + ": the memory holds " + std::to_string(memory.batch_) + " rows of " +
                     std::to_string(memory.layers()) + " layers; the segment has " + std::to_string(B) +
                     " rows (clear() the memory to change the batch size)");
  if (memory.batch_ != B) {
    memory.clear();
    memory.batch_ = B;
    memory.rows_.assign(static_cast<std::size_t>(B), 0);
  }
  const std::int64_t M = memory.length_;
  T_ = T;
  B_ = B;
  tokens_tm_.resize(static_cast<std::size_t>(T * B));
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) tokens_tm_[static_cast<std::size_t>(t * B + b)] = tokens.at(b, t);
  // Rows that hold fewer positions than the memory attend only their own.
  mem_start_.clear();
  for (std::int64_t b = 0; b < B; ++b)
    if (memory.rows_[static_cast<std::size_t>(b)] < M) {
      mem_start_.resize(static_cast<std::size_t>(B));
      for (std::int64_t r = 0; r < B; ++r) mem_start_[static_cast<std::size_t>(r)] = M - memory.rows_[static_cast<std::size_t>(r)];
      break;
    }

  inputs_.assign(static_cast<std::size_t>(config.layers + 1), nullptr);
  const Tensor* h = &drop_emb.forward(emb->forward(tokens_tm_, {T, B}));
  nn::sinusoidal_positions(M + T, E, positions_);
  const Tensor& r = drop_pos.forward(positions_);
  for (int l = 0; l < config.layers; ++l) {
    inputs_[static_cast<std::size_t>(l)] = h;
    const Tensor& mem = M > 0 ? memory.layers_[static_cast<std::size_t>(l)] : no_memory_;
    h = &layers[static_cast<std::size_t>(l)].ff->forward(layers[static_cast<std::size_t>(l)].attn->forward(*h, mem, r, mem_start_));
  }
  inputs_.back() = h;
  return out->forward(drop_out.forward(*h));
}

void TransformerXLImpl::backward(const Tensor& dlogits) {
  const Tensor* g = &drop_out.backward(out->backward(dlogits));
  for (int l = config.layers - 1; l >= 0; --l) {
    TransformerXLLayer& layer = layers[static_cast<std::size_t>(l)];
    g = &layer.attn->backward(layer.ff->backward(*g));
  }
  emb->backward(drop_emb.backward(*g));
}

void TransformerXLImpl::extend_memory(TransformerXLMemory& memory) const {
  const std::int64_t T = T_, B = B_, E = config.d_model, M = memory.length_, cap = config.memory;
  std::int64_t longest = 0;
  for (std::int64_t& n : memory.rows_) {
    n = std::min(n + T, cap);
    longest = std::max(longest, n);
  }
  if (longest == 0) {
    memory.layers_.clear();
    memory.length_ = 0;
    return;
  }
  // The last `longest` positions of [memory; h_l]: `keep` old ones, then `take` new ones,
  // written into the spare buffers (at the reference shape 65 MB a layer: reusing them
  // spares the page faults of fresh ones), which then become the memory.
  const std::int64_t take = std::min(T, longest), keep = longest - take, row = B * E;
  std::vector<Tensor>& next = memory.spare_;
  next.resize(static_cast<std::size_t>(config.layers));
  for (int l = 0; l < config.layers; ++l) {
    Tensor& m = next[static_cast<std::size_t>(l)];
    m.resize({longest, B, E});
    if (keep > 0)
      std::memcpy(m.data(), memory.layers_[static_cast<std::size_t>(l)].data() + (M - keep) * row,
                  sizeof(float) * static_cast<std::size_t>(keep * row));
    std::memcpy(m.data() + keep * row, inputs_[static_cast<std::size_t>(l)]->data() + (T - take) * row,
                sizeof(float) * static_cast<std::size_t>(take * row));
  }
  std::swap(memory.layers_, memory.spare_);
  memory.length_ = longest;
}

const std::vector<std::int32_t>& TransformerXLImpl::time_major_targets(const data::TokenBatch& targets,
                                                                       const char* who) {
  if (targets.batch != B_ || targets.time != T_ || static_cast<std::int64_t>(targets.ids.size()) != B_ * T_)
    throw ShapeError(std::string(who) + ": targets must have the tokens' shape " + std::to_string(B_) + " x " +
                     std::to_string(T_) + ", got " + std::to_string(targets.batch) + " x " +
                     std::to_string(targets.time));
  targets_tm_.resize(static_cast<std::size_t>(T_ * B_));
  for (std::int64_t b = 0; b < B_; ++b)
    for (std::int64_t t = 0; t < T_; ++t) targets_tm_[static_cast<std::size_t>(t * B_ + b)] = targets.at(b, t);
  return targets_tm_;
}

// ---------------------------------------------------------------- TransformerXL

TransformerXL::TransformerXL(const TransformerXLConfig& config, std::uint64_t seed)
    : impl_(std::make_unique<TransformerXLImpl>(config, seed)) {}
TransformerXL::~TransformerXL() = default;
TransformerXL::TransformerXL(TransformerXL&&) noexcept = default;
TransformerXL& TransformerXL::operator=(TransformerXL&&) noexcept = default;

const TransformerXLConfig& TransformerXL::config() const { return impl_->config; }
nn::ParameterSet& TransformerXL::parameters() { return impl_->params; }
std::int64_t TransformerXL::parameter_count() const { return impl_->params.trainable_count(); }
void TransformerXL::set_training(bool t) { impl_->set_training(t); }
bool TransformerXL::training() const { return impl_->training; }
void TransformerXL::reseed_dropout(std::uint64_t seed) { impl_->reseed_dropout(seed); }

const Tensor& TransformerXL::forward(const data::TokenBatch& tokens, TransformerXLMemory& memory) {
  TransformerXLImpl& m = *impl_;
  const Tensor& logits = m.forward(tokens, memory, "TransformerXL::forward");
  m.extend_memory(memory);
  // (T, B, V) -> (B, T, V)
  const std::int64_t T = m.T_, B = m.B_, V = m.config.vocab;
  m.logits_bt_.resize({B, T, V});
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t b = 0; b < B; ++b)
      std::memcpy(m.logits_bt_.data() + (b * T + t) * V, logits.data() + (t * B + b) * V,
                  sizeof(float) * static_cast<std::size_t>(V));
  return m.logits_bt_;
}

float TransformerXL::loss_and_backward(const data::TokenBatch& tokens, const data::TokenBatch& targets,
                                       TransformerXLMemory& memory) {
  const char* who = "TransformerXL::loss_and_backward";
  TransformerXLImpl& m = *impl_;
  if (targets.batch != tokens.batch || targets.time != tokens.time)
    throw ShapeError(std::string(who) + ": targets must have the tokens' shape");
  const Tensor& logits = m.forward(tokens, memory, who);
  const float loss = m.loss.forward(logits, m.time_major_targets(targets, who));
  m.params.zero_grad();
  m.backward(m.loss.backward());
  m.extend_memory(memory);  // after backward: the layers keep views of the old memory until then
  return loss;
}

float TransformerXL::evaluate_loss(const data::TokenBatch& tokens, const data::TokenBatch& targets,
                                   TransformerXLMemory& memory, std::int64_t* counted) {
  const char* who = "TransformerXL::evaluate_loss";
  TransformerXLImpl& m = *impl_;
  if (targets.batch != tokens.batch || targets.time != tokens.time)
    throw ShapeError(std::string(who) + ": targets must have the tokens' shape");
  const bool was = m.training;
  TrainingModeGuard guard([&m](bool t) { m.set_training(t); }, was);
  m.set_training(false);
  const Tensor& logits = m.forward(tokens, memory, who);
  const float loss = m.loss.forward(logits, m.time_major_targets(targets, who));
  m.extend_memory(memory);
  if (counted) *counted = m.loss.count();
  return loss;
}

// ---------------------------------------------------------------- files

void TransformerXL::save(const std::string& path, const std::vector<std::pair<std::string, std::string>>& extra) const {
  optim::Metadata md;
  for (const auto& kv : extra) md[kv.first] = kv.second;
  save_model_file(path, impl_->params, "transformer_xl", impl_->config.to_json(), md);
}

TransformerXL TransformerXL::load(const std::string& path) {
  const char* who = "TransformerXL::load";
  const ModelFileHeader h = read_model_header(path, "transformer_xl", who);
  const TransformerXLConfig config = TransformerXLConfig::from_json(h.config, who);
  // Refuse a config far larger than the file's tensors before allocating it.
  std::int64_t held = 0;
  {
    const optim::SafetensorsReader file(path);
    for (const optim::TensorInfo& t : file.tensors()) held += t.numel();
  }
  const TransformerXLImpl declared(config, 0, /*allocate=*/false);
  std::int64_t needed = 0;
  for (const nn::Parameter& p : declared.params.params()) needed += shape_numel(p.shape);
  if (needed > held)
    throw WeightsError(std::string(who) + ": " + path + " holds " + std::to_string(held) + " values, but its config " +
                       config.to_json() + " needs " + std::to_string(needed));
  TransformerXL m(config, 0);
  load_model_file(path, m.impl_->params, "transformer_xl", who);
  m.set_training(false);
  return m;
}

TransformerXL TransformerXL::pretrained(const std::string& name) {
  const ShippedModel& entry = find_shipped_model(name);
  if (entry.kind != "transformer_xl")
    throw InvalidArgument("TransformerXL::pretrained: '" + name + "' is a \"" + entry.kind +
                          "\" model, not a Transformer-XL");
  return load(shipped_model_path(entry.name));
}

}  // namespace partita::models

// Transformer-XL: the config, the reference size, the memory (segments with memory equal
// one forward over the whole sequence; clear_row; no gradient through it, checked by
// finite differences), dropout streams, model files, and generation on the KV cache
// (prime and next_logits against forward(), before and past the memory length).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/models/transformer_xl.hpp"
#include "partita/nn/gradcheck.hpp"

namespace fs = std::filesystem;
using namespace partita;
using namespace partita::models;
using data::TokenBatch;

// One thread: the suite runs many test programs side by side on few cores.
static const int kOneThread = (set_num_threads(1), 1);

namespace {

TransformerXLConfig no_dropout() {
  TransformerXLConfig c = TransformerXLConfig::small();
  c.dropout = 0.0f;
  return c;
}

// A (batch, n) block of ids in 2..vocab-1 drawn from `seed`.
TokenBatch random_tokens(std::int64_t batch, std::int64_t n, std::uint64_t seed, int vocab = 310) {
  TokenBatch b(batch, n);
  Generator g(seed);
  for (auto& id : b.ids) id = static_cast<std::int32_t>(2 + g.below(static_cast<std::uint64_t>(vocab - 2)));
  return b;
}

// Columns [from, to) of a (batch, n) block.
TokenBatch columns(const TokenBatch& t, std::int64_t from, std::int64_t to) {
  TokenBatch out(t.batch, to - from);
  for (std::int64_t b = 0; b < t.batch; ++b)
    for (std::int64_t i = from; i < to; ++i) out.at(b, i - from) = t.at(b, i);
  return out;
}

// Logits (batch, n, V) of time steps [from, to), batch row b, as a flat copy.
std::vector<float> logits_at(const Tensor& logits, std::int64_t b, std::int64_t t) {
  const std::int64_t n = logits.dim(1), V = logits.dim(2);
  const float* p = logits.data() + (b * n + t) * V;
  return std::vector<float>(p, p + V);
}

void expect_near_rows(const std::vector<float>& got, const std::vector<float>& want, double tol,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
  EXPECT_LE(worst, tol) << what;
}

std::vector<float> row_of(const Tensor& t, std::int64_t b) {
  const std::int64_t V = t.dim(t.rank() - 1);
  return std::vector<float>(t.data() + b * V, t.data() + (b + 1) * V);
}

// Larger weights than the N(0, 0.02) init, so that attention and the logits vary.
void spread_weights(TransformerXL& m, std::uint64_t seed) {
  Generator g(seed);
  for (nn::Parameter& p : m.parameters().params()) {
    if (p.name.find("layer_norm") != std::string::npos) continue;
    nn::fill_uniform(p.value, g, -0.3f, 0.3f);
  }
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("partita_txl_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(TransformerXL, ReferenceSizeAndConfig) {
  const TransformerXLConfig ref = TransformerXLConfig::reference();
  EXPECT_EQ(ref.vocab, 310);
  EXPECT_EQ(ref.layers, 4);
  EXPECT_EQ(ref.heads, 10);
  EXPECT_EQ(ref.d_model, 500);
  EXPECT_EQ(ref.d_head, 50);
  EXPECT_EQ(ref.d_inner, 1000);
  EXPECT_EQ(ref.segment, 128);
  EXPECT_EQ(ref.memory, 512);
  EXPECT_FLOAT_EQ(ref.dropout, 0.1f);
  EXPECT_FLOAT_EQ(ref.dropout_attention, 0.0f);
  TransformerXL m(ref, 1);
  // Embedding 155,000 (tied), output bias 310, u and v 1,000, per layer 2,253,500:
  // about 9.2M as DESIGN.md says.
  EXPECT_EQ(m.parameter_count(), 9170310);
  EXPECT_NEAR(m.parameter_count() / 1e6, 9.2, 0.05);

  const TransformerXLConfig c = TransformerXLConfig::small();
  EXPECT_EQ(TransformerXLConfig::from_json(c.to_json(), "test"), c);
  EXPECT_EQ(TransformerXLConfig::from_json(ref.to_json(), "test"), ref);
  EXPECT_NE(c, ref);
  EXPECT_THROW(TransformerXLConfig::from_json("{\"vocab\":310}", "test"), WeightsError);
  EXPECT_THROW(TransformerXLConfig::from_json("not json", "test"), WeightsError);
  TransformerXLConfig bad = c;
  bad.d_model = 25;  // the sinusoid needs sine and cosine halves
  EXPECT_THROW(bad.validate("test"), InvalidArgument);
  bad = c;
  bad.dropout = 1.0f;
  EXPECT_THROW(TransformerXL(bad, 0), InvalidArgument);
  bad = c;
  bad.memory = -1;
  EXPECT_THROW(bad.validate("test"), InvalidArgument);
}

TEST(TransformerXL, ShapesMemoryGrowthAndErrors) {
  const TransformerXLConfig c = TransformerXLConfig::small();  // segment 8, memory 16
  TransformerXL m(c, 3);
  TransformerXLMemory mem;
  const TokenBatch x = random_tokens(2, 8, 1);
  const Tensor& logits = m.forward(x, mem);
  EXPECT_EQ(logits.shape(), (Shape{2, 8, 310}));
  EXPECT_EQ(mem.batch(), 2);
  EXPECT_EQ(mem.length(), 8);
  EXPECT_EQ(mem.layers(), 2);
  EXPECT_EQ(mem.layer(1).shape(), (Shape{8, 2, 24}));
  m.forward(x, mem);
  m.forward(x, mem);
  EXPECT_EQ(mem.length(), 16);  // capped at `memory`
  EXPECT_EQ(mem.row_length(1), 16);
  mem.clear_row(1);
  EXPECT_EQ(mem.row_length(1), 0);
  m.forward(x, mem);
  EXPECT_EQ(mem.row_length(0), 16);
  EXPECT_EQ(mem.row_length(1), 8);

  EXPECT_THROW(m.forward(random_tokens(3, 8, 2), mem), ShapeError);  // the memory holds 2 rows
  EXPECT_THROW(mem.clear_row(2), InvalidArgument);
  EXPECT_THROW(mem.layer(2), InvalidArgument);
  TokenBatch bad = x;
  bad.at(1, 3) = 310;
  EXPECT_THROW(m.forward(bad, mem), InvalidArgument);
  mem.clear();
  EXPECT_EQ(mem.length(), 0);
  EXPECT_NO_THROW(m.forward(random_tokens(3, 5, 2), mem));  // any batch and length after clear()
  EXPECT_THROW(m.loss_and_backward(random_tokens(3, 5, 2), random_tokens(3, 4, 2), mem), ShapeError);
  TokenBatch all_pad(3, 5, 1);
  EXPECT_EQ(m.loss_and_backward(random_tokens(3, 5, 2), all_pad, mem), 0.0f);
}

TEST(TransformerXL, SegmentsWithMemoryEqualOneForwardOverTheSequence) {
  // With every position still in memory (8 + 8 + 5 <= 16 + 8), three segments equal one
  // forward of 21 tokens; row 1 cleared before the last segment equals a fresh row.
  TransformerXL m(no_dropout(), 5);
  spread_weights(m, 6);
  const TokenBatch seq = random_tokens(2, 21, 7);
  TransformerXLMemory whole;
  const Tensor full(m.forward(seq, whole));
  TransformerXLMemory mem;
  const std::int64_t cuts[] = {0, 8, 16, 21};
  for (int s = 0; s < 3; ++s) {
    const Tensor part(m.forward(columns(seq, cuts[s], cuts[s + 1]), mem));
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t t = cuts[s]; t < cuts[s + 1]; ++t)
        expect_near_rows(logits_at(part, b, t - cuts[s]), logits_at(full, b, t), 2e-4,
                         "segment " + std::to_string(s) + " row " + std::to_string(b) + " t " + std::to_string(t));
  }
  EXPECT_EQ(mem.length(), 16);

  // Row 1 cleared: its next segment sees only itself, row 0 keeps its context.
  TransformerXLMemory fresh;
  const TokenBatch next = random_tokens(2, 6, 8);
  const Tensor alone(m.forward(next, fresh));
  mem.clear_row(1);
  const Tensor after(m.forward(next, mem));
  for (std::int64_t t = 0; t < 6; ++t) {
    expect_near_rows(logits_at(after, 1, t), logits_at(alone, 1, t), 2e-4, "cleared row t " + std::to_string(t));
    double diff = 0;
    const auto a = logits_at(after, 0, t), f = logits_at(alone, 0, t);
    for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, double(std::fabs(a[i] - f[i])));
    EXPECT_GT(diff, 1e-3) << "row 0 keeps its memory";
  }
}

TEST(TransformerXL, GradientWithMemoryMatchesFiniteDifferences) {
  // The gradient of segment 2's summed cross-entropy given segment 1's memory, held fixed
  // (no gradient flows into the memory), against central differences; every parameter,
  // a sample of elements of each.
  TransformerXLConfig c = no_dropout();
  c.d_model = 8;
  c.heads = 2;
  c.d_head = 3;
  c.d_inner = 12;
  c.vocab = 20;
  TransformerXL m(c, 11);
  spread_weights(m, 12);
  const TokenBatch seq = random_tokens(2, 13, 13, c.vocab);
  TransformerXLMemory mem;
  m.forward(columns(seq, 0, 6), mem);
  const TokenBatch x = columns(seq, 6, 12), y = columns(seq, 7, 13);
  TransformerXLMemory work = mem;
  const float mean = m.loss_and_backward(x, y, work);
  EXPECT_GT(mean, 0.0f);
  const double count = 12.0;
  std::vector<nn::GradTarget> targets;
  for (nn::Parameter& p : m.parameters().params()) {
    Tensor g(p.grad);
    for (std::int64_t i = 0; i < g.size(); ++i) g[i] *= static_cast<float>(count);
    targets.push_back({p.name, &p.value, g});
  }
  auto loss = [&] {
    TransformerXLMemory fixed = mem;  // the memory of segment 1 with the unperturbed weights
    return static_cast<double>(m.evaluate_loss(x, y, fixed)) * count;
  };
  nn::GradcheckOptions o;
  o.eps = 2e-3;  // small: the FF's ReLUs must not flip between the two points
  o.rtol = 2e-2;
  o.atol = 3e-3;
  o.max_elements = 12;
  const nn::GradcheckResult r = nn::check_gradients(loss, targets, o);
  EXPECT_TRUE(r.ok) << r.report;
  EXPECT_GT(r.checked, 100);
}

TEST(TransformerXL, DropoutStreamsAreSeeded) {
  TransformerXL m(TransformerXLConfig::small(), 2);
  const TokenBatch x = random_tokens(2, 8, 3);
  auto run = [&](std::uint64_t seed) {
    m.reseed_dropout(seed);
    TransformerXLMemory mem;
    m.forward(x, mem);
    return Tensor(m.forward(x, mem));
  };
  const Tensor a = run(1), b = run(1), c = run(2);
  EXPECT_EQ(std::vector<float>(a.data(), a.data() + a.size()), std::vector<float>(b.data(), b.data() + b.size()));
  EXPECT_NE(std::vector<float>(a.data(), a.data() + a.size()), std::vector<float>(c.data(), c.data() + c.size()));
  m.set_training(false);
  const Tensor e1 = run(1), e2 = run(2);
  EXPECT_EQ(std::vector<float>(e1.data(), e1.data() + e1.size()), std::vector<float>(e2.data(), e2.data() + e2.size()));
}

TEST(TransformerXL, SavesAndLoadsAModelFile) {
  const fs::path dir = temp_dir("file");
  TransformerXL m(TransformerXLConfig::small(), 4);
  m.save((dir / "m.safetensors").string(), {{"note", "test"}});
  TransformerXL back = TransformerXL::load((dir / "m.safetensors").string());
  EXPECT_EQ(back.config(), m.config());
  EXPECT_FALSE(back.training());
  const Tensor& a = m.parameters().values();
  const Tensor& b = back.parameters().values();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * a.size()), 0);
  EXPECT_THROW(TransformerXL::pretrained("arcnn"), InvalidArgument);  // another kind's model
  fs::remove_all(dir);
}

TEST(TransformerXLGeneration, PrimeAndStepsEqualOneForwardWhileTheContextFits) {
  // Context of 17 tokens with segment 8 and memory 16: prime(12) feeds 8 + 4, then 5
  // single steps (positions 12..16, each seeing at most 16 earlier ones); a single step
  // sees `memory` earlier positions, a primed chunk up to memory + segment - 1.
  TransformerXL m(no_dropout(), 21);
  spread_weights(m, 22);
  m.set_training(false);
  const TokenBatch seq = random_tokens(2, 17, 23);
  TransformerXLMemory whole;
  const Tensor full(m.forward(seq, whole));

  m.begin_generation(2);
  const Tensor primed(m.prime(columns(seq, 0, 12)));
  EXPECT_EQ(primed.shape(), (Shape{2, 310}));
  for (std::int64_t b = 0; b < 2; ++b) expect_near_rows(row_of(primed, b), logits_at(full, b, 11), 2e-4, "prime");
  for (std::int64_t t = 12; t < 17; ++t) {
    const Tensor step(m.next_logits({seq.at(0, t), seq.at(1, t)}));
    for (std::int64_t b = 0; b < 2; ++b)
      expect_near_rows(row_of(step, b), logits_at(full, b, t), 2e-4, "step t " + std::to_string(t));
  }
  EXPECT_EQ(m.generated_length(), 17);

  // prime alone sees memory + segment = 24 tokens whole: its chunks start at 0, 8, 16.
  const TokenBatch longer = random_tokens(2, 24, 24);
  TransformerXLMemory whole24;
  const Tensor full24(m.forward(longer, whole24));
  m.begin_generation(2);
  const Tensor primed24(m.prime(longer));
  for (std::int64_t b = 0; b < 2; ++b) expect_near_rows(row_of(primed24, b), logits_at(full24, b, 23), 2e-4, "prime 24");

  // One sequence for every row; the caller's training mode is kept.
  m.set_training(true);
  m.begin_generation(3);
  const Tensor same(m.prime(std::vector<std::int32_t>(seq.ids.begin(), seq.ids.begin() + 12)));
  EXPECT_TRUE(m.training());
  for (std::int64_t b = 0; b < 3; ++b) expect_near_rows(row_of(same, b), logits_at(full, 0, 11), 2e-4, "broadcast");

  EXPECT_THROW(m.next_logits({5}), ShapeError);
  EXPECT_THROW(m.prime(random_tokens(2, 4, 1)), ShapeError);
  EXPECT_THROW(m.begin_generation(0), InvalidArgument);
  TransformerXL fresh(no_dropout(), 1);
  EXPECT_THROW(fresh.next_logits({5}), InvalidArgument);  // no begin_generation
}

TEST(TransformerXLGeneration, PastTheMemoryTheOldestPositionsDrop) {
  // 40 tokens, memory 16: the cache keeps the last 16 positions of every layer, so
  // steps equal forward() on one-token segments with a TransformerXLMemory (which
  // drops the same positions), and differ from one forward over all 40 tokens. prime
  // equals forward() on segments of `segment` tokens.
  TransformerXL m(no_dropout(), 31);
  spread_weights(m, 32);
  m.set_training(false);
  const TokenBatch seq = random_tokens(1, 40, 33);
  TransformerXLMemory whole;
  const Tensor full(m.forward(seq, whole));

  m.begin_generation(1);
  TransformerXLMemory mem;
  double far = 0;
  for (std::int64_t t = 0; t < 40; ++t) {
    const std::vector<float> step = row_of(m.next_logits({seq.at(0, t)}), 0);
    const Tensor one(m.forward(columns(seq, t, t + 1), mem));
    expect_near_rows(step, logits_at(one, 0, 0), 2e-4, "step " + std::to_string(t));
    if (t <= 16) expect_near_rows(step, logits_at(full, 0, t), 2e-4, "in memory, step " + std::to_string(t));
    if (t > 20) {
      const auto f = logits_at(full, 0, t);
      for (std::size_t i = 0; i < f.size(); ++i) far = std::max(far, double(std::fabs(step[i] - f[i])));
    }
  }
  EXPECT_GT(far, 1e-3) << "past the memory the dropped positions no longer count";

  m.begin_generation(1);
  const Tensor primed(m.prime(seq));
  TransformerXLMemory segs;
  Tensor last;
  for (std::int64_t from = 0; from < 40; from += 8) last = m.forward(columns(seq, from, std::min<std::int64_t>(from + 8, 40)), segs);
  expect_near_rows(row_of(primed, 0), logits_at(last, 0, last.dim(1) - 1), 2e-4, "prime = segments with memory");
  // begin_generation with a longer cache keeps more.
  m.begin_generation(1, 64);
  const Tensor all(m.prime(seq));
  expect_near_rows(row_of(all, 0), logits_at(full, 0, 39), 2e-4, "a cache of 64 holds all 40");
}

TEST(TransformerXLGeneration, OneSequencePrimedThenSteppedPastTheMemory) {
  // Batch 1 takes the transposed-key path of the cache: a prime of 20 tokens (chunks of
  // 8, 8, 4), then 50 single steps (the cache compacts several times), against
  // forward() on the same segments with a TransformerXLMemory.
  TransformerXL m(no_dropout(), 41);
  spread_weights(m, 42);
  m.set_training(false);
  const TokenBatch seq = random_tokens(1, 70, 43);
  TransformerXLMemory mem;
  Tensor last;
  for (std::int64_t from = 0; from < 20; from += 8)
    last = m.forward(columns(seq, from, std::min<std::int64_t>(from + 8, 20)), mem);
  m.begin_generation(1);
  expect_near_rows(row_of(m.prime(columns(seq, 0, 20)), 0), logits_at(last, 0, last.dim(1) - 1), 2e-4, "prime");
  for (std::int64_t t = 20; t < 70; ++t) {
    const std::vector<float> step = row_of(m.next_logits({seq.at(0, t)}), 0);
    const Tensor one(m.forward(columns(seq, t, t + 1), mem));
    expect_near_rows(step, logits_at(one, 0, 0), 2e-4, "step " + std::to_string(t));
  }
}

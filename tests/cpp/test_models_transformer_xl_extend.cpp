// Transformer-XL extension: the nucleus sampler's distribution (temperature,
// top-k, top-p, banned tokens) and extend() on a small random network (the
// input kept, the continuation after it and as long as asked, seeded, any
// length past the memory, errors).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/data/performance_corpus.hpp"
#include "partita/models/transformer_xl.hpp"

using namespace partita;
using namespace partita::models;

static const int kOneThread = (set_num_threads(1), 1);

namespace {

std::map<int, double> frequencies(const std::vector<float>& logits, double t, double p, int k, int draws,
                                  const std::vector<int>& banned = {}) {
  Generator g(7);
  std::vector<std::pair<float, int>> scratch;
  std::map<int, double> f;
  for (int i = 0; i < draws; ++i)
    f[sample_token(logits.data(), static_cast<int>(logits.size()), t, p, k, g, banned, scratch)] += 1.0 / draws;
  return f;
}

Score two_tracks() {
  Score s;
  s.ticks_per_quarter = 96;
  s.tempos = {TempoChange{0, 100.0}};
  s.tracks.resize(2);
  s.tracks[0].name = "melody";
  s.tracks[0].program = 73;
  const int tune[] = {60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60};
  std::int64_t t = 96;  // a beat of silence first
  for (int p : tune) {
    s.tracks[0].notes.push_back(Note{p, 100, t, t + 90});
    t += 96;
  }
  s.tracks[1].name = "bass";
  s.tracks[1].notes.push_back(Note{48, 70, 0, 96 * 8});
  return s;
}

TransformerXL small_model() {
  TransformerXLConfig c = TransformerXLConfig::small();
  c.memory = 24;
  TransformerXL m(c, 3);
  m.set_training(false);
  return m;
}

}  // namespace

TEST(SampleToken, FollowsTheTemperedSoftmax) {
  const std::vector<float> logits{1.0f, 0.0f, -1.0f, 0.5f};
  for (double t : {1.0, 0.5, 2.0}) {
    const auto f = frequencies(logits, t, 1.0, 0, 40000);
    double z = 0;
    for (float l : logits) z += std::exp(l / t);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(f.count(i) ? f.at(i) : 0.0, std::exp(logits[i] / t) / z, 0.01) << t << " " << i;
  }
}

TEST(SampleToken, NucleusTopKAndBannedTokens) {
  // Probabilities 0.5, 0.3, 0.15, 0.05.
  const std::vector<float> logits{std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  auto f = frequencies(logits, 1.0, 0.8, 0, 20000);  // 0.5 + 0.3 reach 0.8
  EXPECT_EQ(f.size(), 2u);
  EXPECT_NEAR(f[0], 0.625, 0.015);
  EXPECT_NEAR(f[1], 0.375, 0.015);
  f = frequencies(logits, 1.0, 0.81, 0, 20000);  // needs the third
  EXPECT_EQ(f.size(), 3u);
  f = frequencies(logits, 1.0, 1e-6, 0, 200);  // greedy
  EXPECT_EQ(f.size(), 1u);
  EXPECT_EQ(f.begin()->first, 0);
  f = frequencies(logits, 1.0, 1.0, 3, 20000);  // top-3
  EXPECT_EQ(f.size(), 3u);
  EXPECT_NEAR(f[2], 0.15 / 0.95, 0.015);
  f = frequencies(logits, 1.0, 1.0, 0, 5000, {0, 2});
  EXPECT_EQ(f.count(0) + f.count(2), 0u);
  EXPECT_NEAR(f[1], 0.3 / 0.35, 0.02);
  Generator g;
  std::vector<std::pair<float, int>> s;
  EXPECT_THROW(sample_token(logits.data(), 4, 0.0, 0.9, 0, g, {}, s), InvalidArgument);
  EXPECT_THROW(sample_token(logits.data(), 4, 1.0, 1.5, 0, g, {}, s), InvalidArgument);
  EXPECT_THROW(sample_token(logits.data(), 4, 1.0, 0.9, -1, g, {}, s), InvalidArgument);
  EXPECT_THROW(sample_token(logits.data(), 4, 1.0, 0.9, 0, g, {0, 1, 2, 3}, s), InvalidArgument);
}

TEST(TransformerXLExtend, KeepsTheInputAndAddsTheAskedSeconds) {
  TransformerXL m = small_model();
  const Score in = two_tracks();
  ExtendOptions o;
  o.seconds = 5.0;
  o.seed = 11;
  ExtendReport rep;
  const Score out = m.extend(in, o, &rep);
  EXPECT_FALSE(rep.hit_max_tokens);
  EXPECT_DOUBLE_EQ(rep.generated_seconds, 5.0);
  EXPECT_GT(rep.generated_tokens, 0);
  EXPECT_EQ(rep.prime_tokens, static_cast<std::int64_t>(data::performance_tokens(in, 0).size()));
  ASSERT_EQ(out.tracks.size(), 2u);
  EXPECT_EQ(out.tracks[1].notes, in.tracks[1].notes);  // the other track untouched
  EXPECT_EQ(out.tracks[0].program, 73);
  EXPECT_EQ(out.tempos.size(), 1u);
  const auto& a = in.tracks[0].notes;
  const auto& b = out.tracks[0].notes;
  ASSERT_EQ(static_cast<std::int64_t>(b.size()), static_cast<std::int64_t>(a.size()) + rep.notes_added);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(b[i], a[i]) << i;  // the input first, as it was
  const std::int64_t end = a.back().end;
  const double end_s = in.seconds(end);
  for (size_t i = a.size(); i < b.size(); ++i) {
    EXPECT_GE(b[i].start, end - 1) << i;  // within one 10 ms step of the input's end
    EXPECT_GT(b[i].end, b[i].start);
    EXPECT_LE(out.seconds(b[i].end), end_s + 5.0 + 0.011) << i;
  }
  // The track's events now begin with exactly the prime.
  const auto prime = data::performance_tokens(in, 0);
  const auto again = data::performance_tokens(out, 0);
  ASSERT_GE(again.size(), prime.size());
  // Seeded: the same seed repeats, another differs.
  EXPECT_EQ(m.extend(in, o).tracks[0].notes, b);
  o.seed = 12;
  EXPECT_NE(m.extend(in, o).tracks[0].notes, b);
}

TEST(TransformerXLExtend, GoesOnPastTheMemoryAndStopsAtTheTokenLimit) {
  TransformerXL m = small_model();
  const Score in = two_tracks();
  ExtendOptions o;
  o.seconds = 60.0;  // hundreds of tokens past a memory of 24
  ExtendReport rep;
  m.extend(in, o, &rep);
  EXPECT_DOUBLE_EQ(rep.generated_seconds, 60.0);
  EXPECT_GT(rep.generated_tokens, 24);
  o.max_tokens = 5;
  m.extend(in, o, &rep);
  EXPECT_TRUE(rep.hit_max_tokens);
  EXPECT_EQ(rep.generated_tokens, 5);
  o.max_tokens = 0;
  o.seconds = 0.0;
  const Score same = m.extend(in, o, &rep);
  EXPECT_EQ(rep.generated_tokens, 0);
  EXPECT_EQ(same.tracks[0].notes, in.tracks[0].notes);
}

TEST(TransformerXLExtend, RefusesBadTracksAndControls) {
  TransformerXL m = small_model();
  Score in = two_tracks();
  ExtendOptions o;
  o.track = 2;
  EXPECT_THROW(m.extend(in, o), InvalidArgument);
  o.track = 1;
  in.tracks[1].is_drum = true;
  EXPECT_THROW(m.extend(in, o), InvalidArgument);
  o = ExtendOptions{};
  o.temperature = 0.0;
  EXPECT_THROW(m.extend(in, o), InvalidArgument);
  o = ExtendOptions{};
  o.top_p = 0.0;
  EXPECT_THROW(m.extend(in, o), InvalidArgument);
  o = ExtendOptions{};
  o.seconds = -1.0;
  EXPECT_THROW(m.extend(in, o), InvalidArgument);
  Score empty;
  empty.tracks.resize(1);
  EXPECT_THROW(m.extend(empty, ExtendOptions{}), InvalidArgument);
}

// The GAN's monophonic decoding (src/models/gan_decode.hpp) against a plain
// Viterbi that tries every transition (O(pitches^2) a step), and its limits:
// with no penalties it is each step's highest value above the threshold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "models/gan_decode.hpp"
#include "partita/core/error.hpp"

using partita::models::VoiceDecoder;

namespace {

constexpr float kOff = -std::numeric_limits<float>::infinity();

// values: steps x P. The score of a path (states: pitch or -1) under the model:
// values of the pitches, the threshold for rests, leap * |p - q| from each
// pitch to the next one (across rests).
double path_score(const std::vector<float>& v, int P, const std::vector<int>& path, float thr, float leap) {
  double s = 0.0;
  int last = -1;
  for (size_t t = 0; t < path.size(); ++t) {
    const int q = path[t];
    if (q < 0) {
      s += thr;
      continue;
    }
    s += v[t * P + q];
    if (last >= 0) s -= leap * std::abs(last - q);
    last = q;
  }
  return s;
}

// The best score by trying every transition between the states "pitch p", "a
// rest after pitch p" and "no note yet".
double brute_best(const std::vector<float>& v, int steps, int P, float thr, float leap) {
  const int S = 2 * P + 1, none = 2 * P;
  auto emit = [&](int t, int p) -> double { return v[t * P + p]; };
  auto last_pitch = [&](int s) { return s < P ? s : s < 2 * P ? s - P : -1; };
  std::vector<double> score(S, -INFINITY), next(S);
  for (int p = 0; p < P; ++p) score[p] = emit(0, p);
  score[none] = thr;
  for (int t = 1; t < steps; ++t) {
    for (int q = 0; q < S; ++q) {
      double best = -INFINITY;
      for (int p = 0; p < S; ++p) {
        double c = score[p];
        if (q < P) {  // a pitch sounds
          if (last_pitch(p) >= 0) c -= leap * std::abs(last_pitch(p) - q);
          best = std::max(best, c + emit(t, q));
        } else if (q < 2 * P) {  // a rest after pitch q - P
          if (last_pitch(p) == q - P) best = std::max(best, c + thr);
        } else if (p == none) {
          best = std::max(best, c + thr);
        }
      }
      next[q] = best;
    }
    score.swap(next);
  }
  return *std::max_element(score.begin(), score.end());
}

struct Decoded {
  std::vector<int> path;
  float score;
};

Decoded decode(const std::vector<float>& v, int steps, int P, int shift, float thr, float leap) {
  VoiceDecoder d(steps, P, shift, thr, leap);
  for (int t = 0; t < steps; ++t) d.step(t, v.data() + t * P, 1);
  return {d.path(steps), d.score()};
}

}  // namespace

TEST(GanDecode, MatchesEveryTransitionViterbi) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const float leaps[] = {0.0f, 0.01f, 0.05f, 0.3f};
  const float thrs[] = {0.0f, -0.4f, 0.5f};
  for (int P : {1, 7, 48}) {
    for (int shift : {0, 24, -100}) {
      const int steps = 40;
      std::vector<float> v(static_cast<size_t>(steps * P));
      for (auto& x : v) x = u(rng);
      for (float leap : leaps)
        for (float thr : thrs) {
            const Decoded r = decode(v, steps, P, shift, thr, leap);
            const double want = brute_best(v, steps, P, thr, leap);
            ASSERT_NEAR(r.score, want, 1e-4) << "P " << P << " shift " << shift << " leap " << leap << " thr " << thr;
            // The path it returns scores what it says.
            ASSERT_NEAR(path_score(v, P, r.path, thr, leap), want, 1e-4)
                << "P " << P << " shift " << shift << " leap " << leap << " thr " << thr;
          }
    }
  }
}

TEST(GanDecode, NoPenaltiesIsEachStepsHighestValueAboveTheThreshold) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int steps = 64, P = 128;
  std::vector<float> v(static_cast<size_t>(steps * P));
  for (auto& x : v) x = u(rng) - 0.99f;  // about half the steps have nothing above 0
  const Decoded r = decode(v, steps, P, 0, 0.0f, 0.0f);
  int rests = 0;
  for (int t = 0; t < steps; ++t) {
    int best = -1;
    for (int p = 0; p < P; ++p)
      if (v[t * P + p] > 0.0f && (best < 0 || v[t * P + p] > v[t * P + best])) best = p;
    EXPECT_EQ(r.path[t], best) << "step " << t;
    rests += best < 0;
  }
  EXPECT_GT(rests, 0);
  EXPECT_LT(rests, steps);
}

TEST(GanDecode, LeapPenaltyShapesTheLine) {
  // Two steps an octave up, a little stronger than staying: without a penalty the
  // line follows the values, with one it stays.
  const int P = 128, steps = 4;
  std::vector<float> v(static_cast<size_t>(steps * P), -1.0f);
  v[0 * P + 60] = 0.9f;
  v[1 * P + 60] = 0.5f;
  v[1 * P + 72] = 0.6f;
  v[2 * P + 60] = 0.5f;
  v[2 * P + 72] = 0.6f;
  v[3 * P + 60] = 0.9f;
  EXPECT_EQ(decode(v, steps, P, 0, 0.0f, 0.0f).path, (std::vector<int>{60, 72, 72, 60}));
  EXPECT_EQ(decode(v, steps, P, 0, 0.0f, 0.01f).path, (std::vector<int>{60, 60, 60, 60}));
  // Across a rest the pitch before it counts: a far note after a rest gives way
  // to a slightly weaker near one.
  std::vector<float> g(static_cast<size_t>(steps * P), -1.0f);
  g[0 * P + 50] = 0.8f;
  g[1 * P + 50] = -0.2f;
  g[2 * P + 86] = 0.5f;
  g[2 * P + 52] = 0.4f;
  g[3 * P + 50] = 0.8f;
  EXPECT_EQ(decode(g, steps, P, 0, 0.0f, 0.0f).path, (std::vector<int>{50, -1, 86, 50}));
  EXPECT_EQ(decode(g, steps, P, 0, 0.0f, 0.01f).path, (std::vector<int>{50, -1, 52, 50}));
  // The line is found in the model's rows; its notes outside MIDI's 0..127 after
  // the shift are dropped when it is written.
  VoiceDecoder d(steps, P, 70, 0.0f, 0.0f);
  for (int t = 0; t < steps; ++t) d.step(t, v.data() + t * P, 1);
  EXPECT_EQ(d.path(steps), (std::vector<int>{60, 72, 72, 60}));
  std::vector<std::uint8_t> cells(static_cast<size_t>(steps * 128), 0);
  d.finish(steps, cells.data());
  std::vector<std::uint8_t> want(cells.size(), 0);
  want[1 * 128 + 2] = want[2 * 128 + 2] = 1;
  EXPECT_EQ(cells, want);
}

TEST(GanDecode, RefusesBadSizes) {
  EXPECT_THROW(VoiceDecoder(10, 129, 0, 0.0f, 0.0f), partita::InvalidArgument);
  EXPECT_THROW(VoiceDecoder(0, 128, 0, 0.0f, 0.0f), partita::InvalidArgument);
}

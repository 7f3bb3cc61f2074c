// Tests of partita::Synth by what comes out: pitch (FFT peak), length, timing,
// silence, timbre per program, drums on channel 10, bends and controllers,
// determinism across renders, SoundFont discovery and error messages.
// Skipped (not failed) when the machine has no General MIDI SoundFont.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/render/synth.hpp"

namespace {

using partita::Score;
using partita::Synth;
using partita::SynthOptions;
using partita::Tensor;
using partita::Track;

constexpr int kRate = 44100;

// --- signal helpers ----------------------------------------------------------

// In-place radix-2 FFT (n a power of two).
void fft(std::vector<std::complex<double>>& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2 * M_PI / static_cast<double>(len);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    for (std::size_t i = 0; i < n; i += len) {
      std::complex<double> w(1);
      for (std::size_t k = 0; k < len / 2; ++k) {
        const auto u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= wl;
      }
    }
  }
}

// Magnitude spectrum of the mono mix of `n` frames from `start` (Hann window).
std::vector<double> spectrum(const Tensor& audio, std::int64_t start, std::size_t n) {
  std::vector<std::complex<double>> a(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t f = start + static_cast<std::int64_t>(i);
    const double x = f < audio.dim(0) ? 0.5 * (audio[2 * f] + audio[2 * f + 1]) : 0.0;
    a[i] = x * (0.5 - 0.5 * std::cos(2 * M_PI * static_cast<double>(i) / static_cast<double>(n)));
  }
  fft(a);
  std::vector<double> mag(n / 2);
  for (std::size_t i = 0; i < n / 2; ++i) mag[i] = std::abs(a[i]);
  return mag;
}

double peak_hz(const std::vector<double>& mag, int rate) {
  const std::size_t k = static_cast<std::size_t>(
      std::max_element(mag.begin() + 1, mag.end()) - mag.begin());
  return static_cast<double>(k) * rate / (2.0 * static_cast<double>(mag.size()));
}

double centroid_hz(const std::vector<double>& mag, int rate) {
  double num = 0, den = 0;
  for (std::size_t k = 0; k < mag.size(); ++k) {
    const double hz = static_cast<double>(k) * rate / (2.0 * static_cast<double>(mag.size()));
    num += hz * mag[k];
    den += mag[k];
  }
  return num / den;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

float max_abs(const Tensor& t) {
  float m = 0;
  for (std::int64_t i = 0; i < t.size(); ++i) m = std::max(m, std::fabs(t[i]));
  return m;
}

std::int64_t first_sound(const Tensor& audio, float threshold) {
  for (std::int64_t f = 0; f < audio.dim(0); ++f)
    if (std::fabs(audio[2 * f]) > threshold || std::fabs(audio[2 * f + 1]) > threshold) return f;
  return -1;
}

// --- score helpers (480 ticks per quarter, 120 qpm: 960 ticks = 1 s) ----------

Track track(int program, std::vector<partita::Note> notes, bool drum = false) {
  Track t;
  t.program = program;
  t.is_drum = drum;
  t.notes = std::move(notes);
  return t;
}

Score score_of(std::vector<Track> tracks) {
  Score s;
  s.ticks_per_quarter = 480;
  s.tracks = std::move(tracks);
  return s;
}

// One synthesizer for the whole file: loading a 148 MB SoundFont takes a while.
class SynthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      synth_ = std::make_unique<Synth>();
    } catch (const partita::RenderError& e) {
      skip_reason_ = e.what();
    }
  }
  static void TearDownTestSuite() { synth_.reset(); }
  void SetUp() override {
    if (!synth_) GTEST_SKIP() << "no SoundFont: " << skip_reason_;
    synth_->set_tail(1.0);
    synth_->set_gain(0.5);
  }
  static std::unique_ptr<Synth> synth_;
  static std::string skip_reason_;
};
std::unique_ptr<Synth> SynthTest::synth_;
std::string SynthTest::skip_reason_;

TEST_F(SynthTest, SingleA4HasItsStrongestPartialAt440Hz) {
  const Tensor audio = synth_->render(score_of({track(0, {{69, 100, 0, 960}})}));
  const double hz = peak_hz(spectrum(audio, 0, 32768), kRate);
  EXPECT_NEAR(hz, 440.0, 3.0);
  EXPECT_GT(max_abs(audio), 0.01f);
  EXPECT_LT(max_abs(audio), 1.0f);
}

TEST_F(SynthTest, LengthIsDurationPlusTail) {
  Score s = score_of({track(0, {{60, 100, 0, 960}})});
  EXPECT_EQ(synth_->render(s).dim(0), 2 * kRate);  // 1 s of note + 1 s tail
  EXPECT_EQ(synth_->render(s).dim(1), 2);
  // A tempo change: 0.5 s at 120 qpm, then 480 ticks at 60 qpm = 1 s.
  s.tempos.push_back({480, 60.0});
  EXPECT_DOUBLE_EQ(s.duration_seconds(), 1.5);
  EXPECT_EQ(synth_->frames(s), std::llround(2.5 * kRate));
  synth_->set_tail(0.25);
  EXPECT_EQ(synth_->render(s).dim(0), std::llround(1.75 * kRate));
}

TEST_F(SynthTest, EmptyScoreRendersSilentTail) {
  Tensor audio = synth_->render(Score());
  EXPECT_EQ(audio.dim(0), kRate);
  EXPECT_EQ(max_abs(audio), 0.0f);
  // Also a score whose tracks have no notes, and after a loud render.
  synth_->render(score_of({track(0, {{40, 127, 0, 9600}})}));
  audio = synth_->render(score_of({track(0, {}), track(40, {})}));
  EXPECT_EQ(audio.dim(0), kRate);
  EXPECT_EQ(max_abs(audio), 0.0f);
  synth_->set_tail(0.0);
  EXPECT_EQ(synth_->render(Score()).dim(0), 0);
}

TEST_F(SynthTest, NoteStartsAtItsTimeWithinHalfABlock) {
  // Note at tick 960 = 1.000 s = frame 44100, after a tempo-map segment.
  Score s = score_of({track(0, {{60, 110, 960, 1440}})});
  const std::int64_t f = first_sound(synth_->render(s), 1e-6f);
  EXPECT_GE(f, kRate - 32);
  EXPECT_LE(f, kRate + 256);  // the attack may start at zero amplitude
  // Slower tempo: the same tick is later. 60 qpm from tick 0 -> 2 s.
  s.tempos.push_back({0, 60.0});
  const std::int64_t g = first_sound(synth_->render(s), 1e-6f);
  EXPECT_GE(g, 2 * kRate - 32);
  EXPECT_LE(g, 2 * kRate + 256);
  EXPECT_NEAR(static_cast<double>(g - f), kRate, 64.0);  // one second later, within a block
}

TEST_F(SynthTest, RendersAreIndependentAndDeterministic) {
  const Score a = score_of({track(0, {{60, 100, 0, 480}, {64, 90, 240, 960}})});
  Score b = score_of({track(73, {{72, 120, 0, 4800}}), track(0, {{36, 127, 0, 100}}, true)});
  b.tracks[0].controls.push_back({0, 64, 127});    // sustain pedal down, never released
  b.tracks[0].pitch_bends.push_back({100, 4000});  // bend left on
  const Tensor first = synth_->render(a);
  synth_->render(b);
  const Tensor again = synth_->render(a);
  ASSERT_EQ(first.shape(), again.shape());
  for (std::int64_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i], again[i]) << "sample " << i;
}

TEST_F(SynthTest, ParallelLanesMatchOneLane) {
  // Four tracks rendered by one synthesizer or by two in parallel (summed):
  // the same music up to float rounding, and each way deterministic.
  Score s = score_of({track(0, {{60, 100, 0, 960}, {64, 100, 480, 1440}}),
                      track(73, {{72, 90, 0, 1920}}), track(41, {{55, 80, 240, 960}}),
                      track(0, {{36, 120, 0, 100}, {38, 120, 480, 580}}, true)});
  s.tracks[1].pitch_bends.push_back({960, -3000});
  const int threads = partita::num_threads();
  partita::set_num_threads(1);
  const Tensor one = synth_->render(s);
  partita::set_num_threads(2);
  const Tensor two = synth_->render(s);
  const Tensor again = synth_->render(s);
  partita::set_num_threads(threads);
  ASSERT_EQ(one.shape(), two.shape());
  // Not bit-identical: besides summation order, FluidSynth ramps a reused
  // voice slot's gain from its previous note for one block (1.5 ms), and which
  // slots get reused depends on what else the synthesizer plays.
  double diff2 = 0, sig2 = 0;
  for (std::int64_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(two[i], again[i]) << "sample " << i;
    diff2 += double(one[i] - two[i]) * (one[i] - two[i]);
    sig2 += double(one[i]) * one[i];
  }
  EXPECT_LT(std::sqrt(diff2 / sig2), 1e-3);
  EXPECT_GT(max_abs(one), 0.05f);
}

TEST_F(SynthTest, RenderReusesTheOutputBuffer) {
  const Score s = score_of({track(0, {{60, 100, 0, 480}})});
  Tensor out;
  synth_->render(s, out);
  const float* p = out.data();
  synth_->render(s, out);
  EXPECT_EQ(out.data(), p);
}

TEST_F(SynthTest, ProgramChangesTheSpectrum) {
  const auto piano = spectrum(synth_->render(score_of({track(0, {{69, 100, 0, 960}})})), 0, 32768);
  const auto flute = spectrum(synth_->render(score_of({track(73, {{69, 100, 0, 960}})})), 0, 32768);
  const auto piano2 = spectrum(synth_->render(score_of({track(0, {{69, 100, 0, 960}})})), 0, 32768);
  EXPECT_DOUBLE_EQ(cosine(piano, piano2), 1.0);
  EXPECT_LT(cosine(piano, flute), 0.9);
  EXPECT_NEAR(peak_hz(flute, kRate), 440.0, 3.0);  // same pitch, different timbre
}

TEST_F(SynthTest, DrumTrackPlaysOnChannel10WithTheDrumKit) {
  Score s = score_of({track(0, {{60, 100, 0, 480}}), track(0, {{38, 100, 0, 480}}, true),
                      track(33, {{40, 100, 0, 480}})});
  EXPECT_EQ(partita::assign_channels(s, Synth::kChannels), (std::vector<int>{0, 9, 1}));
  // Pitch 38 on the drum kit is a snare (broadband noise); on a piano it is D2 (73 Hz).
  const auto snare = spectrum(synth_->render(score_of({track(0, {{38, 100, 0, 480}}, true)})), 0, 16384);
  const auto low_d = spectrum(synth_->render(score_of({track(0, {{38, 100, 0, 480}})})), 0, 16384);
  EXPECT_GT(centroid_hz(snare, kRate), 1000.0);
  EXPECT_GT(centroid_hz(snare, kRate), 2.0 * centroid_hz(low_d, kRate));
  EXPECT_LT(peak_hz(low_d, kRate), 400.0);
}

TEST_F(SynthTest, PitchBendAndVolumeControllerAreApplied) {
  // +8191 = +2 semitones with the default bend range: A4 -> B4 (493.9 Hz).
  Score s = score_of({track(73, {{69, 100, 0, 960}})});
  s.tracks[0].pitch_bends.push_back({0, 8191});
  EXPECT_NEAR(peak_hz(spectrum(synth_->render(s), 0, 32768), kRate), 493.9, 4.0);
  // Channel volume (CC 7) 0 silences the track.
  Score quiet = score_of({track(73, {{69, 100, 0, 960}})});
  quiet.tracks[0].controls.push_back({0, 7, 0});
  EXPECT_LT(max_abs(synth_->render(quiet)), 1e-4f);
}

TEST_F(SynthTest, ManyTracksGetTheirOwnChannels) {
  std::vector<Track> tracks;
  for (int t = 0; t < 20; ++t) tracks.push_back(track(t, {{48 + t, 90, t * 48, t * 48 + 480}}));
  const Score s = score_of(tracks);
  const auto ch = partita::assign_channels(s, Synth::kChannels);
  EXPECT_EQ(std::set<int>(ch.begin(), ch.end()).size(), 20u);
  EXPECT_EQ(std::count(ch.begin(), ch.end(), 9), 0);
  const Tensor audio = synth_->render(s);
  EXPECT_GT(max_abs(audio), 0.01f);
}

TEST(AssignChannels, SharesOnlyWhenEveryChannelIsTaken) {
  Score s;
  for (int t = 0; t < 63; ++t) s.tracks.push_back(track(t, {}));  // 63 melodic channels
  s.tracks.push_back(track(5, {}));                // same program as track 5 -> its channel
  s.tracks.push_back(track(100, {}));              // no match -> least used (channel 0)
  s.tracks.push_back(track(0, {}, true));          // first drum track -> 9
  s.tracks.push_back(track(25, {}, true));         // second drum track: all full -> 9
  const auto ch = partita::assign_channels(s, 64);
  for (int t = 0; t < 63; ++t) EXPECT_EQ(ch[t], t < 9 ? t : t + 1);
  EXPECT_EQ(ch[63], 5);
  EXPECT_EQ(ch[64], 0);
  EXPECT_EQ(ch[65], 9);
  EXPECT_EQ(ch[66], 9);
  EXPECT_THROW(partita::assign_channels(s, 8), partita::InvalidArgument);
}

TEST_F(SynthTest, SharedChannelKeepsEachTracksProgram) {
  // 64 melodic tracks on 63 melodic channels: the last one shares a piano's
  // channel, and must still sound like a flute.
  std::vector<Track> tracks;
  for (int t = 0; t < 63; ++t) tracks.push_back(track(0, {}));
  tracks.push_back(track(73, {{69, 100, 0, 960}}));
  const Score s = score_of(tracks);
  EXPECT_LT(partita::assign_channels(s, Synth::kChannels).back(), 64);
  const auto shared = spectrum(synth_->render(s), 0, 32768);
  const auto alone = spectrum(synth_->render(score_of({track(73, {{69, 100, 0, 960}})})), 0, 32768);
  EXPECT_GT(cosine(shared, alone), 0.999);
}

TEST_F(SynthTest, BadScoresThrowInvalidArgument) {
  auto expect_invalid = [&](const Score& s, const std::string& words) {
    try {
      synth_->render(s);
      ADD_FAILURE() << "no exception for " << words;
    } catch (const partita::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_invalid(score_of({track(0, {{128, 100, 0, 10}})}), "pitch");
  expect_invalid(score_of({track(0, {{60, 0, 0, 10}})}), "velocity");
  expect_invalid(score_of({track(0, {{60, 100, 20, 10}})}), "before it starts");
  expect_invalid(score_of({track(0, {{60, 100, -5, 10}})}), "negative tick");
  expect_invalid(score_of({track(128, {{60, 100, 0, 10}})}), "program");
  Score cc = score_of({track(0, {})});
  cc.tracks[0].controls.push_back({0, 7, 200});
  expect_invalid(cc, "control change");
  Score bend = score_of({track(0, {})});
  bend.tracks[0].pitch_bends.push_back({0, 9000});
  expect_invalid(bend, "pitch bend");
  Score tempo = score_of({track(0, {{60, 100, 0, 10}})});
  tempo.tempos.push_back({0, 0.0});
  expect_invalid(tempo, "qpm");
  expect_invalid(score_of({track(0, {{60, 100, 0, std::int64_t(1) << 40}})}), "max_seconds");
  EXPECT_THROW(synth_->set_gain(-1), partita::InvalidArgument);
  EXPECT_THROW(synth_->set_tail(-0.5), partita::InvalidArgument);
}

TEST_F(SynthTest, OtherSampleRate) {
  SynthOptions o;
  o.soundfont = synth_->soundfont();
  o.sample_rate = 22050;
  o.tail_seconds = 0.5;
  Synth low(o);
  EXPECT_EQ(low.sample_rate(), 22050);
  const Tensor audio = low.render(score_of({track(0, {{69, 100, 0, 960}})}));
  EXPECT_EQ(audio.dim(0), std::llround(1.5 * 22050));
  EXPECT_NEAR(peak_hz(spectrum(audio, 0, 16384), 22050), 440.0, 3.0);
}

TEST_F(SynthTest, ReverbTailIsResetBetweenRenders) {
  SynthOptions o;
  o.soundfont = synth_->soundfont();
  o.reverb = true;
  o.chorus = true;
  Synth wet(o);
  EXPECT_TRUE(wet.reverb());
  const Score a = score_of({track(0, {{60, 100, 0, 240}})});
  const Tensor first = wet.render(a);
  wet.render(score_of({track(48, {{50, 127, 0, 4800}, {57, 127, 0, 4800}})}));
  const Tensor again = wet.render(a);
  ASSERT_EQ(first.shape(), again.shape());
  for (std::int64_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i], again[i]) << "sample " << i;
}

// --- SoundFont discovery and errors -----------------------------------------------

class EnvGuard {
 public:
  explicit EnvGuard(const char* value) {
    if (const char* old = std::getenv("PARTITA_SOUNDFONT")) old_ = old, had_ = true;
    if (value) ::setenv("PARTITA_SOUNDFONT", value, 1);
    else ::unsetenv("PARTITA_SOUNDFONT");
  }
  ~EnvGuard() {
    if (had_) ::setenv("PARTITA_SOUNDFONT", old_.c_str(), 1);
    else ::unsetenv("PARTITA_SOUNDFONT");
  }

 private:
  std::string old_;
  bool had_ = false;
};

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const partita::RenderError& e) {
    return e.what();
  }
  return "(no RenderError)";
}

TEST(FindSoundfont, NothingFoundSaysWhatToInstall) {
  EnvGuard env(nullptr);
  const std::string msg = what_of([] { partita::find_soundfont("", {"/nonexistent/a.sf2"}); });
  EXPECT_NE(msg.find("apt-get install fluid-soundfont-gm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("PARTITA_SOUNDFONT"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/nonexistent/a.sf2"), std::string::npos) << msg;
  EXPECT_NE(what_of([] { partita::Synth(SynthOptions{"/no/such/font.sf2"}); }).find("/no/such/font.sf2"),
            std::string::npos);
}

TEST(FindSoundfont, OrderIsExplicitThenEnvironmentThenSearchPaths) {
  const auto dir = std::filesystem::temp_directory_path() / ("partita_sf_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string a = (dir / "a.sf2").string(), b = (dir / "b.sf2").string();
  std::ofstream(a) << "x";
  std::ofstream(b) << "x";
  {
    EnvGuard env(nullptr);
    EXPECT_EQ(partita::find_soundfont("", {"/nonexistent/x.sf2", b}), b);
  }
  {
    EnvGuard env(a.c_str());
    EXPECT_EQ(partita::find_soundfont("", {b}), a);
    EXPECT_EQ(partita::find_soundfont(b, {}), b);
  }
  {
    EnvGuard env("/nonexistent/env.sf2");
    const std::string msg = what_of([&] { partita::find_soundfont("", {b}); });
    EXPECT_NE(msg.find("/nonexistent/env.sf2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("PARTITA_SOUNDFONT"), std::string::npos) << msg;
  }
  std::filesystem::remove_all(dir);
}

TEST(FindSoundfont, BadFileIsARenderErrorNamingIt) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("partita_bad_" + std::to_string(::getpid()) + ".sf2");
  std::ofstream(path) << "this is not a SoundFont";
  const std::string msg = what_of([&] { partita::Synth(SynthOptions{path.string()}); });
  EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
  // A RIFF header with garbage inside passes the header check and fails in FluidSynth.
  std::ofstream(path, std::ios::binary) << std::string("RIFF\x10\0\0\0sfbkLIST", 16) << std::string(64, '\x7f');
  const std::string msg2 = what_of([&] { partita::Synth(SynthOptions{path.string()}); });
  EXPECT_NE(msg2.find(path.string()), std::string::npos) << msg2;
  std::filesystem::remove(path);
}

TEST(SynthOptionsCheck, BadOptionsAreInvalidArgument) {
  SynthOptions o;
  o.sample_rate = 1000;
  EXPECT_THROW(Synth{o}, partita::InvalidArgument);
  o = SynthOptions();
  o.gain = -0.1;
  EXPECT_THROW(Synth{o}, partita::InvalidArgument);
  o = SynthOptions();
  o.tail_seconds = std::nan("");
  EXPECT_THROW(Synth{o}, partita::InvalidArgument);
}

}  // namespace

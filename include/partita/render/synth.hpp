// Synth: offline rendering of a Score to audio with a General MIDI SoundFont.
//
// A Synth loads one SoundFont (through FluidSynth, linked as a C library: no
// subprocess, no audio driver) and then renders any number of Scores, each
// independently: every render runs on a fresh synthesizer that borrows the
// loaded SoundFont (fluid_synth_system_reset is not enough: FluidSynth keeps
// state in its voice slots), so the same Score always gives the same samples
// whatever was rendered before. The FluidSynth types stay in
// src/render/synth.cpp; this header is all a caller sees.
//
// How a Score becomes sound:
// * Channels. Each track gets its own synthesizer channel (the synth has
//   kChannels of them, more than MIDI's 16, so tracks never have to share
//   controllers or pitch bends). Drum tracks are percussion channels using
//   bank 128, the first one on channel 10 (index 9) as General MIDI expects;
//   melodic tracks use bank 0 with the track's program. Only a score with more
//   than kChannels - 1 tracks shares channels: a track then joins a channel of
//   the same kind and program if there is one, else the least used channel of
//   its kind, and the program is re-selected before each of its notes (a
//   program change does not affect notes already sounding), so every note
//   keeps its track's timbre; only controllers and bends are shared.
//   assign_channels() exposes the mapping.
// * Events. Note on/off, control changes and pitch bends are placed at
//   frame round(Score::seconds(tick) * sample_rate). FluidSynth applies
//   events at its internal block boundaries (64 frames), so the render loop
//   writes audio in whole blocks between event times and sends every event at
//   the boundary nearest its exact frame: timing error at most 32 frames
//   (0.73 ms at 44.1 kHz), never accumulating. Overlapping notes of one pitch
//   on one channel are reference-counted so an early note-off cannot cut a
//   later note short. Zero-length notes sound for one frame (drum hits often
//   are zero-length in files).
// * Length. The output has llround((duration + tail) * sample_rate) frames:
//   duration = Score::duration_seconds() (last note end), tail = release time
//   after it (default 1 s). An empty score renders `tail` seconds of silence.
// * Output. float32, interleaved stereo: shape (frames, 2). Values are not
//   clipped; `gain` scales everything (FluidSynth's own default is 0.2; 0.5
//   keeps a four-voice chorale on FluidR3_GM below full scale).
//
// Threads. With partita::num_threads() > 1 the channels are split into groups
// of similar note counts ("lanes", at most 8), each rendered by its own
// synthesizer in parallel and summed in a fixed order: about n times faster,
// and deterministic for a given thread count. Different thread counts give
// the same music but not the same bits (differences around 1e-4 for one
// block where FluidSynth reuses a voice slot).
//
// Reverb and chorus are off by default (dry and deterministic); turn them on in
// SynthOptions. One Synth may be shared between threads: renders are
// serialized by an internal mutex. FluidSynth's log output is captured (not
// printed) and turned into RenderError messages where a call fails.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/music/score.hpp"

namespace partita {

/// Returns the SoundFont to use. Order: `explicit_path` if non-empty (it must
/// exist), then the environment variable PARTITA_SOUNDFONT if set (it must
/// exist), then the first existing file of `search_paths` (default:
/// default_soundfont_paths()). Throws RenderError naming the missing file, or,
/// when nothing is found, saying "install fluid-soundfont-gm (apt-get install
/// fluid-soundfont-gm) or set PARTITA_SOUNDFONT".
std::string find_soundfont(const std::string& explicit_path = "");
std::string find_soundfont(const std::string& explicit_path,
                           const std::vector<std::string>& search_paths);

/// The places find_soundfont() looks, in order (Debian/Ubuntu package paths
/// first: fluid-soundfont-gm, timgm6mb-soundfont, musescore-general-soundfont;
/// then the system default-GM alternatives and common paths on other distros).
std::vector<std::string> default_soundfont_paths();

struct SynthOptions {
  std::string soundfont;      // empty: find_soundfont()
  int sample_rate = 44100;    // Hz, 8000..96000 (FluidSynth's range)
  double gain = 0.5;          // output gain, 0..10
  double tail_seconds = 1.0;  // rendered after the last note ends, >= 0
  bool reverb = false;
  bool chorus = false;
  int polyphony = 256;        // voices sounding at once (oldest released voices are stolen first)
  double max_seconds = 3600;  // longest output render() accepts (memory guard)
};

/// The synthesizer channel each track plays on (one entry per track).
/// `num_channels` >= 16; index 9 is the first drum channel.
std::vector<int> assign_channels(const Score& score, int num_channels);

class Synth {
 public:
  /// Synthesizer channels (a multiple of 16, as FluidSynth requires).
  static constexpr int kChannels = 64;

  /// Loads the SoundFont. Throws RenderError (no SoundFont, unreadable or
  /// invalid file: the message names it) or InvalidArgument (bad options).
  explicit Synth(const SynthOptions& options = SynthOptions());
  ~Synth();
  Synth(Synth&&) noexcept;
  Synth& operator=(Synth&&) noexcept;
  Synth(const Synth&) = delete;
  Synth& operator=(const Synth&) = delete;

  /// Renders `score` to float32 stereo audio of shape (frames(score), 2).
  /// Throws InvalidArgument for values MIDI cannot hold (pitch, velocity,
  /// program, controller, bend, negative ticks) or an output longer than
  /// max_seconds.
  Tensor render(const Score& score);
  /// Same, into `out` (resized; its capacity is reused across calls).
  void render(const Score& score, Tensor& out);

  /// Number of frames render(score) returns.
  std::int64_t frames(const Score& score) const;

  const std::string& soundfont() const;
  int sample_rate() const;
  int channels() const { return 2; }
  double gain() const;
  void set_gain(double gain);  // 0..10
  double tail() const;
  void set_tail(double seconds);  // >= 0
  bool reverb() const;
  bool chorus() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace partita

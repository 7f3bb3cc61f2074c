// Synth: FluidSynth driven offline, event by event, into a float32 Tensor.
//
// The render loop: reset the synthesizer, select each channel's bank and
// program, then walk the Score's events in time order. Between two event times
// the synthesizer writes audio straight into the output (interleaved stereo,
// fluid_synth_write_float with a stride of 2), always in whole internal blocks
// so that the next events take effect exactly at the block boundary nearest
// their frame. See include/partita/render/synth.hpp for the contract.
#include "partita/render/synth.hpp"

#include <dlfcn.h>
#include <fluidsynth.h>

#include <algorithm>
#include <exception>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"

namespace partita {
namespace {

// ---- FluidSynth log capture -------------------------------------------------
// FluidSynth prints to stderr by default. We route every level to this
// function: errors are kept (per thread) so that a failing call can put them in
// its exception message; warnings and debug output are dropped.
thread_local std::string t_fluid_error;

void capture_fluid_log(int level, const char* message, void* /*data*/) {
  if ((level == FLUID_PANIC || level == FLUID_ERR) && message) {
    if (!t_fluid_error.empty()) t_fluid_error += "; ";
    t_fluid_error += message;
  }
}

void install_log_capture() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int level = FLUID_PANIC; level <= FLUID_DBG; ++level)
      fluid_set_log_function(level, capture_fluid_log, nullptr);
  });
}

// FluidSynth hands files its SoundFont reader rejects to libinstpatch (DLS),
// which reports through GLib's default log handler straight to stderr
// ("** CRITICAL **: ipatch_..."). While a SoundFont loads, a no-op handler
// for GLib's default domain catches those; GLib is reached through dlsym
// because only FluidSynth links it (nothing happens if it is absent).
class QuietGlibLog {
 public:
  QuietGlibLog() {
    set_ = reinterpret_cast<SetHandler>(dlsym(RTLD_DEFAULT, "g_log_set_handler"));
    remove_ = reinterpret_cast<RemoveHandler>(dlsym(RTLD_DEFAULT, "g_log_remove_handler"));
    if (set_ && remove_) id_ = set_(nullptr, kLevels, &ignore, nullptr);
  }
  ~QuietGlibLog() {
    if (id_) remove_(nullptr, id_);
  }
  QuietGlibLog(const QuietGlibLog&) = delete;
  QuietGlibLog& operator=(const QuietGlibLog&) = delete;

 private:
  using Handler = void (*)(const char*, int, const char*, void*);
  using SetHandler = unsigned (*)(const char*, int, Handler, void*);
  using RemoveHandler = void (*)(const char*, unsigned);
  // G_LOG_LEVEL_CRITICAL | WARNING | MESSAGE | INFO | DEBUG (not ERROR, which aborts).
  static constexpr int kLevels = 8 | 16 | 32 | 64 | 128;
  static void ignore(const char*, int, const char*, void*) {}
  SetHandler set_ = nullptr;
  RemoveHandler remove_ = nullptr;
  unsigned id_ = 0;
};

std::string take_fluid_error() {
  std::string s;
  s.swap(t_fluid_error);
  return s.empty() ? std::string("FluidSynth gave no reason") : s;
}

// ---- Tempo map --------------------------------------------------------------
// Score::seconds integrates the tempo map from the start on every call; for
// thousands of events we precompute the segments once and find the segment
// by binary search. The arithmetic is the same as Score::seconds, term for
// term, so both give identical doubles.
class TempoMap {
 public:
  explicit TempoMap(const Score& score) {
    tpq_ = score.ticks_per_quarter > 0 ? score.ticks_per_quarter : 480;
    starts_.push_back(0);
    times_.push_back(0.0);
    qpms_.push_back(120.0);
    for (std::size_t i = 0; i < score.tempos.size(); ++i) {
      const auto& tc = score.tempos[i];
      if (!(tc.qpm > 0.0) || !std::isfinite(tc.qpm))
        throw InvalidArgument("Synth::render: tempo " + std::to_string(i) + " has qpm " +
                              std::to_string(tc.qpm) + " (must be positive)");
      if (tc.tick < 0)
        throw InvalidArgument("Synth::render: tempo " + std::to_string(i) + " has negative tick " +
                              std::to_string(tc.tick));
      if (i > 0 && tc.tick < score.tempos[i - 1].tick)
        throw InvalidArgument("Synth::render: tempo changes are not sorted by tick (call Score::sort)");
      times_.push_back(times_.back() + (tc.tick - starts_.back()) / tpq_ * 60.0 / qpms_.back());
      starts_.push_back(tc.tick);
      qpms_.push_back(tc.qpm);
    }
  }
  double seconds(std::int64_t tick) const {
    // Last segment whose start is strictly before `tick` (segment 0 always applies).
    auto it = std::lower_bound(starts_.begin() + 1, starts_.end(), tick);
    const std::size_t s = static_cast<std::size_t>(it - starts_.begin()) - 1;
    return times_[s] + (tick - starts_[s]) / tpq_ * 60.0 / qpms_[s];
  }

 private:
  double tpq_ = 480;
  std::vector<std::int64_t> starts_;
  std::vector<double> times_;
  std::vector<double> qpms_;
};

// Most lanes (parallel synthesizers) one render uses.
constexpr int kMaxLanes = 8;

enum EventKind : int { kNoteOff = 0, kControl = 1, kBend = 2, kNoteOn = 3 };

// One synthesizer call at an exact frame. Events at one frame run in the order
// note-off, controller, bend, note-on (a repeated note is released before it
// restarts; controllers apply to the notes that start with them), then in
// Score order (seq).
struct Event {
  std::int64_t frame;
  int kind;
  int seq;
  int channel;
  int a;           // pitch / controller / bend value
  int b;           // velocity / controller value
  int program;     // note-on: the track's program
  bool drum;       // note-on: the track is percussion
};

void check_range(int value, int lo, int hi, const char* what, std::size_t track, std::size_t index) {
  if (value < lo || value > hi)
    throw InvalidArgument("Synth::render: track " + std::to_string(track) + " " + what + " " +
                          std::to_string(index) + ": value " + std::to_string(value) +
                          " outside " + std::to_string(lo) + ".." + std::to_string(hi));
}

void check_tick(std::int64_t tick, const char* what, std::size_t track, std::size_t index) {
  if (tick < 0)
    throw InvalidArgument("Synth::render: track " + std::to_string(track) + " " + what + " " +
                          std::to_string(index) + ": negative tick " + std::to_string(tick));
}

}  // namespace

// ---- Channel assignment -----------------------------------------------------

std::vector<int> assign_channels(const Score& score, int num_channels) {
  if (num_channels < 16)
    throw InvalidArgument("assign_channels: need at least 16 channels, got " +
                          std::to_string(num_channels));
  struct Channel {
    bool used = false;
    bool drum = false;
    int program = -1;
    int users = 0;
  };
  std::vector<Channel> ch(static_cast<std::size_t>(num_channels));
  std::vector<int> out(score.tracks.size(), -1);
  int next_free = 0;
  auto take_free = [&]() {
    while (next_free < num_channels && (next_free == 9 || ch[next_free].used)) ++next_free;
    return next_free < num_channels ? next_free++ : -1;
  };
  for (std::size_t t = 0; t < score.tracks.size(); ++t) {
    const bool drum = score.tracks[t].is_drum;
    const int program = score.tracks[t].program;
    int c = (drum && !ch[9].used) ? 9 : take_free();
    if (c < 0) {
      // Every channel is taken: share. Prefer the same kind and program, then
      // the same kind; fewest users first, lowest index on ties.
      int best = -1, best_rank = std::numeric_limits<int>::max();
      for (int i = 0; i < num_channels; ++i) {
        if (!ch[i].used) continue;
        const int mismatch = (ch[i].drum != drum ? 2 : 0) + (ch[i].program != program ? 1 : 0);
        const int rank = mismatch * (1 << 24) + ch[i].users;
        if (rank < best_rank) best_rank = rank, best = i;
      }
      c = best;
    }
    if (!ch[c].used) {
      ch[c].used = true;
      ch[c].drum = drum;
      ch[c].program = program;
    }
    ++ch[c].users;
    out[t] = c;
  }
  return out;
}

// ---- Synth ------------------------------------------------------------------

// A lane renders a subset of the channels into its own buffer: its own copy
// of the SoundFont (FluidSynth counts references on a SoundFont's samples
// without locks, so lanes working in parallel must not share one; the sample
// data itself is shared through FluidSynth's sample cache) and, during a
// render, its own fresh synthesizer.
struct Lane {
  // Loads the SoundFont and owns it; it never renders. FluidSynth keeps state
  // in its voice slots across a reset (a reused voice ramps its gain from the
  // previous note's level), so each render creates a fresh synthesizer that
  // borrows this SoundFont (fluid_synth_add_sfont, about 0.3 ms) and gives it
  // back (fluid_synth_remove_sfont) before it is deleted.
  fluid_synth_t* loader = nullptr;
  fluid_sfont_t* sfont = nullptr;
  fluid_synth_t* synth = nullptr;  // the synthesizer of the render in progress
  int sfont_id = -1;               // the SoundFont's id inside `synth`
  int block = 64;                  // FluidSynth's internal block size
  const std::string* soundfont = nullptr;
  // Kept across renders (no reallocation once warm).
  std::vector<Event> events;  // this lane's events, in time order
  std::vector<int> active;    // (channel, pitch) -> sounding note count
  std::vector<int> program;   // channel -> selected program (-1: none)
  std::vector<char> drum;     // channel -> selected bank is percussion
  std::vector<float> last_block;
  Tensor buffer;              // output of lanes other than the first

  Lane(fluid_settings_t* settings, const std::string& path) : soundfont(&path) {
    loader = new_fluid_synth(settings);
    if (!loader) throw RenderError("Synth: new_fluid_synth failed: " + take_fluid_error());
    int id = FLUID_FAILED;
    {
      QuietGlibLog quiet;
      id = fluid_synth_sfload(loader, path.c_str(), 1);
    }
    if (id == FLUID_FAILED) {
      const std::string why = take_fluid_error();
      delete_fluid_synth(loader);
      throw RenderError("Synth: cannot load SoundFont '" + path + "': " + why);
    }
    sfont = fluid_synth_get_sfont_by_id(loader, id);
    block = std::max(1, fluid_synth_get_internal_bufsize(loader));
    t_fluid_error.clear();
    active.assign(static_cast<std::size_t>(Synth::kChannels) * 128, 0);
    program.assign(Synth::kChannels, -1);
    drum.assign(Synth::kChannels, 0);
  }
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  ~Lane() {
    end_render();
    if (loader) delete_fluid_synth(loader);
  }

  void begin_render(fluid_settings_t* settings, double gain) {
    end_render();
    t_fluid_error.clear();
    synth = new_fluid_synth(settings);
    if (!synth) throw RenderError("Synth::render: new_fluid_synth failed: " + take_fluid_error());
    sfont_id = fluid_synth_add_sfont(synth, sfont);
    if (sfont_id == FLUID_FAILED) {
      delete_fluid_synth(synth);
      synth = nullptr;
      throw RenderError("Synth::render: fluid_synth_add_sfont failed: " + take_fluid_error());
    }
    fluid_synth_set_gain(synth, static_cast<float>(gain));
    std::fill(active.begin(), active.end(), 0);
    std::fill(program.begin(), program.end(), -1);
  }

  void end_render() {
    if (!synth) return;
    fluid_synth_remove_sfont(synth, sfont);  // borrowed: not deleted with `synth`
    delete_fluid_synth(synth);
    synth = nullptr;
    t_fluid_error.clear();
  }

  // Selects (bank, program) on `channel`, falling back to the first preset of
  // the bank when the SoundFont lacks it (as hardware GM synths do).
  void select(int channel, bool is_drum, int prog) {
    const int bank = is_drum ? 128 : 0;
    if (fluid_synth_program_select(synth, channel, sfont_id, bank, prog) != FLUID_OK &&
        fluid_synth_program_select(synth, channel, sfont_id, bank, 0) != FLUID_OK &&
        fluid_synth_program_select(synth, channel, sfont_id, 0, 0) != FLUID_OK)
      throw RenderError("Synth::render: SoundFont '" + *soundfont + "' has no preset for bank " +
                        std::to_string(bank) + " program " + std::to_string(prog) + ": " +
                        take_fluid_error());
    t_fluid_error.clear();
    program[channel] = prog;
    drum[channel] = is_drum;
  }

  void setup_channel(int channel, bool is_drum, int prog) {
    fluid_synth_set_channel_type(synth, channel, is_drum ? CHANNEL_TYPE_DRUM : CHANNEL_TYPE_MELODIC);
    select(channel, is_drum, prog);
  }

  // Renders `total` frames into `out` (interleaved stereo), sending this
  // lane's events at the block boundary nearest their frame.
  void run(float* out, std::int64_t total) {
    std::int64_t cursor = 0;
    std::size_t i = 0;
    while (i < events.size()) {
      const std::int64_t at = (events[i].frame + block / 2) / block * block;
      if (at >= total) break;  // nothing after the end can be heard
      write(out, cursor, at);
      while (i < events.size() && (events[i].frame + block / 2) / block * block == at)
        dispatch(events[i++]);
    }
    write(out, cursor, total);
  }

  // Writes frames [cursor, until) of `out`. Only whole blocks go to FluidSynth,
  // so it never holds half a block over to the next call: a final partial
  // block is rendered into `last_block` and copied.
  void write(float* out, std::int64_t& cursor, std::int64_t until) {
    const std::int64_t chunk = (std::int64_t(1) << 20) / block * block;
    while (until - cursor >= block) {
      const std::int64_t whole = (until - cursor) / block * block;
      const int len = static_cast<int>(std::min(whole, chunk));
      fluid_write(out + 2 * cursor, len);
      cursor += len;
    }
    if (cursor < until) {
      last_block.resize(2 * static_cast<std::size_t>(block));
      fluid_write(last_block.data(), block);
      std::copy(last_block.begin(), last_block.begin() + 2 * (until - cursor), out + 2 * cursor);
      cursor = until;
    }
  }

  void fluid_write(float* interleaved, int len) {
    if (fluid_synth_write_float(synth, len, interleaved, 0, 2, interleaved, 1, 2) != FLUID_OK)
      throw RenderError("Synth::render: fluid_synth_write_float failed: " + take_fluid_error());
  }

  void dispatch(const Event& e) {
    switch (e.kind) {
      case kNoteOn: {
        if (program[e.channel] != e.program || static_cast<bool>(drum[e.channel]) != e.drum)
          select(e.channel, e.drum, e.program);
        ++active[e.channel * 128 + e.a];
        fluid_synth_noteon(synth, e.channel, e.a, e.b);
        break;
      }
      case kNoteOff: {
        int& n = active[e.channel * 128 + e.a];
        if (n > 0 && --n == 0) fluid_synth_noteoff(synth, e.channel, e.a);
        break;
      }
      case kControl:
        fluid_synth_cc(synth, e.channel, e.a, e.b);
        break;
      case kBend:
        fluid_synth_pitch_bend(synth, e.channel, e.a + 8192);
        break;
    }
  }
};

struct Synth::Impl {
  fluid_settings_t* settings = nullptr;
  std::string soundfont;
  SynthOptions options;
  std::mutex mutex;
  std::vector<std::unique_ptr<Lane>> lanes;  // lanes[0] made by the constructor
  std::vector<Event> events;                 // all events of the render in progress

  ~Impl() {
    lanes.clear();  // before the settings they were made with
    if (settings) delete_fluid_settings(settings);
  }
};

namespace {

void check_options(const SynthOptions& o) {
  if (o.sample_rate < 8000 || o.sample_rate > 96000)
    throw InvalidArgument("Synth: sample_rate " + std::to_string(o.sample_rate) +
                          " outside 8000..96000 Hz");
  if (!(o.gain >= 0.0 && o.gain <= 10.0))
    throw InvalidArgument("Synth: gain " + std::to_string(o.gain) + " outside 0..10");
  if (!(o.tail_seconds >= 0.0 && std::isfinite(o.tail_seconds)))
    throw InvalidArgument("Synth: tail " + std::to_string(o.tail_seconds) +
                          " s must be finite and >= 0");
  if (o.polyphony < 16 || o.polyphony > 65535)
    throw InvalidArgument("Synth: polyphony " + std::to_string(o.polyphony) + " outside 16..65535");
  if (!(o.max_seconds > 0.0 && std::isfinite(o.max_seconds)))
    throw InvalidArgument("Synth: max_seconds must be positive");
}

}  // namespace

Synth::Synth(const SynthOptions& options) : impl_(std::make_unique<Impl>()) {
  check_options(options);
  install_log_capture();
  Impl& s = *impl_;
  s.options = options;
  s.soundfont = find_soundfont(options.soundfont);
  if (!fluid_is_soundfont(s.soundfont.c_str()))
    throw RenderError("Synth: '" + s.soundfont + "' is not a SoundFont (no RIFF sfbk header)");

  t_fluid_error.clear();
  s.settings = new_fluid_settings();
  if (!s.settings) throw RenderError("Synth: new_fluid_settings failed: " + take_fluid_error());
  bool ok = fluid_settings_setnum(s.settings, "synth.sample-rate", options.sample_rate) == FLUID_OK &&
            fluid_settings_setnum(s.settings, "synth.gain", options.gain) == FLUID_OK &&
            fluid_settings_setint(s.settings, "synth.midi-channels", kChannels) == FLUID_OK &&
            fluid_settings_setint(s.settings, "synth.polyphony", options.polyphony) == FLUID_OK &&
            fluid_settings_setint(s.settings, "synth.reverb.active", options.reverb) == FLUID_OK &&
            fluid_settings_setint(s.settings, "synth.chorus.active", options.chorus) == FLUID_OK &&
            // One thread, no locking (our mutex serializes renders), no mlock
            // of the sample data (FluidR3_GM is 148 MB).
            fluid_settings_setint(s.settings, "synth.cpu-cores", 1) == FLUID_OK &&
            fluid_settings_setint(s.settings, "synth.threadsafe-api", 0) == FLUID_OK &&
            fluid_settings_setint(s.settings, "synth.lock-memory", 0) == FLUID_OK;
  if (!ok) throw RenderError("Synth: FluidSynth rejected a setting: " + take_fluid_error());
  s.lanes.push_back(std::make_unique<Lane>(s.settings, s.soundfont));
}

Synth::~Synth() = default;
Synth::Synth(Synth&&) noexcept = default;
Synth& Synth::operator=(Synth&&) noexcept = default;

const std::string& Synth::soundfont() const { return impl_->soundfont; }
int Synth::sample_rate() const { return impl_->options.sample_rate; }
double Synth::gain() const { return impl_->options.gain; }
double Synth::tail() const { return impl_->options.tail_seconds; }
bool Synth::reverb() const { return impl_->options.reverb; }
bool Synth::chorus() const { return impl_->options.chorus; }

void Synth::set_gain(double gain) {
  SynthOptions o = impl_->options;
  o.gain = gain;
  check_options(o);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->options.gain = gain;
}

void Synth::set_tail(double seconds) {
  SynthOptions o = impl_->options;
  o.tail_seconds = seconds;
  check_options(o);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->options.tail_seconds = seconds;
}

std::int64_t Synth::frames(const Score& score) const {
  const TempoMap tempo(score);
  const double seconds = tempo.seconds(score.end_tick()) + impl_->options.tail_seconds;
  if (!(seconds <= impl_->options.max_seconds))
    throw InvalidArgument("Synth::render: the output would last " + std::to_string(seconds) +
                          " s, more than max_seconds = " +
                          std::to_string(impl_->options.max_seconds));
  return std::llround(seconds * impl_->options.sample_rate);
}

Tensor Synth::render(const Score& score) {
  Tensor out;
  render(score, out);
  return out;
}

void Synth::render(const Score& score, Tensor& out) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.mutex);
  const TempoMap tempo(score);
  const std::int64_t total = frames(score);
  const double rate = s.options.sample_rate;
  // Frame of a tick; ticks far past the end map beyond `total` without
  // overflowing llround.
  const double horizon = static_cast<double>(total) + 4.0 * s.lanes[0]->block;
  auto frame_of = [&](std::int64_t tick) -> std::int64_t {
    const double f = tempo.seconds(tick) * rate;
    return f < horizon ? std::llround(f) : static_cast<std::int64_t>(horizon);
  };

  // 1. Channels and events (validated as they are built).
  const std::vector<int> channel = assign_channels(score, kChannels);
  s.events.clear();
  int seq = 0;
  for (std::size_t t = 0; t < score.tracks.size(); ++t) {
    const Track& tr = score.tracks[t];
    const int c = channel[t];
    check_range(tr.program, 0, 127, "program", t, 0);
    for (std::size_t i = 0; i < tr.notes.size(); ++i) {
      const Note& n = tr.notes[i];
      check_range(n.pitch, 0, 127, "pitch of note", t, i);
      check_range(n.velocity, 1, 127, "velocity of note", t, i);
      check_tick(n.start, "note", t, i);
      if (n.end < n.start)
        throw InvalidArgument("Synth::render: track " + std::to_string(t) + " note " +
                              std::to_string(i) + " ends (tick " + std::to_string(n.end) +
                              ") before it starts (tick " + std::to_string(n.start) + ")");
      const std::int64_t on = frame_of(n.start);
      const std::int64_t off = std::max(frame_of(n.end), on + 1);
      s.events.push_back({on, kNoteOn, seq++, c, n.pitch, n.velocity, tr.program, tr.is_drum});
      s.events.push_back({off, kNoteOff, seq++, c, n.pitch, 0, tr.program, tr.is_drum});
    }
    for (std::size_t i = 0; i < tr.controls.size(); ++i) {
      const ControlChange& cc = tr.controls[i];
      check_range(cc.number, 0, 127, "controller number of control change", t, i);
      check_range(cc.value, 0, 127, "value of control change", t, i);
      check_tick(cc.tick, "control change", t, i);
      s.events.push_back({frame_of(cc.tick), kControl, seq++, c, cc.number, cc.value, 0, false});
    }
    for (std::size_t i = 0; i < tr.pitch_bends.size(); ++i) {
      const PitchBend& pb = tr.pitch_bends[i];
      check_range(pb.value, -8192, 8191, "value of pitch bend", t, i);
      check_tick(pb.tick, "pitch bend", t, i);
      s.events.push_back({frame_of(pb.tick), kBend, seq++, c, pb.value, 0, 0, false});
    }
  }
  std::sort(s.events.begin(), s.events.end(), [](const Event& x, const Event& y) {
    return std::tie(x.frame, x.kind, x.seq) < std::tie(y.frame, y.kind, y.seq);
  });

  // 2. Lanes: with several threads, the used channels are split into groups
  // of about equal note counts, each rendered by its own synthesizer in
  // parallel and summed in lane order (so the output depends on the score
  // and the thread count only). One thread: one lane, no summing.
  std::vector<int> notes_on(kChannels, 0), used;
  for (std::size_t t = 0; t < score.tracks.size(); ++t) {
    if (notes_on[channel[t]] == 0) used.push_back(channel[t]);
    notes_on[channel[t]] += 1 + static_cast<int>(score.tracks[t].notes.size());
  }
  const int n_lanes = std::max(1, std::min({num_threads(), static_cast<int>(used.size()), kMaxLanes}));
  while (static_cast<int>(s.lanes.size()) < n_lanes)
    s.lanes.push_back(std::make_unique<Lane>(s.settings, s.soundfont));
  std::vector<int> lane_of(kChannels, 0);
  if (n_lanes > 1) {
    std::vector<int> order = used;
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return notes_on[a] > notes_on[b]; });
    std::vector<long> load(n_lanes, 0);
    for (int c : order) {
      const int l = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
      lane_of[c] = l;
      load[l] += notes_on[c];
    }
  }
  for (int l = 0; l < n_lanes; ++l) s.lanes[l]->events.clear();
  for (const Event& e : s.events) s.lanes[lane_of[e.channel]]->events.push_back(e);

  out.resize({total, 2});
  for (int l = 1; l < n_lanes; ++l) s.lanes[l]->buffer.resize({total, 2});
  std::vector<std::exception_ptr> errors(n_lanes);
#pragma omp parallel for num_threads(n_lanes) schedule(static, 1) if (n_lanes > 1)
  for (int l = 0; l < n_lanes; ++l) {
    Lane& lane = *s.lanes[l];
    try {
      // A fresh synthesizer (no voices, default controllers, empty effect
      // buffers); then each of the lane's channels' type, bank and program.
      lane.begin_render(s.settings, s.options.gain);
      std::vector<char> configured(kChannels, 0);
      for (std::size_t t = 0; t < score.tracks.size(); ++t) {
        const int c = channel[t];
        if (lane_of[c] != l || configured[c]) continue;
        configured[c] = 1;
        lane.setup_channel(c, score.tracks[t].is_drum, score.tracks[t].program);
      }
      lane.run(l == 0 ? out.data() : lane.buffer.data(), total);
      lane.end_render();
    } catch (...) {
      lane.end_render();
      errors[l] = std::current_exception();
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  float* o = out.data();
  for (int l = 1; l < n_lanes; ++l) {
    const float* b = s.lanes[l]->buffer.data();
    for (std::int64_t i = 0; i < 2 * total; ++i) o[i] += b[i];
  }
}

}  // namespace partita

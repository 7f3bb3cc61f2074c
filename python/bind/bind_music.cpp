// Python bindings for the score types and MIDI I/O: Note, Track, Score and the
// meta-event records, plus read_midi / read_midi_bytes / write_midi /
// write_midi_bytes. Thin: every behaviour lives in C++ (score.hpp, midi.hpp).
//
// The lists of a Score (Score.tracks, Track.notes, Score.tempos, ...) are live
// views and their items are views of one element (live_list.hpp), so the edits
// a pretty_midi user writes (`score.tracks[0].notes.append(n)`,
// `score.tracks[0].notes[3].pitch = 62`) change the Score. A Note reached
// through a Score also knows the Score's tempo map: start_seconds, end_seconds
// and duration_seconds read and write seconds. Every class takes keyword
// arguments and pickles (by value).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <sstream>

#include "live_list.hpp"
#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"
#include "partita/music/score.hpp"
#include "named_object.hpp"
#include "path_arg.hpp"
#include "registry.hpp"

namespace partita::py_bind {
// A pretty_midi.PrettyMIDI (any object at run time; named so for signatures and stubs).
struct PrettyMidiTag {
  static constexpr auto name = pybind11::detail::const_name("pretty_midi.PrettyMIDI");
};
using PrettyMIDI = NamedObject<PrettyMidiTag>;
}  // namespace partita::py_bind

namespace py = pybind11;
using namespace pybind11::literals;
using partita::py_bind::Item;
using partita::py_bind::ListSource;
using partita::py_bind::LiveList;

namespace {

using namespace partita;

// Pickled state of each record (also what equality compares).
py::tuple state(const Note& n) { return py::make_tuple(n.pitch, n.velocity, n.start, n.end); }
py::tuple state(const ControlChange& c) { return py::make_tuple(c.tick, c.number, c.value); }
py::tuple state(const PitchBend& b) { return py::make_tuple(b.tick, b.value); }
py::tuple state(const TempoChange& t) { return py::make_tuple(t.tick, t.qpm); }
py::tuple state(const TimeSignature& t) { return py::make_tuple(t.tick, t.numerator, t.denominator); }
py::tuple state(const KeySignature& k) { return py::make_tuple(k.tick, k.sharps, k.minor); }
py::tuple state(const Track& t) {
  return py::make_tuple(t.name, t.program, t.is_drum, t.channel, py_bind::copies_of(t.notes),
                        py_bind::copies_of(t.controls), py_bind::copies_of(t.pitch_bends));
}

Note note_from(const py::tuple& t) {
  return Note{t[0].cast<int>(), t[1].cast<int>(), t[2].cast<std::int64_t>(), t[3].cast<std::int64_t>()};
}
ControlChange control_from(const py::tuple& t) {
  return ControlChange{t[0].cast<std::int64_t>(), t[1].cast<int>(), t[2].cast<int>()};
}
PitchBend bend_from(const py::tuple& t) { return PitchBend{t[0].cast<std::int64_t>(), t[1].cast<int>()}; }
TempoChange tempo_from(const py::tuple& t) { return TempoChange{t[0].cast<std::int64_t>(), t[1].cast<double>()}; }
TimeSignature meter_from(const py::tuple& t) {
  return TimeSignature{t[0].cast<std::int64_t>(), t[1].cast<int>(), t[2].cast<int>()};
}
KeySignature key_from(const py::tuple& t) {
  return KeySignature{t[0].cast<std::int64_t>(), t[1].cast<int>(), t[2].cast<bool>()};
}
Track track_from(const py::tuple& s) {
  Track t;
  t.name = s[0].cast<std::string>();
  t.program = s[1].cast<int>();
  t.is_drum = s[2].cast<bool>();
  t.channel = s[3].cast<int>();
  t.notes = py_bind::values_of<Note>(s[4]);
  t.controls = py_bind::values_of<ControlChange>(s[5]);
  t.pitch_bends = py_bind::values_of<PitchBend>(s[6]);
  return t;
}

// The C++ object behind a list's owner: a Score, or a Track item.
template <class Owner>
Owner& owner_of(const py::object& o);
template <>
Score& owner_of<Score>(const py::object& o) {
  return o.cast<Score&>();
}
template <>
Track& owner_of<Track>(const py::object& o) {
  return o.cast<const Item<Track>&>().get("Track");
}

template <class Owner, class T, std::vector<T> Owner::*member>
std::vector<T>& resolve(const py::object& owner) {
  return owner_of<Owner>(owner).*member;
}

// A list property of `Owner` (Score, or Track item): a live view; assigning an
// iterable of items replaces the list's contents with copies.
template <class Owner, class T, std::vector<T> Owner::*member, class Cls>
void list_property(Cls& cls, const char* name, const char* doc) {
  cls.def_property(
      name,
      [](const py::object& self) {
        return LiveList<T>{ListSource<T>{self, &resolve<Owner, T, member>}};
      },
      [](const py::object& self, const py::typing::Iterable<Item<T>>& items) {
        std::vector<T> v = py_bind::values_of<T>(items);
        resolve<Owner, T, member>(self) = std::move(v);
      },
      doc);
}

// The Score a Note item belongs to (through its Track), or None.
py::object score_of(const Item<Note>& n) {
  if (!n.is_view()) return py::none();
  const py::object& track = n.owner();
  if (!py::isinstance<Item<Track>>(track)) return py::none();
  const auto& t = track.cast<const Item<Track>&>();
  if (!t.is_view() || !py::isinstance<Score>(t.owner())) return py::none();
  return t.owner();
}

const Score& require_score(const Item<Note>& n, const char* who) {
  py::object s = score_of(n);
  if (s.is_none())
    throw InvalidArgument(std::string(who) +
                          ": this Note is not in a Score (a free-standing Note, or one in a Track "
                          "that is not in a Score); use score.tick_to_seconds(note.start) instead");
  return s.cast<const Score&>();
}

// Score::nearest_tick with the Python-side name in the error.
std::int64_t nearest_tick(const Score& s, double seconds, const char* who) {
  if (!std::isfinite(seconds) || seconds < 0)
    throw InvalidArgument(std::string(who) + ": seconds must be finite and >= 0, got " + std::to_string(seconds));
  return s.nearest_tick(seconds);
}

std::string note_repr(const Note& n) {
  std::ostringstream s;
  s << "Note(pitch=" << n.pitch << ", velocity=" << n.velocity << ", start=" << n.start << ", end=" << n.end
    << ")";
  return s.str();
}

template <class T>
std::vector<T> values(const py::typing::Iterable<Item<T>>& items) {
  return py_bind::values_of<T>(items);
}

}  // namespace

PARTITA_BIND(music, 10) {
  using namespace partita;
  using py_bind::bind_item;
  using py_bind::bind_live_list;
  using py_bind::field;

  auto note = bind_item<Note>(m, "Note",
                              "A note: MIDI pitch, velocity, start and end in ticks.\n\n"
                              "A Note reached through a Score (score.tracks[i].notes[j]) is a view of "
                              "that note: setting a field changes the Score, and start_seconds, "
                              "end_seconds and duration_seconds use the Score's tempo map.",
                              &state, &note_from);
  note.def(py::init([](int pitch, int velocity, std::int64_t start, std::int64_t end) {
             return Item<Note>(Note{pitch, velocity, start, end});
           }),
           "pitch"_a = 60, "velocity"_a = 100, "start"_a = 0, "end"_a = 0);
  field(note, "pitch", &Note::pitch, "MIDI pitch 0..127");
  field(note, "velocity", &Note::velocity, "1..127");
  field(note, "start", &Note::start, "tick of the note-on");
  field(note, "end", &Note::end, "tick of the note-off");
  note.def_property_readonly(
          "duration", [](const Item<Note>& n) { return n.get().duration(); }, "end - start, in ticks")
      .def_property(
          "start_seconds",
          [](const Item<Note>& n) { return require_score(n, "Note.start_seconds").seconds(n.get().start); },
          [](const Item<Note>& n, double s) {
            n.get().start = nearest_tick(require_score(n, "Note.start_seconds"), s, "Note.start_seconds");
          },
          "seconds of the note-on from the Score's tempo map (as pretty_midi's Note.start); "
          "setting moves start to the nearest tick. InvalidArgument outside a Score.")
      .def_property(
          "end_seconds",
          [](const Item<Note>& n) { return require_score(n, "Note.end_seconds").seconds(n.get().end); },
          [](const Item<Note>& n, double s) {
            n.get().end = nearest_tick(require_score(n, "Note.end_seconds"), s, "Note.end_seconds");
          },
          "seconds of the note-off (as pretty_midi's Note.end); setting moves end to the nearest tick")
      .def_property(
          "duration_seconds",
          [](const Item<Note>& n) {
            const Score& s = require_score(n, "Note.duration_seconds");
            return s.seconds(n.get().end) - s.seconds(n.get().start);
          },
          [](const Item<Note>& n, double d) {
            const Score& s = require_score(n, "Note.duration_seconds");
            Note& x = n.get();
            x.end = nearest_tick(s, s.seconds(x.start) + d, "Note.duration_seconds");
          },
          "end_seconds - start_seconds (as pretty_midi's Note.get_duration()); setting moves end "
          "to the nearest tick")
      .def("__repr__", [](const Item<Note>& n) { return note_repr(n.get()); });

  auto control = bind_item<ControlChange>(m, "ControlChange", "A control change: tick, controller number, value.",
                                          &state, &control_from);
  control.def(py::init([](std::int64_t tick, int number, int value) {
                return Item<ControlChange>(ControlChange{tick, number, value});
              }),
              "tick"_a = 0, "number"_a = 0, "value"_a = 0);
  field(control, "tick", &ControlChange::tick);
  field(control, "number", &ControlChange::number, "controller 0..127");
  field(control, "value", &ControlChange::value, "0..127");
  control.def("__repr__", [](const Item<ControlChange>& i) {
    const ControlChange& c = i.get();
    return "ControlChange(tick=" + std::to_string(c.tick) + ", number=" + std::to_string(c.number) +
           ", value=" + std::to_string(c.value) + ")";
  });

  auto bend = bind_item<PitchBend>(m, "PitchBend", "A pitch bend: tick and value in -8192..8191.", &state,
                                   &bend_from);
  bend.def(py::init([](std::int64_t tick, int value) { return Item<PitchBend>(PitchBend{tick, value}); }),
           "tick"_a = 0, "value"_a = 0);
  field(bend, "tick", &PitchBend::tick);
  field(bend, "value", &PitchBend::value, "-8192..8191");
  bend.def("__repr__", [](const Item<PitchBend>& i) {
    return "PitchBend(tick=" + std::to_string(i.get().tick) + ", value=" + std::to_string(i.get().value) + ")";
  });

  auto tempo = bind_item<TempoChange>(m, "TempoChange", "A tempo change: tick and quarter notes per minute.",
                                      &state, &tempo_from);
  tempo.def(py::init([](std::int64_t tick, double qpm) { return Item<TempoChange>(TempoChange{tick, qpm}); }),
            "tick"_a = 0, "qpm"_a = 120.0);
  field(tempo, "tick", &TempoChange::tick);
  field(tempo, "qpm", &TempoChange::qpm, "quarter notes per minute");
  tempo
      .def_property_readonly("microseconds_per_quarter",
                             [](const Item<TempoChange>& t) { return t.get().microseconds_per_quarter(); })
      .def("__repr__", [](const Item<TempoChange>& i) {
        std::ostringstream s;
        s << "TempoChange(tick=" << i.get().tick << ", qpm=" << i.get().qpm << ")";
        return s.str();
      });

  auto meter = bind_item<TimeSignature>(m, "TimeSignature", "A time signature change: tick, numerator, denominator.",
                                        &state, &meter_from);
  meter.def(py::init([](std::int64_t tick, int num, int den) { return Item<TimeSignature>(TimeSignature{tick, num, den}); }),
            "tick"_a = 0, "numerator"_a = 4, "denominator"_a = 4);
  field(meter, "tick", &TimeSignature::tick);
  field(meter, "numerator", &TimeSignature::numerator);
  field(meter, "denominator", &TimeSignature::denominator, "a power of two");
  meter.def("__repr__", [](const Item<TimeSignature>& i) {
    const TimeSignature& t = i.get();
    return "TimeSignature(tick=" + std::to_string(t.tick) + ", numerator=" + std::to_string(t.numerator) +
           ", denominator=" + std::to_string(t.denominator) + ")";
  });

  auto key = bind_item<KeySignature>(m, "KeySignature",
                                     "A key signature change: tick, sharps (-7..7, negative = flats), minor.",
                                     &state, &key_from);
  key.def(py::init([](std::int64_t tick, int sharps, bool minor) { return Item<KeySignature>(KeySignature{tick, sharps, minor}); }),
          "tick"_a = 0, "sharps"_a = 0, "minor"_a = false);
  field(key, "tick", &KeySignature::tick);
  field(key, "sharps", &KeySignature::sharps, "-7 (7 flats) .. 7 (7 sharps)");
  field(key, "minor", &KeySignature::minor);
  key.def("__repr__", [](const Item<KeySignature>& i) {
    const KeySignature& k = i.get();
    return "KeySignature(tick=" + std::to_string(k.tick) + ", sharps=" + std::to_string(k.sharps) +
           ", minor=" + (k.minor ? "True" : "False") + ")";
  });

  bind_live_list<Note>(m, "NoteList", "The live list of a Track's notes (see Track).", &state);
  bind_live_list<ControlChange>(m, "ControlChangeList", "The live list of a Track's control changes.", &state);
  bind_live_list<PitchBend>(m, "PitchBendList", "The live list of a Track's pitch bends.", &state);
  bind_live_list<TempoChange>(m, "TempoChangeList", "The live list of a Score's tempo changes.", &state);
  bind_live_list<TimeSignature>(m, "TimeSignatureList", "The live list of a Score's time signatures.", &state);
  bind_live_list<KeySignature>(m, "KeySignatureList", "The live list of a Score's key signatures.", &state);

  auto track = bind_item<Track>(
      m, "Track",
      "One instrument: name, General MIDI program, drum flag, MIDI channel (-1 = assign on write), "
      "notes, control changes and pitch bends.\n\n"
      "notes, controls and pitch_bends are live lists: `track.notes.append(n)` and "
      "`track.notes[0].pitch = 62` change the track (and its Score, for a track reached through "
      "score.tracks). Items are views of a list position; the constructor copies its lists.",
      &state, &track_from);
  track.def(py::init([](std::string name, int program, bool is_drum, int channel,
                        const py::typing::Iterable<Item<Note>>& notes,
                        const py::typing::Iterable<Item<ControlChange>>& controls,
                        const py::typing::Iterable<Item<PitchBend>>& bends) {
              Track t;
              t.name = std::move(name);
              t.program = program;
              t.is_drum = is_drum;
              t.channel = channel;
              t.notes = values(notes);
              t.controls = values(controls);
              t.pitch_bends = values(bends);
              return Item<Track>(std::move(t));
            }),
            "name"_a = "", "program"_a = 0, "is_drum"_a = false, "channel"_a = -1, "notes"_a = py::tuple(),
            "controls"_a = py::tuple(), "pitch_bends"_a = py::tuple());
  field(track, "name", &Track::name);
  field(track, "program", &Track::program, "General MIDI program 0..127");
  field(track, "is_drum", &Track::is_drum, "a percussion track (channel 10)");
  field(track, "channel", &Track::channel, "MIDI channel used in the file (-1: assign on write)");
  list_property<Track, Note, &Track::notes>(track, "notes", "the notes (a live NoteList)");
  list_property<Track, ControlChange, &Track::controls>(track, "controls", "control changes (a live list)");
  list_property<Track, PitchBend, &Track::pitch_bends>(track, "pitch_bends", "pitch bends (a live list)");
  track.def("__repr__", [](const Item<Track>& i) {
    const Track& t = i.get();
    return "Track(name=" + py::repr(py::str(t.name)).cast<std::string>() + ", program=" + std::to_string(t.program) +
           ", is_drum=" + (t.is_drum ? "True" : "False") + ", notes=<" + std::to_string(t.notes.size()) + " notes>)";
  });
  bind_live_list<Track>(m, "TrackList", "The live list of a Score's tracks.", &state);

  py::class_<Score> score(m, "Score",
                          "Notes in ticks with the tempo map, meters, keys and tracks of a MIDI file.\n\n"
                          "tracks, tempos, time_signatures and key_signatures are live lists (see Track): "
                          "edits through them change the Score. tick_to_seconds / seconds_to_tick "
                          "convert with the tempo map; notes reached through the Score have "
                          "start_seconds, end_seconds and duration_seconds.");
  score
      .def(py::init([](int tpq, const py::typing::Iterable<Item<TempoChange>>& tempos,
                       const py::typing::Iterable<Item<TimeSignature>>& ts,
                       const py::typing::Iterable<Item<KeySignature>>& ks,
                       const py::typing::Iterable<Item<Track>>& tracks) {
             Score s;
             s.ticks_per_quarter = tpq;
             s.tempos = values(tempos);
             s.time_signatures = values(ts);
             s.key_signatures = values(ks);
             s.tracks = values(tracks);
             return s;
           }),
           "ticks_per_quarter"_a = 480, "tempos"_a = py::tuple(), "time_signatures"_a = py::tuple(),
           "key_signatures"_a = py::tuple(), "tracks"_a = py::tuple())
      .def_readwrite("ticks_per_quarter", &Score::ticks_per_quarter);
  list_property<Score, TempoChange, &Score::tempos>(score, "tempos", "tempo changes (a live list)");
  list_property<Score, TimeSignature, &Score::time_signatures>(score, "time_signatures",
                                                                "time signatures (a live list)");
  list_property<Score, KeySignature, &Score::key_signatures>(score, "key_signatures", "key signatures (a live list)");
  list_property<Score, Track, &Score::tracks>(score, "tracks", "the tracks (a live TrackList)");
  auto seconds_array = [](const Score& s, const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& ticks) {
    py::array_t<double> out(ticks.request().shape);
    const std::int64_t* in = ticks.data();
    double* o = out.mutable_data();
    for (py::ssize_t i = 0; i < ticks.size(); ++i) o[i] = s.seconds(in[i]);
    return out;
  };
  auto ticks_array = [](const Score& s, const py::array_t<double, py::array::c_style | py::array::forcecast>& secs) {
    py::array_t<std::int64_t> out(secs.request().shape);
    const double* in = secs.data();
    std::int64_t* o = out.mutable_data();
    for (py::ssize_t i = 0; i < secs.size(); ++i) o[i] = nearest_tick(s, in[i], "Score.seconds_to_tick");
    return out;
  };
  score
      .def("seconds", py::overload_cast<std::int64_t>(&Score::seconds, py::const_), "tick"_a,
           "Seconds at `tick` from the tempo map (120 qpm before the first change).")
      .def("seconds", seconds_array, "ticks"_a, "Seconds for an array of ticks.")
      .def("ticks", &Score::ticks, "seconds"_a, "The (fractional) tick at `seconds`.")
      .def("tick_to_seconds", py::overload_cast<std::int64_t>(&Score::seconds, py::const_), "tick"_a,
           "Seconds at `tick` from the tempo map, as pretty_midi's tick_to_time (120 qpm before "
           "the first change).")
      .def("tick_to_seconds", seconds_array, "ticks"_a, "Seconds for an array of ticks.")
      .def(
          "seconds_to_tick",
          [](const Score& s, double seconds) { return nearest_tick(s, seconds, "Score.seconds_to_tick"); },
          "seconds"_a, "The nearest tick at `seconds` (as pretty_midi's time_to_tick).")
      .def("seconds_to_tick", ticks_array, "seconds"_a, "Nearest ticks for an array of seconds.")
      .def_property_readonly("end_tick", &Score::end_tick, "largest note end over all tracks")
      .def_property_readonly("duration_seconds", &Score::duration_seconds, "seconds(end_tick)")
      .def_property_readonly("note_count", &Score::note_count, "number of notes in all tracks")
      .def("sort", &Score::sort,
           "Sort notes and events of every track and the meta lists by tick (item views show "
           "positions, so they show the sorted order afterwards).")
      .def(
          "to_pretty_midi",
          [](const py::object& self) {
            py::object pm = py::module_::import("partita.pretty_midi_io").attr("to_pretty_midi")(self);
            return py::reinterpret_steal<py_bind::PrettyMIDI>(pm.release());
          },
          "A pretty_midi.PrettyMIDI with this score's notes, tempo map, meters, keys, programs, "
          "control changes and pitch bends (partita.pretty_midi_io.to_pretty_midi; needs pretty_midi).")
      .def_static(
          "from_pretty_midi",
          [](const py_bind::PrettyMIDI& pm) -> Score {
            return py::module_::import("partita.pretty_midi_io").attr("from_pretty_midi")(pm).cast<Score>();
          },
          "pm"_a,
          "A Score from a pretty_midi.PrettyMIDI (partita.pretty_midi_io.from_pretty_midi): ticks "
          "per quarter = pm.resolution, times mapped to the nearest tick.")
      .def("copy", [](const Score& s) { return Score(s); }, "A deep copy.")
      .def("__repr__", [](const Score& s) {
        std::ostringstream o;
        o << "Score(ticks_per_quarter=" << s.ticks_per_quarter << ", tracks=" << s.tracks.size()
          << ", notes=" << s.note_count() << ", tempos=" << s.tempos.size()
          << ", duration_seconds=" << s.duration_seconds() << ")";
        return o.str();
      })
      .def(py::pickle(
          [](const Score& s) {
            return py::make_tuple(s.ticks_per_quarter, py_bind::copies_of(s.tempos),
                                  py_bind::copies_of(s.time_signatures), py_bind::copies_of(s.key_signatures),
                                  py_bind::copies_of(s.tracks));
          },
          [](const py::tuple& t) {
            Score s;
            s.ticks_per_quarter = t[0].cast<int>();
            s.tempos = py_bind::values_of<TempoChange>(t[1]);
            s.time_signatures = py_bind::values_of<TimeSignature>(t[2]);
            s.key_signatures = py_bind::values_of<KeySignature>(t[3]);
            s.tracks = py_bind::values_of<Track>(t[4]);
            return s;
          }));

  m.def(
      "read_midi",
      [](const py_bind::PathArg& path) {
        const std::string p = path.str;
        py::gil_scoped_release release;
        return read_midi(p);
      },
      "path"_a, "Read a Standard MIDI File (str or os.PathLike) into a Score.");
  m.def(
      "read_midi_bytes",
      [](const py::buffer& data, const std::string& name) {
        py::buffer_info info = data.request();
        if (info.itemsize != 1 || info.ndim > 1)
          throw InvalidArgument("read_midi_bytes: expected bytes or a 1-D byte buffer");
        const auto* p = static_cast<const std::uint8_t*>(info.ptr);
        const std::size_t n = static_cast<std::size_t>(info.size);
        py::gil_scoped_release release;
        return read_midi_bytes(p, n, name);
      },
      "data"_a, "name"_a = "<bytes>", "Read a Standard MIDI File from bytes into a Score.");
  m.def(
      "write_midi",
      [](const Score& s, const py_bind::PathArg& path) {
        const std::string p = path.str;
        py::gil_scoped_release release;
        write_midi(s, p);
      },
      "score"_a, "path"_a, "Write a Score as a format-1 MIDI file (atomically).");
  m.def(
      "write_midi_bytes",
      [](const Score& s) {
        std::vector<std::uint8_t> b;
        {
          py::gil_scoped_release release;
          b = write_midi_bytes(s);
        }
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      },
      "score"_a, "Encode a Score as format-1 MIDI file bytes.");
}

// Python bindings for the score types and MIDI I/O: Note, Track, Score and the
// meta-event records, plus read_midi / read_midi_bytes / write_midi /
// write_midi_bytes. Thin: every behaviour lives in C++ (score.hpp, midi.hpp).
//
// Lists (Score.tracks, Track.notes, ...) are converted to and from Python lists,
// so they are copies: `score.tracks[0].name = "x"` changes a copy; assign the
// whole list back (`tracks = score.tracks; tracks[0].name = "x"; score.tracks =
// tracks`). This keeps Python from holding references into C++ vectors that
// may move. Every class takes keyword arguments and pickles.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>

#include "partita/core/error.hpp"
#include "partita/music/midi.hpp"
#include "partita/music/score.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

// str or os.PathLike (bytes paths are refused by the str cast with a TypeError).
std::string fspath(const py::object& path) {
  if (py::isinstance<py::str>(path)) return path.cast<std::string>();
  static PyObject* os_fspath = py::object(py::module_::import("os").attr("fspath")).release().ptr();
  return py::str(py::reinterpret_borrow<py::object>(os_fspath)(path)).cast<std::string>();
}

std::string note_repr(const partita::Note& n) {
  std::ostringstream s;
  s << "Note(pitch=" << n.pitch << ", velocity=" << n.velocity << ", start=" << n.start
    << ", end=" << n.end << ")";
  return s.str();
}

// List members are returned as new lists of copies (never references into the
// C++ vector, which may reallocate while Python still holds an element).
template <class C, class T>
auto copy_getter(std::vector<T> C::*member) {
  return [member](const C& c) { return c.*member; };
}
template <class C, class T>
auto copy_setter(std::vector<T> C::*member) {
  return [member](C& c, std::vector<T> v) { c.*member = std::move(v); };
}

}  // namespace

PARTITA_BIND(music, 10) {
  using namespace partita;

  py::class_<Note>(m, "Note", "A note: MIDI pitch, velocity, start and end in ticks.")
      .def(py::init([](int pitch, int velocity, std::int64_t start, std::int64_t end) {
             return Note{pitch, velocity, start, end};
           }),
           "pitch"_a = 60, "velocity"_a = 100, "start"_a = 0, "end"_a = 0)
      .def_readwrite("pitch", &Note::pitch)
      .def_readwrite("velocity", &Note::velocity)
      .def_readwrite("start", &Note::start, "tick of the note-on")
      .def_readwrite("end", &Note::end, "tick of the note-off")
      .def_property_readonly("duration", &Note::duration, "end - start, in ticks")
      .def("__eq__", [](const Note& a, const Note& b) { return a == b; })
      .def("__repr__", &note_repr)
      .def(py::pickle([](const Note& n) { return py::make_tuple(n.pitch, n.velocity, n.start, n.end); },
                      [](const py::tuple& t) {
                        return Note{t[0].cast<int>(), t[1].cast<int>(), t[2].cast<std::int64_t>(),
                                    t[3].cast<std::int64_t>()};
                      }));

  py::class_<ControlChange>(m, "ControlChange", "A control change: tick, controller number, value.")
      .def(py::init([](std::int64_t tick, int number, int value) { return ControlChange{tick, number, value}; }),
           "tick"_a = 0, "number"_a = 0, "value"_a = 0)
      .def_readwrite("tick", &ControlChange::tick)
      .def_readwrite("number", &ControlChange::number)
      .def_readwrite("value", &ControlChange::value)
      .def("__repr__", [](const ControlChange& c) {
        return "ControlChange(tick=" + std::to_string(c.tick) + ", number=" + std::to_string(c.number) +
               ", value=" + std::to_string(c.value) + ")";
      })
      .def(py::pickle([](const ControlChange& c) { return py::make_tuple(c.tick, c.number, c.value); },
                      [](const py::tuple& t) {
                        return ControlChange{t[0].cast<std::int64_t>(), t[1].cast<int>(), t[2].cast<int>()};
                      }));

  py::class_<PitchBend>(m, "PitchBend", "A pitch bend: tick and value in -8192..8191.")
      .def(py::init([](std::int64_t tick, int value) { return PitchBend{tick, value}; }), "tick"_a = 0,
           "value"_a = 0)
      .def_readwrite("tick", &PitchBend::tick)
      .def_readwrite("value", &PitchBend::value)
      .def("__repr__", [](const PitchBend& b) {
        return "PitchBend(tick=" + std::to_string(b.tick) + ", value=" + std::to_string(b.value) + ")";
      })
      .def(py::pickle([](const PitchBend& b) { return py::make_tuple(b.tick, b.value); },
                      [](const py::tuple& t) { return PitchBend{t[0].cast<std::int64_t>(), t[1].cast<int>()}; }));

  py::class_<TempoChange>(m, "TempoChange", "A tempo change: tick and quarter notes per minute.")
      .def(py::init([](std::int64_t tick, double qpm) { return TempoChange{tick, qpm}; }), "tick"_a = 0,
           "qpm"_a = 120.0)
      .def_readwrite("tick", &TempoChange::tick)
      .def_readwrite("qpm", &TempoChange::qpm)
      .def_property_readonly("microseconds_per_quarter", &TempoChange::microseconds_per_quarter)
      .def("__repr__", [](const TempoChange& t) {
        std::ostringstream s;
        s << "TempoChange(tick=" << t.tick << ", qpm=" << t.qpm << ")";
        return s.str();
      })
      .def(py::pickle([](const TempoChange& t) { return py::make_tuple(t.tick, t.qpm); },
                      [](const py::tuple& t) { return TempoChange{t[0].cast<std::int64_t>(), t[1].cast<double>()}; }));

  py::class_<TimeSignature>(m, "TimeSignature", "A time signature change: tick, numerator, denominator.")
      .def(py::init([](std::int64_t tick, int num, int den) { return TimeSignature{tick, num, den}; }),
           "tick"_a = 0, "numerator"_a = 4, "denominator"_a = 4)
      .def_readwrite("tick", &TimeSignature::tick)
      .def_readwrite("numerator", &TimeSignature::numerator)
      .def_readwrite("denominator", &TimeSignature::denominator)
      .def("__repr__", [](const TimeSignature& t) {
        return "TimeSignature(tick=" + std::to_string(t.tick) + ", numerator=" + std::to_string(t.numerator) +
               ", denominator=" + std::to_string(t.denominator) + ")";
      })
      .def(py::pickle([](const TimeSignature& t) { return py::make_tuple(t.tick, t.numerator, t.denominator); },
                      [](const py::tuple& t) {
                        return TimeSignature{t[0].cast<std::int64_t>(), t[1].cast<int>(), t[2].cast<int>()};
                      }));

  py::class_<KeySignature>(m, "KeySignature", "A key signature change: tick, sharps (-7..7, negative = flats), minor.")
      .def(py::init([](std::int64_t tick, int sharps, bool minor) { return KeySignature{tick, sharps, minor}; }),
           "tick"_a = 0, "sharps"_a = 0, "minor"_a = false)
      .def_readwrite("tick", &KeySignature::tick)
      .def_readwrite("sharps", &KeySignature::sharps)
      .def_readwrite("minor", &KeySignature::minor)
      .def("__repr__", [](const KeySignature& k) {
        return "KeySignature(tick=" + std::to_string(k.tick) + ", sharps=" + std::to_string(k.sharps) +
               ", minor=" + (k.minor ? "True" : "False") + ")";
      })
      .def(py::pickle([](const KeySignature& k) { return py::make_tuple(k.tick, k.sharps, k.minor); },
                      [](const py::tuple& t) {
                        return KeySignature{t[0].cast<std::int64_t>(), t[1].cast<int>(), t[2].cast<bool>()};
                      }));

  py::class_<Track>(m, "Track",
                    "One instrument: name, General MIDI program, drum flag, MIDI channel (-1 = assign on "
                    "write), notes, control changes and pitch bends. List attributes are copies.")
      .def(py::init([](std::string name, int program, bool is_drum, int channel, std::vector<Note> notes,
                       std::vector<ControlChange> controls, std::vector<PitchBend> bends) {
             Track t;
             t.name = std::move(name);
             t.program = program;
             t.is_drum = is_drum;
             t.channel = channel;
             t.notes = std::move(notes);
             t.controls = std::move(controls);
             t.pitch_bends = std::move(bends);
             return t;
           }),
           "name"_a = "", "program"_a = 0, "is_drum"_a = false, "channel"_a = -1,
           "notes"_a = std::vector<Note>{}, "controls"_a = std::vector<ControlChange>{},
           "pitch_bends"_a = std::vector<PitchBend>{})
      .def_readwrite("name", &Track::name)
      .def_readwrite("program", &Track::program)
      .def_readwrite("is_drum", &Track::is_drum)
      .def_readwrite("channel", &Track::channel)
      .def_property("notes", copy_getter(&Track::notes), copy_setter(&Track::notes))
      .def_property("controls", copy_getter(&Track::controls), copy_setter(&Track::controls))
      .def_property("pitch_bends", copy_getter(&Track::pitch_bends), copy_setter(&Track::pitch_bends))
      .def("__repr__", [](const Track& t) {
        return "Track(name=" + py::repr(py::str(t.name)).cast<std::string>() + ", program=" +
               std::to_string(t.program) + ", is_drum=" + (t.is_drum ? "True" : "False") +
               ", notes=<" + std::to_string(t.notes.size()) + " notes>)";
      })
      .def(py::pickle(
          [](const Track& t) {
            return py::make_tuple(t.name, t.program, t.is_drum, t.channel, t.notes, t.controls, t.pitch_bends);
          },
          [](const py::tuple& s) {
            Track t;
            t.name = s[0].cast<std::string>();
            t.program = s[1].cast<int>();
            t.is_drum = s[2].cast<bool>();
            t.channel = s[3].cast<int>();
            t.notes = s[4].cast<std::vector<Note>>();
            t.controls = s[5].cast<std::vector<ControlChange>>();
            t.pitch_bends = s[6].cast<std::vector<PitchBend>>();
            return t;
          }));

  py::class_<Score>(m, "Score",
                    "Notes in ticks with the tempo map, meters, keys and tracks of a MIDI file. "
                    "List attributes are copies: assign a whole list to change one.")
      .def(py::init([](int tpq, std::vector<TempoChange> tempos, std::vector<TimeSignature> ts,
                       std::vector<KeySignature> ks, std::vector<Track> tracks) {
             Score s;
             s.ticks_per_quarter = tpq;
             s.tempos = std::move(tempos);
             s.time_signatures = std::move(ts);
             s.key_signatures = std::move(ks);
             s.tracks = std::move(tracks);
             return s;
           }),
           "ticks_per_quarter"_a = 480, "tempos"_a = std::vector<TempoChange>{},
           "time_signatures"_a = std::vector<TimeSignature>{}, "key_signatures"_a = std::vector<KeySignature>{},
           "tracks"_a = std::vector<Track>{})
      .def_readwrite("ticks_per_quarter", &Score::ticks_per_quarter)
      .def_property("tempos", copy_getter(&Score::tempos), copy_setter(&Score::tempos))
      .def_property("time_signatures", copy_getter(&Score::time_signatures), copy_setter(&Score::time_signatures))
      .def_property("key_signatures", copy_getter(&Score::key_signatures), copy_setter(&Score::key_signatures))
      .def_property("tracks", copy_getter(&Score::tracks), copy_setter(&Score::tracks))
      .def("seconds", py::overload_cast<std::int64_t>(&Score::seconds, py::const_), "tick"_a,
           "Seconds at `tick` from the tempo map (120 qpm before the first change).")
      .def(
          "seconds",
          [](const Score& s, py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> ticks) {
            py::array_t<double> out(ticks.request().shape);
            const std::int64_t* in = ticks.data();
            double* o = out.mutable_data();
            for (py::ssize_t i = 0; i < ticks.size(); ++i) o[i] = s.seconds(in[i]);
            return out;
          },
          "ticks"_a, "Seconds for an array of ticks.")
      .def("ticks", &Score::ticks, "seconds"_a, "The (fractional) tick at `seconds`.")
      .def_property_readonly("end_tick", &Score::end_tick, "largest note end over all tracks")
      .def_property_readonly("duration_seconds", &Score::duration_seconds, "seconds(end_tick)")
      .def_property_readonly("note_count", &Score::note_count, "number of notes in all tracks")
      .def("sort", &Score::sort, "Sort notes and events of every track and the meta lists by tick.")
      .def("__repr__", [](const Score& s) {
        std::ostringstream o;
        o << "Score(ticks_per_quarter=" << s.ticks_per_quarter << ", tracks=" << s.tracks.size()
          << ", notes=" << s.note_count() << ", tempos=" << s.tempos.size() << ", duration_seconds="
          << s.duration_seconds() << ")";
        return o.str();
      })
      .def(py::pickle(
          [](const Score& s) {
            return py::make_tuple(s.ticks_per_quarter, s.tempos, s.time_signatures, s.key_signatures, s.tracks);
          },
          [](const py::tuple& t) {
            Score s;
            s.ticks_per_quarter = t[0].cast<int>();
            s.tempos = t[1].cast<std::vector<TempoChange>>();
            s.time_signatures = t[2].cast<std::vector<TimeSignature>>();
            s.key_signatures = t[3].cast<std::vector<KeySignature>>();
            s.tracks = t[4].cast<std::vector<Track>>();
            return s;
          }));

  m.def(
      "read_midi",
      [](const py::object& path) {
        const std::string p = fspath(path);
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
      [](const Score& s, const py::object& path) {
        const std::string p = fspath(path);
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

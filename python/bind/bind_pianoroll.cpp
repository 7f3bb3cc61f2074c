// Piano-roll bindings: PianoRoll and MultiTrackRoll as numpy arrays without
// copies, Score <-> roll conversions, and the Score.to_pianoroll /
// Score.from_pianoroll methods attached to bind_music's Score class.
//
// Sharing. `.array` and `.onsets` are numpy views of the C++ buffer whose base
// is the Python roll object, so the buffer lives as long as any view of it.
// Building a roll from a C-contiguous, writeable uint8 or bool numpy array
// adopts that array's memory (the roll keeps a reference to it); any other
// layout or integer dtype is copied once. Binary rolls show as dtype bool.
//
// Tracks of a MultiTrackRoll. `multi[i]` and `multi.tracks` give PianoRolls that
// share track i's cells. Their program, is_drum and name write through to the
// MultiTrackRoll; their grid (resolution, tempo, time signature) is the whole
// MultiTrackRoll's, so setting it on one track raises InvalidArgument instead of
// silently changing a copy (roll_tracks.hpp). `programs`, `is_drums` and `names`
// are tuples (item assignment fails loudly) and take a whole new sequence.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <optional>
#include <string>

#include "partita/core/error.hpp"
#include "partita/music/pianoroll.hpp"
#include "registry.hpp"
#include "roll_tracks.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using partita::py_bind::linked_track;
using partita::py_bind::PianoRollObject;
using partita::py_bind::refuse_track_grid;
using partita::py_bind::set_info;

using partita::InvalidArgument;
using partita::kPitches;
using partita::MultiTrackRoll;
using partita::PianoRoll;
using partita::RollGrid;
using partita::ShapeError;
using partita::TrackInfo;

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// A numpy array's bytes made available to C++: pointer, whether it is bool,
// and a shared_ptr that holds a reference to the array (released with the GIL).
struct Adopted {
  std::uint8_t* data = nullptr;
  bool binary = false;
  std::vector<std::size_t> shape;
  std::shared_ptr<void> owner;
};

Adopted adopt_array(const py::object& obj, int ndim, const char* where, const char* what) {
  py::module_ np = py::module_::import("numpy");
  py::array a = np.attr("asarray")(obj);
  const std::string expect = ndim == 2 ? "(time, 128)" : "(track, time, 128)";
  if (a.ndim() != ndim || a.shape(ndim - 1) != static_cast<py::ssize_t>(kPitches))
    throw ShapeError(std::string(where) + ": " + what + " must have shape " + expect + ", got " +
                     shape_str(a));
  // dtype and flags are read through Python attributes: the C struct layouts
  // that pybind11 2.10 assumes for dtypes changed in numpy 2 (itemsize moved).
  py::object dtype = a.attr("dtype");
  const char kind = dtype.attr("kind").cast<std::string>().at(0);
  const int itemsize = dtype.attr("itemsize").cast<int>();
  Adopted out;
  if (kind == 'b') {
    out.binary = true;
  } else if (kind == 'u' || kind == 'i') {
    if (itemsize != 1 || kind == 'i') {
      // Wider integers: values must fit a uint8 cell; copied once.
      if (a.size() > 0) {
        const long long lo = np.attr("min")(a).cast<long long>();
        const long long hi = np.attr("max")(a).cast<long long>();
        if (lo < 0 || hi > 255)
          throw InvalidArgument(std::string(where) + ": " + what + " values must be 0..255 " +
                                "(velocities), got " + std::to_string(lo) + ".." +
                                std::to_string(hi));
      }
      a = np.attr("array")(a, "dtype"_a = "uint8", "order"_a = "C");
    }
  } else {
    throw InvalidArgument(std::string(where) + ": " + what + " has dtype " +
                          py::str(dtype).cast<std::string>() +
                          "; piano-roll cells are uint8 velocities or bool (threshold float "
                          "model outputs first, e.g. (x > 0) or x.astype(np.uint8))");
  }
  py::object flags = a.attr("flags");
  const bool contiguous = flags.attr("c_contiguous").cast<bool>();
  if (!contiguous || !flags.attr("writeable").cast<bool>()) a = np.attr("array")(a, "order"_a = "C", "copy"_a = true);
  out.data = static_cast<std::uint8_t*>(a.mutable_data());
  for (py::ssize_t i = 0; i < ndim; ++i) out.shape.push_back(static_cast<std::size_t>(a.shape(i)));
  out.owner = std::shared_ptr<void>(new py::object(a), [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  return out;
}

// A numpy view of `n`-d uint8 cells at `data` whose base is `base`.
py::array view_of(py::handle base, std::uint8_t* data, std::vector<py::ssize_t> shape,
                  bool binary) {
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  py::dtype dt = binary ? py::dtype::of<bool>() : py::dtype::of<std::uint8_t>();
  return py::array(dt, shape, strides, data, base);
}

RollGrid make_grid(int resolution, double tempo, std::pair<int, int> ts, const char* where) {
  RollGrid g;
  g.resolution = resolution;
  g.tempo = tempo;
  g.numerator = ts.first;
  g.denominator = ts.second;
  g.validate(where);
  return g;
}

void check_onsets_shape(const Adopted& o, const std::vector<std::size_t>& shape, const char* where) {
  if (o.shape != shape)
    throw ShapeError(std::string(where) + ": onsets must have the same shape as the cells");
}

PianoRoll make_roll(const py::object& array, int resolution, const py::object& onsets,
                    double tempo, std::pair<int, int> ts, int program, bool is_drum,
                    const std::string& name) {
  const char* where = "PianoRoll";
  Adopted a = adopt_array(array, 2, where, "cells");
  PianoRoll r = PianoRoll::adopt(a.data, a.shape[0], a.owner, make_grid(resolution, tempo, ts, where));
  r.binary = a.binary;
  if (program < 0 || program > 127)
    throw InvalidArgument("PianoRoll: program must be 0..127, got " + std::to_string(program));
  r.info = {name, program, is_drum};
  if (!onsets.is_none()) {
    Adopted o = adopt_array(onsets, 2, where, "onsets");
    check_onsets_shape(o, a.shape, where);
    r.adopt_onsets(o.data, o.owner);
  }
  return r;
}

template <class T>
std::vector<T> per_track(const std::optional<std::vector<T>>& v, std::size_t n, T fallback,
                         const char* what) {
  if (!v) return std::vector<T>(n, fallback);
  if (v->size() != n)
    throw ShapeError("MultiTrackRoll: " + std::string(what) + " has " + std::to_string(v->size()) +
                     " entries for " + std::to_string(n) + " tracks");
  return *v;
}

template <class T, class Set>
std::vector<TrackInfo> apply_per_track(const MultiTrackRoll& r, const std::vector<T>& v, const char* what, Set set) {
  if (v.size() != r.info.size())
    throw ShapeError("MultiTrackRoll." + std::string(what) + ": " + std::to_string(v.size()) + " values for " +
                     std::to_string(r.info.size()) + " tracks");
  std::vector<TrackInfo> info = r.info;
  for (std::size_t k = 0; k < v.size(); ++k) set(info[k], v[k]);
  return info;
}

MultiTrackRoll make_multi(const py::object& array, int resolution, const py::object& onsets,
                          double tempo, std::pair<int, int> ts,
                          const std::optional<std::vector<int>>& programs,
                          const std::optional<std::vector<bool>>& is_drums,
                          const std::optional<std::vector<std::string>>& names) {
  const char* where = "MultiTrackRoll";
  Adopted a = adopt_array(array, 3, where, "cells");
  MultiTrackRoll r = MultiTrackRoll::adopt(a.data, a.shape[0], a.shape[1], a.owner,
                                           make_grid(resolution, tempo, ts, where));
  r.binary = a.binary;
  auto p = per_track<int>(programs, a.shape[0], 0, "programs");
  auto d = per_track<bool>(is_drums, a.shape[0], false, "is_drums");
  auto n = per_track<std::string>(names, a.shape[0], std::string(), "names");
  for (std::size_t k = 0; k < a.shape[0]; ++k) {
    if (p[k] < 0 || p[k] > 127)
      throw InvalidArgument("MultiTrackRoll: program must be 0..127, got " + std::to_string(p[k]));
    r.info[k] = {n[k], p[k], d[k]};
  }
  if (!onsets.is_none()) {
    Adopted o = adopt_array(onsets, 3, where, "onsets");
    check_onsets_shape(o, a.shape, where);
    r.adopt_onsets(o.data, o.owner);
  }
  return r;
}

partita::ToRollOptions roll_options(int resolution, std::optional<int> track, bool binarize,
                                    std::optional<std::int64_t> length,
                                    std::optional<std::int64_t> bars, bool whole_bars,
                                    bool onsets, bool include_drums) {
  partita::ToRollOptions o;
  o.resolution = resolution;
  o.track = track.value_or(-1);
  if (track && *track < 0)
    throw InvalidArgument("to_pianoroll: track must be >= 0 (None merges all tracks), got " +
                          std::to_string(*track));
  o.binarize = binarize;
  o.length = length.value_or(-1);
  o.bars = bars.value_or(-1);
  if ((length && *length < 0) || (bars && *bars < 0))
    throw InvalidArgument("to_pianoroll: length and bars must be >= 0");
  o.whole_bars = whole_bars;
  o.onsets = onsets;
  o.include_drums = include_drums;
  return o;
}

// Score.from_pianoroll(roll, ...): a PianoRoll, a MultiTrackRoll, or a numpy
// array ((time, 128) or (track, time, 128)) read at `resolution` steps per quarter.
partita::Score score_from_roll(const py::object& roll, std::optional<int> resolution,
                               std::optional<double> tempo, std::optional<int> program,
                               std::optional<int> velocity, int ticks_per_quarter,
                               const py::object& onsets, std::optional<bool> is_drum,
                               std::optional<std::string> name) {
  partita::FromRollOptions o;
  o.ticks_per_quarter = ticks_per_quarter;
  o.tempo = tempo.value_or(0.0);
  if (tempo && !(*tempo > 0.0))
    throw InvalidArgument("from_pianoroll: tempo must be > 0 quarter notes per minute");
  o.program = program.value_or(-1);
  o.velocity = velocity.value_or(-1);
  if (program && (*program < 0 || *program > 127))
    throw InvalidArgument("from_pianoroll: program must be 0..127, got " + std::to_string(*program));
  if (py::isinstance<MultiTrackRoll>(roll)) {
    MultiTrackRoll m = roll.cast<MultiTrackRoll>();  // a handle: no copy of the cells
    if (resolution) m.grid.resolution = *resolution;
    if (program)
      for (auto& i : m.info) i.program = *program;
    return partita::from_multitrack(m, o);
  }
  PianoRoll r;
  if (py::isinstance<PianoRoll>(roll)) {
    r = roll.cast<PianoRoll>();
    if (!onsets.is_none())
      throw InvalidArgument("from_pianoroll: onsets= is for bare arrays; this roll " +
                            std::string(r.has_onsets() ? "has" : "has no") + " onset channel");
  } else {
    py::array a = py::module_::import("numpy").attr("asarray")(roll);
    if (a.ndim() == 3) {
      MultiTrackRoll m = make_multi(a, resolution.value_or(4), onsets, o.tempo > 0 ? o.tempo : 120.0,
                                    {4, 4}, std::nullopt, std::nullopt, std::nullopt);
      return partita::from_multitrack(m, o);
    }
    r = make_roll(a, resolution.value_or(4), onsets, o.tempo > 0 ? o.tempo : 120.0, {4, 4}, 0,
                  false, "");
  }
  if (resolution) r.grid.resolution = *resolution;
  if (is_drum) r.info.is_drum = *is_drum;
  if (name) r.info.name = *name;
  return partita::from_pianoroll(r, o);
}

const char* kToRollDoc = R"doc(Lay the score on a grid of `resolution` steps per quarter note.

track: index of the track to roll; None merges all tracks (cell = max velocity;
    drum tracks only with include_drums=True).
binarize: cells 0/1 (the array has dtype bool) instead of velocities (uint8).
length: exact number of steps (pads with silence or cuts notes); bars: exact
    number of bars of the first time signature; whole_bars: round the natural
    length (last note end) up to whole bars.
onsets: also fill the onset channel (1 where a note starts), so repeated notes
    survive the way back.
Quantization: start and end ticks round to the nearest step (halves up), each
note at least one step. The first tempo and time signature are kept in the roll.)doc";

const char* kFromRollDoc = R"doc(Build a Score from a piano roll.

roll: PianoRoll, MultiTrackRoll, or a numpy array (time, 128) / (track, time, 128)
    of uint8 velocities or bool.
resolution: steps per quarter (default: the roll's own; 4 for a bare array).
tempo: quarter notes per minute (default: the roll's, 120 for a bare array).
program: General MIDI program (default: the roll's, 0 for a bare array).
velocity: velocity of every note (default: the cell values; 100 for binary rolls).
ticks_per_quarter: resolution of the returned Score (default 480).
onsets: onset array for a bare `roll` array (non-zero = a note starts).
Each run of non-zero cells on a pitch is one note, split where onsets are set.)doc";

}  // namespace

PARTITA_BIND(pianoroll, 20) {
  py::class_<PianoRoll>(m, "PianoRoll", R"doc(A (time, 128) piano roll, time first.

PianoRoll(array, resolution=4, onsets=None, tempo=120.0, time_signature=(4, 4),
          program=0, is_drum=False, name="")

`array` is uint8 velocities or bool (binary); a C-contiguous writeable uint8/bool
array is used in place (no copy): writing to it changes the roll and back.
`.array` / `.onsets` are numpy views of the roll's memory.)doc")
      .def(py::init(&make_roll), "array"_a, "resolution"_a = 4, "onsets"_a = py::none(),
           "tempo"_a = 120.0, "time_signature"_a = std::pair<int, int>(4, 4), "program"_a = 0,
           "is_drum"_a = false, "name"_a = "")
      .def_static(
          "zeros",
          [](std::size_t steps, int resolution, bool onsets, bool binary) {
            PianoRoll r(steps, make_grid(resolution, 120.0, {4, 4}, "PianoRoll.zeros"), onsets);
            r.binary = binary;
            return r;
          },
          "steps"_a, "resolution"_a = 4, "onsets"_a = false, "binary"_a = false,
          "A silent roll of `steps` steps.")
      .def_property_readonly(
          "array",
          [](py::object self) {
            auto& r = self.cast<PianoRoll&>();
            return view_of(self, r.data(), {py::ssize_t(r.steps()), py::ssize_t(kPitches)},
                           r.binary);
          },
          "The cells as a (time, 128) numpy array sharing the roll's memory.")
      .def_property_readonly(
          "onsets",
          [](py::object self) -> std::optional<py::array> {
            auto& r = self.cast<PianoRoll&>();
            if (!r.has_onsets()) return std::nullopt;
            return view_of(self, r.onsets_data(), {py::ssize_t(r.steps()), py::ssize_t(kPitches)},
                           false);
          },
          "The onset channel (uint8, 1 = a note starts) as a numpy view, or None.")
      .def("__array__",
           [](py::object self, py::object dtype, py::object copy) -> py::object {
             py::object a = self.attr("array");
             if (!dtype.is_none()) a = a.attr("astype")(dtype, "copy"_a = false);
             if (!copy.is_none() && copy.cast<bool>()) a = a.attr("copy")();
             return a;
           },
           "dtype"_a = py::none(), "copy"_a = py::none())
      .def_property_readonly("steps", &PianoRoll::steps)
      .def("__len__", &PianoRoll::steps)
      .def_property_readonly("shape",
                             [](const PianoRoll& r) { return std::make_tuple(std::int64_t(r.steps()), std::int64_t(kPitches)); },
                             "(steps, 128), as the array's shape")
      .def_property(
          "resolution", [](const PianoRoll& r) { return r.grid.resolution; },
          [](const py::object& self, int v) {
            refuse_track_grid(self, "PianoRoll.resolution");
            PianoRoll& r = self.cast<PianoRoll&>();
            RollGrid g = r.grid;
            g.resolution = v;
            g.validate("PianoRoll.resolution");
            r.grid = g;
          },
          "Steps per quarter note.")
      .def_property(
          "tempo", [](const PianoRoll& r) { return r.grid.tempo; },
          [](const py::object& self, double v) {
            refuse_track_grid(self, "PianoRoll.tempo");
            PianoRoll& r = self.cast<PianoRoll&>();
            RollGrid g = r.grid;
            g.tempo = v;
            g.validate("PianoRoll.tempo");
            r.grid = g;
          },
          "Quarter notes per minute restored by to_score().")
      .def_property(
          "time_signature",
          [](const PianoRoll& r) { return std::make_pair(r.grid.numerator, r.grid.denominator); },
          [](const py::object& self, std::pair<int, int> ts) {
            refuse_track_grid(self, "PianoRoll.time_signature");
            PianoRoll& r = self.cast<PianoRoll&>();
            RollGrid g = r.grid;
            g.numerator = ts.first;
            g.denominator = ts.second;
            g.validate("PianoRoll.time_signature");
            r.grid = g;
          })
      .def_property_readonly("bar_steps", [](const PianoRoll& r) { return r.grid.bar_steps(); })
      .def_property(
          "program", [](const PianoRoll& r) { return r.info.program; },
          [](const py::object& self, int p) {
            if (p < 0 || p > 127)
              throw InvalidArgument("PianoRoll.program: must be 0..127, got " + std::to_string(p));
            set_info(self, [p](TrackInfo& i) { i.program = p; });
          },
          "General MIDI program (for a track of a MultiTrackRoll, that track's)")
      .def_property(
          "is_drum", [](const PianoRoll& r) { return r.info.is_drum; },
          [](const py::object& self, bool d) { set_info(self, [d](TrackInfo& i) { i.is_drum = d; }); },
          "a percussion track (for a track of a MultiTrackRoll, that track's)")
      .def_property(
          "name", [](const PianoRoll& r) { return r.info.name; },
          [](const py::object& self, const std::string& n) { set_info(self, [&n](TrackInfo& i) { i.name = n; }); },
          "track name (for a track of a MultiTrackRoll, that track's)")
      .def_readonly("binary", &PianoRoll::binary, "True when cells are 0/1 (array dtype bool).")
      .def_property_readonly("has_onsets", &PianoRoll::has_onsets)
      .def("copy", &PianoRoll::clone, "A deep copy (cells, onsets, metadata).")
      .def("with_length", &PianoRoll::with_length, "steps"_a,
           "A copy `steps` long: cut, or padded with silence.")
      .def("binarized", &PianoRoll::binarized, "A copy with cells 0/1 (dtype bool).")
      .def("derive_onsets", &PianoRoll::derive_onsets,
           "Give the roll an onset channel marking the start of every run of on cells.")
      .def("drop_onsets", &PianoRoll::drop_onsets)
      .def("active_cells", &PianoRoll::active_cells, "Number of non-zero cells.")
      .def(
          "to_score",
          [](py::object self, std::optional<double> tempo, std::optional<int> program,
             std::optional<int> velocity, int tpq) {
            return score_from_roll(self, std::nullopt, tempo, program, velocity, tpq, py::none(),
                                   std::nullopt, std::nullopt);
          },
          "tempo"_a = py::none(), "program"_a = py::none(), "velocity"_a = py::none(),
          "ticks_per_quarter"_a = 480, "The roll as a one-track Score (see from_pianoroll).")
      .def("__repr__", [](const PianoRoll& r) {
        return "PianoRoll(steps=" + std::to_string(r.steps()) + ", resolution=" +
               std::to_string(r.grid.resolution) + ", tempo=" + py::repr(py::float_(r.grid.tempo)).cast<std::string>() +
               ", time_signature=" + std::to_string(r.grid.numerator) + "/" +
               std::to_string(r.grid.denominator) + ", program=" + std::to_string(r.info.program) +
               (r.info.is_drum ? ", drum" : "") + (r.binary ? ", binary" : "") +
               (r.has_onsets() ? ", onsets" : "") + ")";
      });

  py::class_<MultiTrackRoll>(m, "MultiTrackRoll", R"doc(A (track, time, 128) stack of piano rolls.

MultiTrackRoll(array, resolution=4, onsets=None, tempo=120.0, time_signature=(4, 4),
               programs=None, is_drums=None, names=None)

Indexing gives a PianoRoll that shares this roll's memory.)doc")
      .def(py::init(&make_multi), "array"_a, "resolution"_a = 4, "onsets"_a = py::none(),
           "tempo"_a = 120.0, "time_signature"_a = std::pair<int, int>(4, 4),
           "programs"_a = py::none(), "is_drums"_a = py::none(), "names"_a = py::none())
      .def_property_readonly(
          "array",
          [](py::object self) {
            auto& r = self.cast<MultiTrackRoll&>();
            return view_of(self, r.data(),
                           {py::ssize_t(r.num_tracks()), py::ssize_t(r.steps()), py::ssize_t(kPitches)},
                           r.binary);
          },
          "The cells as a (track, time, 128) numpy array sharing the roll's memory.")
      .def_property_readonly(
          "onsets",
          [](py::object self) -> std::optional<py::array> {
            auto& r = self.cast<MultiTrackRoll&>();
            if (!r.has_onsets()) return std::nullopt;
            return view_of(
                self, r.onsets_data(),
                {py::ssize_t(r.num_tracks()), py::ssize_t(r.steps()), py::ssize_t(kPitches)}, false);
          })
      .def("__array__",
           [](py::object self, py::object dtype, py::object copy) -> py::object {
             py::object a = self.attr("array");
             if (!dtype.is_none()) a = a.attr("astype")(dtype, "copy"_a = false);
             if (!copy.is_none() && copy.cast<bool>()) a = a.attr("copy")();
             return a;
           },
           "dtype"_a = py::none(), "copy"_a = py::none())
      .def("__len__", &MultiTrackRoll::num_tracks)
      .def(
          "__getitem__",
          [](const py::object& self, long long i) -> PianoRollObject {
            const long long n = static_cast<long long>(self.cast<const MultiTrackRoll&>().num_tracks());
            if (i < 0) i += n;
            if (i < 0 || i >= n) throw py::index_error("MultiTrackRoll: track index out of range");
            return py::reinterpret_steal<PianoRollObject>(linked_track(self, static_cast<std::size_t>(i)).release());
          },
          "index"_a, "Track `index` as a PianoRoll sharing its cells (see tracks).")
      .def_property_readonly(
          "tracks",
          [](const py::object& self) -> py::typing::Tuple<PianoRollObject, py::ellipsis> {
            const std::size_t n = self.cast<const MultiTrackRoll&>().num_tracks();
            py::tuple out(n);
            for (std::size_t k = 0; k < n; ++k) out[k] = linked_track(self, k);
            return py::reinterpret_steal<py::typing::Tuple<PianoRollObject, py::ellipsis>>(out.release());
          },
          "Each track as a PianoRoll sharing its cells; program, is_drum and name write through, "
          "the grid is read-only there.")
      .def_property_readonly("steps", &MultiTrackRoll::steps)
      .def_property_readonly("shape",
                             [](const MultiTrackRoll& r) {
                               return std::make_tuple(std::int64_t(r.num_tracks()), std::int64_t(r.steps()), std::int64_t(kPitches));
                             })
      .def_property_readonly("resolution", [](const MultiTrackRoll& r) { return r.grid.resolution; })
      .def_property_readonly("tempo", [](const MultiTrackRoll& r) { return r.grid.tempo; })
      .def_property_readonly("time_signature",
                             [](const MultiTrackRoll& r) {
                               return std::make_pair(r.grid.numerator, r.grid.denominator);
                             })
      .def_property(
          "programs",
          [](const MultiTrackRoll& r) {
            std::vector<int> v;
            for (const auto& i : r.info) v.push_back(i.program);
            return py::typing::Tuple<py::int_, py::ellipsis>(py::tuple(py::cast(v)));
          },
          [](MultiTrackRoll& r, const std::vector<int>& v) {
            r.info = apply_per_track(r, v, "programs", [](TrackInfo& i, const int& x) {
              if (x < 0 || x > 127)
                throw InvalidArgument("MultiTrackRoll.programs: must be 0..127, got " + std::to_string(x));
              i.program = x;
            });
          },
          "one per track (a tuple; assign a whole sequence to change)")
      .def_property(
          "is_drums",
          [](const MultiTrackRoll& r) {
            std::vector<bool> v;
            for (const auto& i : r.info) v.push_back(i.is_drum);
            return py::typing::Tuple<py::bool_, py::ellipsis>(py::tuple(py::cast(v)));
          },
          [](MultiTrackRoll& r, const std::vector<bool>& v) {
            r.info = apply_per_track(r, v, "is_drums", [](TrackInfo& i, const bool& x) { i.is_drum = x; });
          },
          "one per track (a tuple; assign a whole sequence to change)")
      .def_property(
          "names",
          [](const MultiTrackRoll& r) {
            std::vector<std::string> v;
            for (const auto& i : r.info) v.push_back(i.name);
            return py::typing::Tuple<py::str, py::ellipsis>(py::tuple(py::cast(v)));
          },
          [](MultiTrackRoll& r, const std::vector<std::string>& v) {
            r.info = apply_per_track(r, v, "names", [](TrackInfo& i, const std::string& x) { i.name = x; });
          },
          "one per track (a tuple; assign a whole sequence to change)")
      .def_readonly("binary", &MultiTrackRoll::binary)
      .def("copy", &MultiTrackRoll::clone)
      .def("merged", &MultiTrackRoll::merged, "include_drums"_a = false,
           "All tracks merged into one PianoRoll (cell = max over tracks; a copy).")
      .def(
          "to_score",
          [](py::object self, std::optional<double> tempo, std::optional<int> velocity, int tpq) {
            return score_from_roll(self, std::nullopt, tempo, std::nullopt, velocity, tpq,
                                   py::none(), std::nullopt, std::nullopt);
          },
          "tempo"_a = py::none(), "velocity"_a = py::none(), "ticks_per_quarter"_a = 480,
          "The rolls as a Score with one track each.")
      .def("__repr__", [](const MultiTrackRoll& r) {
        return "MultiTrackRoll(tracks=" + std::to_string(r.num_tracks()) + ", steps=" +
               std::to_string(r.steps()) + ", resolution=" + std::to_string(r.grid.resolution) + ")";
      });

  auto to_roll = [](const partita::Score& s, int resolution, std::optional<int> track,
                    bool binarize, std::optional<std::int64_t> length,
                    std::optional<std::int64_t> bars, bool whole_bars, bool onsets,
                    bool include_drums) {
    return partita::to_pianoroll(s, roll_options(resolution, track, binarize, length, bars,
                                                 whole_bars, onsets, include_drums));
  };
  auto to_multi = [](const partita::Score& s, int resolution, bool binarize,
                     std::optional<std::int64_t> length, std::optional<std::int64_t> bars,
                     bool whole_bars, bool onsets) {
    return partita::to_multitrack(s, roll_options(resolution, std::nullopt, binarize, length, bars,
                                                  whole_bars, onsets, true));
  };
  m.def("to_pianoroll", to_roll, "score"_a, "resolution"_a = 4, "track"_a = py::none(),
        "binarize"_a = false, "length"_a = py::none(), "bars"_a = py::none(),
        "whole_bars"_a = false, "onsets"_a = false, "include_drums"_a = false, kToRollDoc);
  m.def("to_multitrack", to_multi, "score"_a, "resolution"_a = 4, "binarize"_a = false,
        "length"_a = py::none(), "bars"_a = py::none(), "whole_bars"_a = false,
        "onsets"_a = false, "One roll per track (drums included), all of one length.");
  m.def("from_pianoroll", &score_from_roll, "roll"_a, "resolution"_a = py::none(),
        "tempo"_a = py::none(), "program"_a = py::none(), "velocity"_a = py::none(),
        "ticks_per_quarter"_a = 480, "onsets"_a = py::none(), "is_drum"_a = py::none(),
        "name"_a = py::none(), kFromRollDoc);

  // Methods on bind_music's Score (priority 10, bound before us), when present.
  if (py::hasattr(m, "Score")) {
    py::object cls = m.attr("Score");
    cls.attr("to_pianoroll") = py::cpp_function(
        to_roll, py::name("to_pianoroll"), py::is_method(cls), "resolution"_a = 4,
        "track"_a = py::none(), "binarize"_a = false, "length"_a = py::none(),
        "bars"_a = py::none(), "whole_bars"_a = false, "onsets"_a = false,
        "include_drums"_a = false, kToRollDoc);
    cls.attr("to_multitrack") = py::cpp_function(
        to_multi, py::name("to_multitrack"), py::is_method(cls), "resolution"_a = 4,
        "binarize"_a = false, "length"_a = py::none(), "bars"_a = py::none(),
        "whole_bars"_a = false, "onsets"_a = false,
        "One roll per track (drums included), all of one length.");
    cls.attr("from_pianoroll") = py::staticmethod(py::cpp_function(
        &score_from_roll, py::name("from_pianoroll"), "roll"_a, "resolution"_a = py::none(),
        "tempo"_a = py::none(), "program"_a = py::none(), "velocity"_a = py::none(),
        "ticks_per_quarter"_a = 480, "onsets"_a = py::none(), "is_drum"_a = py::none(),
        "name"_a = py::none(), kFromRollDoc));
  }
}

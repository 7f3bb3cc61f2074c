// GAN data bindings: the JSB chorales as SATB multitrack rolls, 2-bar multitrack
// windows as numpy arrays (shared, not copied), the model's (N, 32, 128, 4)
// {-1, +1} layout, range-keeping transposition, and the MIDI folder loader with
// the melody track first. Thin: all logic is in partita::data.
#include <optional>
#include <variant>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <random>

#include "partita/core/error.hpp"
#include "partita/data/jsb_chorales.hpp"
#include "partita/data/jsb_multitrack.hpp"
#include "partita/data/multitrack_folder.hpp"
#include "partita/data/multitrack_windows.hpp"
#include "partita/music/pianoroll.hpp"
#include "path_arg.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::data;

namespace {

// A partita.MultiTrackRoll as it is, or a (track, time, 128) array through the
// MultiTrackRoll constructor (a copy).
MultiTrackRoll multi_from_python(const py::object& obj, const py::module_& m) {
  if (py::isinstance<MultiTrackRoll>(obj)) return obj.cast<MultiTrackRoll>();
  return m.attr("MultiTrackRoll")(obj).cast<MultiTrackRoll>();
}

PitchRange range_of(int low, int high) { return PitchRange{low, high}; }

struct GanJsbSplits {
  std::vector<MultiTrackRoll> train, valid, test;
};
struct MultitrackFolder {
  std::vector<MultiTrackRoll> rolls;
  std::vector<std::string> used, skipped;
};
struct TranspositionSampler {
  std::mt19937_64 rng;
  int max_semitones;
  PitchRange range;
};

}  // namespace

PARTITA_BIND(gan_data, 55) {
  py::class_<MultiTrackWindows, std::shared_ptr<MultiTrackWindows>>(
      m, "MultiTrackWindows",
      "Fixed-size multitrack windows (the GAN's training data): (n, tracks, steps, 128) binary "
      "cells, melody in track 0.")
      .def_property_readonly("tracks", &MultiTrackWindows::tracks)
      .def_property_readonly("steps", &MultiTrackWindows::steps)
      .def("__len__", &MultiTrackWindows::count)
      .def_property_readonly(
          "array",
          [](const py::object& self) {
            auto& w = self.cast<MultiTrackWindows&>();
            std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(w.count()),
                                           static_cast<py::ssize_t>(w.tracks()),
                                           static_cast<py::ssize_t>(w.steps()), py::ssize_t(kPitches)};
            py::array_t<std::uint8_t> a(shape, w.data(), self);
            py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
            return a;
          },
          "All windows as an (n, tracks, steps, 128) uint8 array: a read-only view of the windows' "
          "memory (no copy).")
      .def(
          "roll", [](const MultiTrackWindows& w, std::int64_t i) { return w.roll(i); }, "index"_a,
          "Window `index` as a partita.MultiTrackRoll (a copy).")
      .def("model_layout",
           [](const MultiTrackWindows& w) {
             std::vector<float> v = to_model_layout(w);
             py::array_t<float> a({static_cast<py::ssize_t>(w.count()), static_cast<py::ssize_t>(w.steps()),
                                   py::ssize_t(kPitches), static_cast<py::ssize_t>(w.tracks())});
             if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(float));
             return a;
           },
           "The model's layout: (n, steps, 128, tracks) float32, +1 for a note, -1 for silence (a copy).")
      .def("__repr__", [](const MultiTrackWindows& w) {
        return "MultiTrackWindows(" + std::to_string(w.count()) + " windows of " + std::to_string(w.tracks()) +
               " tracks x " + std::to_string(w.steps()) + " steps)";
      });

  py::class_<GanJsbSplits> jsb(m, "JsbMultitrackSplits",
                               "The JSB chorales' standard split as four-track MultiTrackRolls (soprano, "
                               "alto, tenor, bass; binary, 16ths, held-note onsets).");
  jsb.def_readonly("train", &GanJsbSplits::train, "229 chorales")
      .def_readonly("valid", &GanJsbSplits::valid, "76 chorales")
      .def_readonly("test", &GanJsbSplits::test, "77 chorales")
      .def("__repr__", [](const GanJsbSplits& j) {
        return "JsbMultitrackSplits(train=" + std::to_string(j.train.size()) + ", valid=" +
               std::to_string(j.valid.size()) + ", test=" + std::to_string(j.test.size()) + " chorales)";
      });
  py_bind::mapping_access(jsb);
  m.def(
      "load_jsb_multitrack",
      [](const std::optional<py_bind::PathArg>& path) {
        std::string p = path ? path->str : default_jsb_path();
        py::gil_scoped_release rel;
        JsbMultitrack j = load_jsb_multitrack(p);
        return GanJsbSplits{std::move(j.train), std::move(j.valid), std::move(j.test)};
      },
      "path"_a = py::none(),
      "The JSB chorales (the bundled file by default) as SATB MultiTrackRolls: a JsbMultitrackSplits.");
  m.def(
      "make_multitrack_windows",
      [m](const py::list& rolls, std::int64_t window, std::int64_t hop) {
        std::vector<MultiTrackRoll> rs;
        for (auto r : rolls) rs.push_back(multi_from_python(py::reinterpret_borrow<py::object>(r), m));
        py::gil_scoped_release rel;
        return std::make_shared<MultiTrackWindows>(make_multitrack_windows(rs, window, hop));
      },
      "rolls"_a, "window"_a = 32, "hop"_a = 16,
      "Cut multitrack rolls into windows of `window` steps every `hop` steps, skipping windows whose "
      "melody (track 0) is silent.");
  m.def(
      "jsb_multitrack_windows",
      [](const std::string& split, const std::optional<py_bind::PathArg>& path, std::int64_t window,
         std::int64_t hop) {
        std::string p = path ? path->str : default_jsb_path();
        if (split != "train" && split != "valid" && split != "test")
          throw InvalidArgument("jsb_multitrack_windows: split must be train, valid or test, got \"" + split +
                                "\"");
        py::gil_scoped_release rel;
        JsbMultitrack j = load_jsb_multitrack(p);
        const auto& rs = split == "train" ? j.train : split == "valid" ? j.valid : j.test;
        return std::make_shared<MultiTrackWindows>(make_multitrack_windows(rs, window, hop));
      },
      "split"_a = "train", "path"_a = py::none(), "window"_a = 32, "hop"_a = 16,
      "2-bar SATB windows of one split of the JSB chorales (melody = soprano).");
  m.def(
      "to_model_layout",
      [](const py::array& arr) {
        auto a = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(arr.attr("__ne__")(0));
        if (!a || a.ndim() != 4 || a.shape(3) != static_cast<py::ssize_t>(kPitches))
          throw ShapeError("to_model_layout: expected an (n, tracks, steps, 128) array, got shape " +
                           py::str(arr.attr("shape")).cast<std::string>());
        if (a.shape(1) < 1 || a.shape(2) < 1)
          throw ShapeError("to_model_layout: tracks and steps must be >= 1");
        MultiTrackWindows w(a.shape(1), a.shape(2));
        for (py::ssize_t i = 0; i < a.shape(0); ++i) w.push(a.data(i, 0, 0, 0));
        std::vector<float> v = to_model_layout(w);
        py::array_t<float> out({a.shape(0), a.shape(2), a.shape(3), a.shape(1)});
        if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), v.size() * sizeof(float));
        return out;
      },
      "windows"_a,
      "(n, tracks, steps, 128) cells (non-zero = note) -> (n, steps, 128, tracks) float32 in {-1, +1}.");
  m.def(
      "transpose_window",
      [m](const py::object& roll, int semitones, int low, int high) {
        return transpose_window(multi_from_python(roll, m), semitones, range_of(low, high));
      },
      "roll"_a, "semitones"_a, "low"_a = 36, "high"_a = 81,
      "A MultiTrackRoll shifted by `semitones`; InvalidArgument when a note would leave low..high.");
  m.def(
      "allowed_transpositions",
      [m](const py::object& roll, int max_semitones, int low, int high) {
        return allowed_transpositions(multi_from_python(roll, m), max_semitones, range_of(low, high));
      },
      "roll"_a, "max_semitones"_a = 6, "low"_a = 36, "high"_a = 81,
      "Shifts in [-max_semitones, max_semitones] keeping every note in low..high, ascending.");
  py::class_<TranspositionSampler>(m, "TranspositionSampler",
                                   "Seeded random transposition: each call draws uniformly among the shifts "
                                   "that keep every voice in range.")
      .def(py::init([](std::uint64_t seed, int max_semitones, int low, int high) {
             if (max_semitones < 0)
               throw InvalidArgument("TranspositionSampler: max_semitones must be >= 0, got " +
                                     std::to_string(max_semitones));
             return TranspositionSampler{std::mt19937_64(seed), max_semitones, range_of(low, high)};
           }),
           "seed"_a = 0, "max_semitones"_a = 6, "low"_a = 36, "high"_a = 81)
      .def(
          "__call__",
          [m](TranspositionSampler& s, const py::object& roll) {
            Transposed t = random_transposition(multi_from_python(roll, m), s.max_semitones, s.rng, s.range);
            return py::make_tuple(t.roll, t.semitones);
          },
          "roll"_a, "(transposed MultiTrackRoll, semitones) for a random allowed shift.");

  py::class_<MultitrackFolder> mf(m, "MultitrackFolder",
                                  "Multitrack rolls from a folder of MIDI files (melody track first).");
  mf.def_readonly("rolls", &MultitrackFolder::rolls, "one MultiTrackRoll per usable file")
      .def_readonly("used", &MultitrackFolder::used, "files used")
      .def_readonly("skipped", &MultitrackFolder::skipped, "files skipped, as 'path: reason'")
      .def("__repr__", [](const MultitrackFolder& f) {
        return "MultitrackFolder(" + std::to_string(f.rolls.size()) + " rolls, " + std::to_string(f.skipped.size()) +
               " skipped)";
      });
  py_bind::mapping_access(mf);
  m.def(
      "load_multitrack_folder",
      [](const py_bind::PathArg& folder, const std::variant<int, std::string>& melody_track, int tracks,
         std::int64_t max_steps) {
        MultitrackFolderOptions o;
        o.tracks = tracks;
        o.max_steps = max_steps;
        MidiFolderReport rep;
        std::vector<MultiTrackRoll> rs;
        {
          py::gil_scoped_release rel;
          rs = load_multitrack_folder(folder.str, melody_track, o, &rep);
        }
        return MultitrackFolder{std::move(rs), std::move(rep.used), std::move(rep.skipped)};
      },
      "folder"_a, "melody_track"_a = 0, "tracks"_a = 4, "max_steps"_a = 1 << 16,
      "Every usable MIDI file under `folder` as a MultiTrackRoll (16ths, binary): the melody track "
      "(index among non-drum tracks, or name) first, then the other non-drum tracks in file order. "
      "Unusable files are listed in `skipped` as 'path: reason'.");
}

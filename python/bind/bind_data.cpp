// Data bindings: JSB chorales and MIDI folders as windows, the seeded split, and
// AR-CNN training pairs as numpy arrays (for partita's own fit and for the PyTorch
// twin's fallback trainer and benchmark). Thin: all logic is in partita::data.
#include <optional>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "partita/core/error.hpp"
#include "partita/data/jsb_chorales.hpp"
#include "partita/data/midi_folder.hpp"
#include "partita/data/training_pairs.hpp"
#include "partita/data/windows.hpp"
#include "partita/music/pianoroll.hpp"
#include "model_rolls.hpp"
#include "path_arg.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::data;

namespace {


// A roll's cells as a (time, 128) uint8 array (a copy).
py::array_t<std::uint8_t> roll_array(const PianoRoll& r) {
  py::array_t<std::uint8_t> a({static_cast<py::ssize_t>(r.steps()), static_cast<py::ssize_t>(kPitches)});
  if (r.steps()) std::memcpy(a.mutable_data(), r.data(), r.steps() * partita::kPitches);
  return a;
}

// A partita.PianoRoll as it is (a handle on the same cells), or anything numpy
// takes as a (time, 128) array as a binary roll at resolution 4 (a copy, cells
// non-zero -> 1).
PianoRoll roll_from_python(const py::object& obj, const char* who) {
  if (py::isinstance<PianoRoll>(obj)) return obj.cast<PianoRoll>();
  py::array arr = py::module_::import("numpy").attr("asarray")(obj);
  auto a = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(arr.attr("__ne__")(0));
  if (!a || a.ndim() != 2 || a.shape(1) != static_cast<py::ssize_t>(kPitches))
    throw ShapeError(std::string(who) + ": expected a (time, 128) piano roll, got shape " +
                     py::str(arr.attr("shape")).cast<std::string>());
  PianoRoll r(static_cast<std::size_t>(a.shape(0)));
  r.binary = true;
  if (r.steps()) std::memcpy(r.data(), a.data(), r.steps() * partita::kPitches);
  return r;
}

}  // namespace

namespace partita::py_bind {
PianoRoll model_roll_from_python(const py::object& roll, const char* who) { return roll_from_python(roll, who); }
}  // namespace partita::py_bind

// Results of the loaders, as typed records (attribute access; also rec["name"]).
struct JsbSplits {
  py::list train, valid, test;
};
struct FolderWindows {
  WindowSet windows;
  std::vector<std::string> used, skipped;
};

PARTITA_BIND(data, 50) {
  py::class_<WindowSet>(m, "WindowSet",
                        "Fixed-size (steps x 128) binary piano-roll windows: the AR-CNN's training data.")
      .def(py::init([](const py::array& arr) {
             auto a = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(
                 arr.attr("__ne__")(0));
             if (!a || a.ndim() != 3 || a.shape(2) != static_cast<py::ssize_t>(kPitches))
               throw ShapeError("WindowSet: expected an (n, steps, 128) array");
             WindowSet w(a.shape(1));
             for (py::ssize_t i = 0; i < a.shape(0); ++i) w.push(a.data(i, 0, 0));
             return w;
           }),
           "array"_a, "Windows from an (n, steps, 128) array (nonzero = note).")
      .def_property_readonly("steps", &WindowSet::steps)
      .def("__len__", &WindowSet::count)
      .def_property_readonly("array", [](const WindowSet& w) {
        py::array_t<std::uint8_t> a({static_cast<py::ssize_t>(w.count()),
                                     static_cast<py::ssize_t>(w.steps()), py::ssize_t(kPitches)});
        if (w.count()) std::memcpy(a.mutable_data(), w.window(0), static_cast<size_t>(w.count() * w.window_cells()));
        return a;
      }, "All windows as an (n, steps, 128) uint8 array (a copy).")
      .def("__repr__", [](const WindowSet& w) {
        return "WindowSet(" + std::to_string(w.count()) + " windows of " + std::to_string(w.steps()) + " steps)";
      });

  py::class_<JsbSplits> jsb_cls(m, "JsbSplits",
                                 "The JSB chorales' standard split: train, valid and test, each a list of "
                                 "(time, 128) uint8 arrays (voices merged, 16th-note grid).");
  jsb_cls.def_readonly("train", &JsbSplits::train, "229 chorales")
      .def_readonly("valid", &JsbSplits::valid, "76 chorales")
      .def_readonly("test", &JsbSplits::test, "77 chorales")
      .def("__repr__", [](const JsbSplits& j) {
        return "JsbSplits(train=" + std::to_string(py::len(j.train)) + ", valid=" + std::to_string(py::len(j.valid)) +
               ", test=" + std::to_string(py::len(j.test)) + " chorales)";
      });
  py_bind::mapping_access(jsb_cls);
  py::class_<FolderWindows> fw_cls(m, "FolderWindows", "Windows cut from a folder of MIDI files.");
  fw_cls.def_readonly("windows", &FolderWindows::windows, "the WindowSet")
      .def_readonly("used", &FolderWindows::used, "files that gave notes")
      .def_readonly("skipped", &FolderWindows::skipped, "files skipped, as 'path: reason'")
      .def("__iter__",
           [](const py::object& self) {
             return py::iter(py::make_tuple(self.attr("windows"), self.attr("used"), self.attr("skipped")));
           })
      .def("__repr__", [](const FolderWindows& f) {
        return "FolderWindows(" + std::to_string(f.windows.count()) + " windows, " + std::to_string(f.used.size()) +
               " files used, " + std::to_string(f.skipped.size()) + " skipped)";
      });
  py_bind::mapping_access(fw_cls);
  m.def(
      "load_jsb_chorales",
      [](const std::optional<py_bind::PathArg>& path) {
        std::string p = path ? path->str : default_jsb_path();
        JsbChorales j;
        {
          py::gil_scoped_release rel;
          j = load_jsb_chorales(p);
        }
        auto conv = [](const std::vector<PianoRoll>& rs) {
          py::list l;
          for (const auto& r : rs) l.append(roll_array(r));
          return l;
        };
        return JsbSplits{conv(j.train), conv(j.valid), conv(j.test)};
      },
      "path"_a = py::none(),
      "The JSB chorales (the bundled file by default) as a JsbSplits (train, valid, test).");
  m.def("default_jsb_path", &default_jsb_path, "Path of the bundled Jsb16thSeparated.json.");
  m.def(
      "make_windows",
      [](const py::list& rolls, std::int64_t window, std::int64_t hop) {
        std::vector<PianoRoll> rs;
        for (auto r : rolls) rs.push_back(roll_from_python(py::reinterpret_borrow<py::object>(r), "make_windows"));
        return make_windows(rs, window, hop);
      },
      "rolls"_a, "window"_a = 128, "hop"_a = 64,
      "Cut rolls (partita.PianoRoll or (time, 128) arrays; non-zero = note) into windows every `hop` "
      "steps (short rolls padded, empty windows skipped).");
  m.def(
      "jsb_windows",
      [](const std::string& split, const std::optional<py_bind::PathArg>& path, std::int64_t window,
         std::int64_t hop) {
        std::string p = path ? path->str : default_jsb_path();
        py::gil_scoped_release rel;
        JsbChorales j = load_jsb_chorales(p);
        if (split == "train") return make_windows(j.train, window, hop);
        if (split == "valid") return make_windows(j.valid, window, hop);
        if (split == "test") return make_windows(j.test, window, hop);
        throw InvalidArgument("jsb_windows: split must be train, valid or test, got \"" + split + "\"");
      },
      "split"_a = "train", "path"_a = py::none(), "window"_a = 128, "hop"_a = 64,
      "Windows of one split of the JSB chorales.");
  m.def(
      "midi_folder_windows",
      [](const py_bind::PathArg& folder, std::int64_t window, std::int64_t hop) {
        const std::string& f = folder.str;
        MidiFolderReport rep;
        WindowSet w;
        {
          py::gil_scoped_release rel;
          w = make_windows(load_midi_folder(f, 4, &rep), window, hop);
        }
        return FolderWindows{std::move(w), std::move(rep.used), std::move(rep.skipped)};
      },
      "folder"_a, "window"_a = 128, "hop"_a = 64,
      "Windows from every MIDI file under `folder`: a FolderWindows (windows, used files, skipped "
      "'path: reason'); unpacks as a 3-tuple too.");
  m.def("split_windows", &split_windows, "windows"_a, "valid_fraction"_a = 0.1, "seed"_a = 0,
        "Seeded random (train, valid) split of a WindowSet.");

  py::class_<PairBatcher>(m, "PairBatcher",
                          "Shuffled batches of AR-CNN training pairs (input, label) from windows.")
      .def(py::init([](const WindowSet& w, int variants, double min_add, double max_add, int transpose,
                       std::uint64_t seed, bool shuffle) {
             PairOptions o;
             o.variants = variants;
             o.min_add_fraction = min_add;
             o.max_add_fraction = max_add;
             o.max_transpose = transpose;
             return std::make_unique<PairBatcher>(w, o, seed, shuffle);
           }),
           "windows"_a, "variants"_a = 8, "min_add_fraction"_a = 0.01, "max_add_fraction"_a = 0.015,
           "max_transpose"_a = 0, "seed"_a = 0, "shuffle"_a = true, py::keep_alive<1, 2>())
      .def_property_readonly("pairs_per_epoch", &PairBatcher::pairs_per_epoch)
      .def("batches_per_epoch", &PairBatcher::batches_per_epoch, "batch_size"_a)
      .def("start_epoch", &PairBatcher::start_epoch, "epoch"_a)
      .def(
          "batch",
          [](PairBatcher& b, std::int64_t index, std::int64_t batch_size) {
            Tensor x, y;
            {
              py::gil_scoped_release rel;
              b.batch(index, batch_size, x, y);
            }
            auto to_np = [](const Tensor& t) {
              py::array_t<float> a({static_cast<py::ssize_t>(t.dim(0)), static_cast<py::ssize_t>(t.dim(1)),
                                    static_cast<py::ssize_t>(t.dim(2))});
              std::memcpy(a.mutable_data(), t.data(), sizeof(float) * static_cast<size_t>(t.size()));
              return a;
            };
            return py::make_tuple(to_np(x), to_np(y));
          },
          "index"_a, "batch_size"_a,
          "Batch `index` of the current epoch: (input, label), float32 arrays (n, steps, 128).");
}

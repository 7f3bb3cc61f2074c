// AR-CNN bindings: the model (construct, load, save, forward, loss), editing of
// Scores and rolls, and fit with Python callbacks. Long calls release the GIL;
// callbacks take it back only while they run. The Python-side conveniences
// (tqdm progress, pretrained() from the package data) are in partita/arcnn.py.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>

#include "partita/core/error.hpp"
#include "partita/models/arcnn.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::models;

namespace partita::py_bind {
py::array_t<std::uint8_t> binary_roll_to_array(const data::BinaryRoll& r);
data::BinaryRoll binary_roll_from_array(const py::array& a, const char* who);
}  // namespace partita::py_bind

namespace {

std::string fspath(const py::object& path) {
  return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

EditControls controls(double max_remove_pct, int max_add, int iterations, double creative_risk,
                      std::uint64_t seed) {
  EditControls c;
  c.max_remove_pct = max_remove_pct;
  c.max_add = max_add;
  c.iterations = iterations;
  c.creative_risk = creative_risk;
  c.seed = seed;
  c.validate("ARCNN.edit");
  return c;
}

py::dict config_dict(const ArcnnConfig& c) {
  return py::dict("levels"_a = c.levels, "base_filters"_a = c.base_filters,
                  "bottleneck_filters"_a = c.bottleneck(), "dropout"_a = c.dropout,
                  "bn_momentum"_a = c.bn_momentum);
}

py::list stats_list(const std::vector<EditStats>& st) {
  py::list l;
  for (const auto& s : st)
    l.append(py::dict("iterations_run"_a = s.iterations_run, "removed"_a = s.removed,
                      "added"_a = s.added, "stopped_early"_a = s.stopped_early));
  return l;
}

Tensor nhwc_from(const py::array& arr, const char* who) {
  auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
  if (!a || a.ndim() != 3)
    throw ShapeError(std::string(who) + ": expected a float array (n, steps, 128)");
  Tensor t({a.shape(0), a.shape(1), a.shape(2), 1});
  std::memcpy(t.data(), a.data(), sizeof(float) * static_cast<size_t>(t.size()));
  return t;
}

}  // namespace

PARTITA_BIND(arcnn, 60) {
  py::class_<ARCNN>(m, "ARCNN", R"doc(The AR-CNN melody editor (a U-Net over 128 x 128 piano-roll windows).

ARCNN(levels=4, base_filters=16, bottleneck_filters=0, dropout=0.5, bn_momentum=0.9,
seed=0): a fresh network (the shipped compact default; levels=5, base_filters=32,
bn_momentum=0.99 is the reference's 31.5M-parameter network). ARCNN.pretrained() loads the shipped model,
ARCNN.load(path) any saved one. edit() rewrites a melody; fit() trains.)doc")
      .def(py::init([](int levels, int base_filters, int bottleneck_filters, float dropout,
                       float bn_momentum, std::uint64_t seed) {
             ArcnnConfig c{levels, base_filters, bottleneck_filters, dropout, bn_momentum};
             py::gil_scoped_release rel;
             return std::make_unique<ARCNN>(c, seed);
           }),
           "levels"_a = 4, "base_filters"_a = 16, "bottleneck_filters"_a = 0, "dropout"_a = 0.5f,
           "bn_momentum"_a = 0.9f, "seed"_a = 0)
      .def_static(
          "load",
          [](const py::object& path) {
            std::string p = fspath(path);
            py::gil_scoped_release rel;
            return std::make_unique<ARCNN>(ARCNN::load(p));
          },
          "path"_a, "A network rebuilt from a weights file's config and loaded with its weights.")
      .def_static("default_weights_path", &ARCNN::default_weights_path,
                  "Where the C++ side finds the shipped model: $PARTITA_ARCNN_WEIGHTS, next to the "
                  "program, the install data dir, then the source tree.")
      .def(
          "save",
          [](const ARCNN& m, const py::object& path, const std::map<std::string, std::string>& metadata) {
            std::vector<std::pair<std::string, std::string>> md(metadata.begin(), metadata.end());
            std::string p = fspath(path);
            py::gil_scoped_release rel;
            m.save(p, md);
          },
          "path"_a, "metadata"_a = std::map<std::string, std::string>{},
          "Save weights (PyTorch twin's layout) and config to a safetensors file, atomically.")
      .def("load_weights", [](ARCNN& m, const py::object& path) { m.load_weights(fspath(path)); }, "path"_a)
      .def_property_readonly("config", [](const ARCNN& m) { return config_dict(m.config()); })
      .def_property_readonly("parameter_count", &ARCNN::parameter_count, "trainable parameters")
      .def_property("training", &ARCNN::training, &ARCNN::set_training,
                    "train mode (dropout on, batch statistics) or eval mode")
      .def(
          "forward",
          [](ARCNN& m, const py::array& x) {
            Tensor t = nhwc_from(x, "ARCNN.forward");
            Tensor y;
            {
              py::gil_scoped_release rel;
              y = m.forward(t);  // deep copy of the member buffer
            }
            py::array_t<float> out({static_cast<py::ssize_t>(y.dim(0)), static_cast<py::ssize_t>(y.dim(1)),
                                    static_cast<py::ssize_t>(y.dim(2))});
            std::memcpy(out.mutable_data(), y.data(), sizeof(float) * static_cast<size_t>(y.size()));
            return out;
          },
          "x"_a, "Logits (n, steps, 128) for rolls (n, steps, 128) in the current mode.")
      .def(
          "loss",
          [](ARCNN& m, const py::array& x, const py::array& label) {
            Tensor a = nhwc_from(x, "ARCNN.loss"), b = nhwc_from(label, "ARCNN.loss");
            py::gil_scoped_release rel;
            return m.evaluate_loss(a, b);
          },
          "x"_a, "label"_a, "KL loss (per-sample, batch mean) in eval mode, no gradients.")
      .def(
          "edit",
          [](ARCNN& m, const Score& melody, double max_remove_pct, int max_add, int iterations,
             double creative_risk, std::uint64_t seed, int track, bool return_stats) -> py::object {
            EditControls c = controls(max_remove_pct, max_add, iterations, creative_risk, seed);
            std::vector<EditStats> st;
            Score out;
            {
              py::gil_scoped_release rel;
              out = m.edit(melody, c, track, &st);
            }
            if (return_stats) return py::make_tuple(out, stats_list(st));
            return py::cast(out);
          },
          "melody"_a, "max_remove_pct"_a = 100.0, "max_add"_a = 500, "iterations"_a = 100,
          "creative_risk"_a = 1.0, "seed"_a = 0, "track"_a = -1, "return_stats"_a = false,
          R"doc(Rewrite `track` of `melody` (-1: the first track with notes) as the Music Studio does.

max_remove_pct: maximum input notes to remove (%), max_add: maximum notes to add,
iterations: sampling iterations (one toggle each), creative_risk: temperature.
Inputs longer than 8 bars are edited window by window, shorter ones padded. Returns a
Score with the input's tempo map, meters, program and timing and one track at velocity
100 (and per-window statistics with return_stats=True).)doc")
      .def(
          "edit_roll",
          [](ARCNN& m, const py::array& roll, double max_remove_pct, int max_add, int iterations,
             double creative_risk, std::uint64_t seed) {
            EditControls c = controls(max_remove_pct, max_add, iterations, creative_risk, seed);
            data::BinaryRoll r = py_bind::binary_roll_from_array(roll, "ARCNN.edit_roll");
            data::BinaryRoll out;
            {
              py::gil_scoped_release rel;
              out = m.edit_roll(r, c);
            }
            return py_bind::binary_roll_to_array(out);
          },
          "roll"_a, "max_remove_pct"_a = 100.0, "max_add"_a = 500, "iterations"_a = 100,
          "creative_risk"_a = 1.0, "seed"_a = 0,
          "Edit a (time, 128) binary roll on the 16th-note grid; returns a uint8 roll of the same shape.")
      .def(
          "_fit",
          [](ARCNN& m, const data::WindowSet& train, const data::WindowSet& valid, int epochs,
             std::int64_t batch_size, double lr, std::uint64_t seed, int variants, int transpose,
             const std::string& checkpoint_dir, bool resume, std::int64_t max_steps_per_epoch,
             std::int64_t max_valid_batches, py::object on_step, py::object on_epoch) {
            ArcnnFitOptions o;
            o.epochs = epochs;
            o.batch_size = batch_size;
            o.lr = lr;
            o.seed = seed;
            o.pairs.variants = variants;
            o.pairs.max_transpose = transpose;
            o.checkpoint_dir = checkpoint_dir;
            o.resume = resume;
            o.max_steps_per_epoch = max_steps_per_epoch;
            o.max_valid_batches = max_valid_batches;
            FitCallbacks cb;
            cb.on_step = [&](const StepInfo& s) {
              py::gil_scoped_acquire gil;
              if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // Ctrl-C
              if (on_step.is_none()) return true;
              py::object r = on_step(py::dict("epoch"_a = s.epoch, "step"_a = s.step,
                                               "steps_in_epoch"_a = s.steps_in_epoch,
                                               "global_step"_a = s.global_step, "loss"_a = s.loss));
              return r.is_none() || r.cast<bool>();
            };
            cb.on_epoch = [&](const EpochInfo& e) {
              if (on_epoch.is_none()) return;
              py::gil_scoped_acquire gil;
              on_epoch(py::dict("epoch"_a = e.epoch, "train_loss"_a = e.train_loss,
                                "valid_loss"_a = e.valid_loss, "best"_a = e.best, "seconds"_a = e.seconds));
            };
            FitResult r;
            {
              py::gil_scoped_release rel;
              r = m.fit(train, valid, o, cb);
            }
            py::list hist;
            for (const auto& e : r.history)
              hist.append(py::dict("epoch"_a = e.epoch, "train_loss"_a = e.train_loss,
                                   "valid_loss"_a = e.valid_loss, "best"_a = e.best, "seconds"_a = e.seconds));
            return py::dict("history"_a = hist, "best_valid_loss"_a = r.best_valid_loss,
                            "best_epoch"_a = r.best_epoch, "stopped"_a = r.stopped);
          },
          "train"_a, "valid"_a, "epochs"_a, "batch_size"_a, "lr"_a, "seed"_a, "variants"_a,
          "transpose"_a, "checkpoint_dir"_a, "resume"_a, "max_steps_per_epoch"_a,
          "max_valid_batches"_a, "on_step"_a, "on_epoch"_a,
          "Low-level fit (see partita.arcnn.fit, which adds the progress bar).")
      .def("__repr__", [](const ARCNN& m) {
        return "ARCNN(config=" + m.config().to_json() + ", parameters=" +
               std::to_string(m.parameter_count()) + ")";
      });
}

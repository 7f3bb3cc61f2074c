// AR-CNN bindings: the model (construct, load, pretrained, save, forward, loss),
// its config, editing of Scores and rolls with EditControls, and fit with
// Python callbacks and a progress bar (partita/_progress.py, imported when
// fit runs with progress=True). Defaults shown to Python come from the C++
// structs (ArcnnConfig::compact(), ArcnnFitOptions, EditControls). Long calls
// release the GIL; callbacks take it back only while they run.
#include <optional>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "partita/core/error.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/music/pianoroll.hpp"
#include "fit_hooks.hpp"
#include "model_rolls.hpp"
#include "path_arg.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::models;

namespace {


EditControls controls(double max_remove_pct, int max_add, int iterations, double creative_risk,
                      std::uint64_t seed, int resolve_iterations, bool keep_input_fragments) {
  EditControls c;
  c.resolve_iterations = resolve_iterations;
  c.keep_input_fragments = keep_input_fragments;
  c.max_remove_pct = max_remove_pct;
  c.max_add = max_add;
  c.iterations = iterations;
  c.creative_risk = creative_risk;
  c.seed = seed;
  c.validate("ARCNN.edit");
  return c;
}

std::string fnum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
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
  const ArcnnConfig dc = ArcnnConfig::compact();
  const ArcnnFitOptions df;
  const EditControls de;

  auto config_cls = py::class_<ArcnnConfig>(m, "ArcnnConfig", R"doc(AR-CNN architecture: levels, base_filters,
bottleneck_filters (0: base_filters * 2**levels), dropout, bn_momentum (Keras convention).
ArcnnConfig() is the shipped compact default; ArcnnConfig.reference() the reference's 31.5M-parameter network.)doc")
      .def(py::init([](int levels, int base_filters, int bottleneck_filters, float dropout, float bn_momentum) {
             ArcnnConfig c{levels, base_filters, bottleneck_filters, dropout, bn_momentum};
             c.validate("ArcnnConfig");
             return c;
           }),
           "levels"_a = dc.levels, "base_filters"_a = dc.base_filters, "bottleneck_filters"_a = dc.bottleneck_filters,
           "dropout"_a = dc.dropout, "bn_momentum"_a = dc.bn_momentum)
      .def_static("compact", &ArcnnConfig::compact)
      .def_static("reference", &ArcnnConfig::reference)
      .def_readwrite("levels", &ArcnnConfig::levels)
      .def_readwrite("base_filters", &ArcnnConfig::base_filters)
      .def_property("bottleneck_filters", &ArcnnConfig::bottleneck,
                    [](ArcnnConfig& c, int v) { c.bottleneck_filters = v; })
      .def_readwrite("dropout", &ArcnnConfig::dropout)
      .def_readwrite("bn_momentum", &ArcnnConfig::bn_momentum)
      .def("to_json", &ArcnnConfig::to_json)
      .def("__eq__", [](const ArcnnConfig& a, const ArcnnConfig& b) { return a == b; })
      .def("__repr__", [](const ArcnnConfig& c) { return "ArcnnConfig(" + c.to_json() + ")"; });
  py_bind::mapping_access(config_cls);

  auto controls_cls =
      py::class_<EditControls>(m, "EditControls", R"doc(The Music Studio's edit controls plus the seed.

max_remove_pct: maximum input notes to remove (%, 0..100), max_add: maximum notes to add,
iterations: sampling iterations (one toggle each), creative_risk: softmax temperature (0, 100],
resolve_iterations: most toggles of the closing pass after the iterations, which removes or
lengthens the one-16th notes left in the output (0: off; it stops when none is left),
keep_input_fragments: the closing pass leaves the input's own one-16th notes alone.
EditControls() holds the defaults ARCNN.edit and both command lines use.)doc")
          .def(py::init([](double max_remove_pct, int max_add, int iterations, double creative_risk,
                           std::uint64_t seed, int resolve_iterations, bool keep_input_fragments) {
                 return controls(max_remove_pct, max_add, iterations, creative_risk, seed, resolve_iterations,
                                 keep_input_fragments);
               }),
               "max_remove_pct"_a = de.max_remove_pct, "max_add"_a = de.max_add, "iterations"_a = de.iterations,
               "creative_risk"_a = de.creative_risk, "seed"_a = de.seed,
               "resolve_iterations"_a = de.resolve_iterations, "keep_input_fragments"_a = de.keep_input_fragments)
          .def_readwrite("max_remove_pct", &EditControls::max_remove_pct)
          .def_readwrite("max_add", &EditControls::max_add)
          .def_readwrite("iterations", &EditControls::iterations)
          .def_readwrite("creative_risk", &EditControls::creative_risk)
          .def_readwrite("seed", &EditControls::seed)
          .def_readwrite("resolve_iterations", &EditControls::resolve_iterations)
          .def_readwrite("keep_input_fragments", &EditControls::keep_input_fragments)
          .def("__repr__", [](const EditControls& c) {
            return "EditControls(max_remove_pct=" + fnum(c.max_remove_pct) + ", max_add=" + std::to_string(c.max_add) +
                   ", iterations=" + std::to_string(c.iterations) + ", creative_risk=" + fnum(c.creative_risk) +
                   ", seed=" + std::to_string(c.seed) +
                   ", resolve_iterations=" + std::to_string(c.resolve_iterations) +
                   ", keep_input_fragments=" + (c.keep_input_fragments ? "True" : "False") + ")";
          });
  py_bind::mapping_access(controls_cls);

  auto stats_cls = py::class_<EditStats>(m, "EditStats", "What one window's edit did.")
                       .def_readonly("iterations_run", &EditStats::iterations_run,
                                     "toggles made in the requested iterations")
                       .def_readonly("resolve_run", &EditStats::resolve_run, "toggles made by the closing pass")
                       .def_readonly("removed", &EditStats::removed, "original notes removed (final count)")
                       .def_readonly("added", &EditStats::added, "notes added (final count)")
                       .def_readonly("stopped_early", &EditStats::stopped_early,
                                     "every cell was masked before the last iteration")
                       .def("__repr__", [](const EditStats& s) {
                         return "EditStats(iterations_run=" + std::to_string(s.iterations_run) +
                                ", resolve_run=" + std::to_string(s.resolve_run) +
                                ", removed=" + std::to_string(s.removed) + ", added=" + std::to_string(s.added) +
                                (s.stopped_early ? ", stopped_early=True" : "") + ")";
                       });
  py_bind::mapping_access(stats_cls);

  py::class_<ArcnnFitOptions>(m, "ArcnnFitOptions", R"doc(The defaults of ARCNN.fit (and `partita train arcnn`).

Loop: epochs, max_steps (0: no step budget), max_steps_per_epoch (0: whole epochs), seed,
checkpoint_dir, resume. AR-CNN: batch_size, lr, variants (corrupted pairs per window and
epoch), transpose (random transposition, +- semitones), max_valid_batches (0: all),
bn_recalibration_batches (BatchNorm statistics re-estimated before each validation).)doc")
      .def(py::init<>())
      .def_readwrite("epochs", &ArcnnFitOptions::epochs)
      .def_readwrite("max_steps", &ArcnnFitOptions::max_steps)
      .def_readwrite("max_steps_per_epoch", &ArcnnFitOptions::max_steps_per_epoch)
      .def_readwrite("seed", &ArcnnFitOptions::seed)
      .def_readwrite("checkpoint_dir", &ArcnnFitOptions::checkpoint_dir)
      .def_readwrite("resume", &ArcnnFitOptions::resume)
      .def_readwrite("batch_size", &ArcnnFitOptions::batch_size)
      .def_readwrite("lr", &ArcnnFitOptions::lr)
      .def_property(
          "variants", [](const ArcnnFitOptions& o) { return o.pairs.variants; },
          [](ArcnnFitOptions& o, int v) { o.pairs.variants = v; })
      .def_property(
          "transpose", [](const ArcnnFitOptions& o) { return o.pairs.max_transpose; },
          [](ArcnnFitOptions& o, int v) { o.pairs.max_transpose = v; })
      .def_readwrite("max_valid_batches", &ArcnnFitOptions::max_valid_batches)
      .def_readwrite("bn_recalibration_batches", &ArcnnFitOptions::bn_recalibration_batches)
      .def("__repr__", [](const ArcnnFitOptions& o) {
        return "ArcnnFitOptions(epochs=" + std::to_string(o.epochs) + ", batch_size=" + std::to_string(o.batch_size) +
               ", lr=" + fnum(o.lr) + ", seed=" + std::to_string(o.seed) + ", variants=" +
               std::to_string(o.pairs.variants) + ", transpose=" + std::to_string(o.pairs.max_transpose) + ", ...)";
      });

  py::class_<ARCNN>(m, "ARCNN", R"doc(The AR-CNN melody editor (a U-Net over 128 x 128 piano-roll windows).

ARCNN(levels=4, base_filters=16, bottleneck_filters=0, dropout=0.5, bn_momentum=0.9,
seed=0): a fresh network in training mode (the shipped compact default, ArcnnConfig();
levels=5, base_filters=32, bn_momentum=0.99 is the reference's 31.5M-parameter network).
ARCNN.pretrained() loads the shipped model, ARCNN.load(path) any saved one, both in eval
mode. edit() rewrites a melody; fit() trains.)doc")
      .def(py::init([](int levels, int base_filters, int bottleneck_filters, float dropout,
                       float bn_momentum, std::uint64_t seed) {
             ArcnnConfig c{levels, base_filters, bottleneck_filters, dropout, bn_momentum};
             py::gil_scoped_release rel;
             return std::make_unique<ARCNN>(c, seed);
           }),
           "levels"_a = dc.levels, "base_filters"_a = dc.base_filters, "bottleneck_filters"_a = dc.bottleneck_filters,
           "dropout"_a = dc.dropout, "bn_momentum"_a = dc.bn_momentum, "seed"_a = 0)
      .def_static(
          "load",
          [](const py_bind::PathArg& path) {
            py::gil_scoped_release rel;
            return std::make_unique<ARCNN>(ARCNN::load(path.str));
          },
          "path"_a, "A network rebuilt from a model file's config and loaded with its weights, in eval mode.")
      .def_static(
          "pretrained",
          [](const std::string& name) {
            py::gil_scoped_release rel;
            return std::make_unique<ARCNN>(ARCNN::pretrained(name));
          },
          "name"_a = "arcnn-default",
          "A shipped model by name (partita.models_available()), in eval mode. The file is found as "
          "partita.shipped_model_path(name) says: $PARTITA_ARCNN_WEIGHTS, next to the library, the "
          "install data dir, then the source tree.")
      .def_static("default_weights_path", &ARCNN::default_weights_path,
                  "Where the shipped default model is: $PARTITA_ARCNN_WEIGHTS, next to the "
                  "program, the install data dir, then the source tree.")
      .def_property_readonly_static("DEFAULTS", [](const py::object&) { return ArcnnFitOptions(); },
                                    "ArcnnFitOptions(): the defaults of fit()")
      .def(
          "save",
          [](const ARCNN& m, const py_bind::PathArg& path, const std::map<std::string, std::string>& metadata) {
            std::vector<std::pair<std::string, std::string>> md(metadata.begin(), metadata.end());
            py::gil_scoped_release rel;
            m.save(path.str, md);
          },
          "path"_a, "metadata"_a = std::map<std::string, std::string>{},
          "Save a model file (PyTorch twin's layout, kind, version, config) atomically.")
      .def(
          "load_weights",
          [](ARCNN& m, const py_bind::PathArg& path) {
            py::gil_scoped_release rel;
            m.load_weights(path.str);
          },
          "path"_a, "Load a model file's weights into this network (WeightsError if its config differs).")
      .def_property_readonly("config", &ARCNN::config, "the ArcnnConfig")
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
             double creative_risk, std::uint64_t seed, int track, bool return_stats,
             int resolve_iterations, bool keep_input_fragments) -> py::object {
            EditControls c = controls(max_remove_pct, max_add, iterations, creative_risk, seed, resolve_iterations,
                                      keep_input_fragments);
            std::vector<EditStats> st;
            Score out;
            {
              py::gil_scoped_release rel;
              out = m.edit(melody, c, track, &st);
            }
            if (return_stats) return py::make_tuple(out, st);
            return py::cast(out);
          },
          "melody"_a, "max_remove_pct"_a = de.max_remove_pct, "max_add"_a = de.max_add,
          "iterations"_a = de.iterations, "creative_risk"_a = de.creative_risk, "seed"_a = de.seed,
          "track"_a = -1, "return_stats"_a = false, "resolve_iterations"_a = de.resolve_iterations,
          "keep_input_fragments"_a = de.keep_input_fragments,
          R"doc(Rewrite `track` of `melody` (-1: the first track with notes) as the Music Studio does.

max_remove_pct: maximum input notes to remove (%), max_add: maximum notes to add,
iterations: sampling iterations (one toggle each), creative_risk: temperature,
resolve_iterations: most toggles of the closing pass on the one-16th notes left in the output,
keep_input_fragments: that pass leaves the input's own one-16th notes alone
(defaults: partita.EditControls()). Inputs longer than 8 bars are edited window by window, shorter
ones padded. Returns a Score with the input's tempo map, meters, program and timing and one
track at velocity 100 (and a list of EditStats, one per window, with return_stats=True).)doc")
      .def(
          "edit_roll",
          [](ARCNN& m, const py::object& roll, double max_remove_pct, int max_add, int iterations,
             double creative_risk, std::uint64_t seed, int resolve_iterations, bool keep_input_fragments) {
            EditControls c = controls(max_remove_pct, max_add, iterations, creative_risk, seed, resolve_iterations,
                                      keep_input_fragments);
            const PianoRoll r = py_bind::model_roll_from_python(roll, "ARCNN.edit_roll");
            PianoRoll out;
            {
              py::gil_scoped_release rel;
              out = m.edit_roll(r, c);
            }
            return out;
          },
          "roll"_a, "max_remove_pct"_a = de.max_remove_pct, "max_add"_a = de.max_add, "iterations"_a = de.iterations,
          "creative_risk"_a = de.creative_risk, "seed"_a = de.seed,
          "resolve_iterations"_a = de.resolve_iterations, "keep_input_fragments"_a = de.keep_input_fragments,
          "Edit a roll on the 16th-note grid: a partita.PianoRoll of resolution 4 (another resolution "
          "raises InvalidArgument) or a (time, 128) array (non-zero = note). Returns a new binary "
          "PianoRoll of the same length (resolution 4, the input roll's tempo, meter and track info).")
      .def(
          "fit",
          [](ARCNN& m, const data::WindowSet& train, const py::object& valid, int epochs, std::int64_t batch_size,
             double lr, std::uint64_t seed, int variants, int transpose, const std::optional<py_bind::PathArg>& checkpoint_dir,
             bool resume, std::int64_t max_steps_per_epoch, std::int64_t max_steps, std::int64_t max_valid_batches,
             std::int64_t bn_recalibration_batches, py::object callback, py::object on_epoch, bool progress) {
            ArcnnFitOptions o;
            o.epochs = epochs;
            o.batch_size = batch_size;
            o.lr = lr;
            o.seed = seed;
            o.pairs.variants = variants;
            o.pairs.max_transpose = transpose;
            o.checkpoint_dir = checkpoint_dir ? checkpoint_dir->str : std::string();
            o.resume = resume;
            o.max_steps_per_epoch = max_steps_per_epoch;
            o.max_steps = max_steps;
            o.max_valid_batches = max_valid_batches;
            o.bn_recalibration_batches = bn_recalibration_batches;
            data::WindowSet empty(train.steps());
            const data::WindowSet& v = valid.is_none() ? empty : valid.cast<const data::WindowSet&>();
            py_bind::FitHooks hooks(progress, std::move(callback), std::move(on_epoch));
            FitCallbacks cb;
            hooks.install(cb);
            return hooks.run([&] { return m.fit(train, v, o, cb); });
          },
          "train"_a, "valid"_a = py::none(), py::kw_only(), "epochs"_a = df.epochs, "batch_size"_a = df.batch_size,
          "lr"_a = df.lr, "seed"_a = df.seed, "variants"_a = df.pairs.variants, "transpose"_a = df.pairs.max_transpose,
          "checkpoint_dir"_a = py::none(), "resume"_a = df.resume, "max_steps_per_epoch"_a = df.max_steps_per_epoch,
          "max_steps"_a = df.max_steps, "max_valid_batches"_a = df.max_valid_batches,
          "bn_recalibration_batches"_a = df.bn_recalibration_batches, "callback"_a = py::none(),
          "on_epoch"_a = py::none(), "progress"_a = true,
          R"doc(Train on `train` windows (a WindowSet), validating on `valid` each epoch.

Runs in training mode and restores the model's mode afterwards; the C++ loop runs without
the GIL. callback(StepInfo) is called after every optimizer step (return False to stop);
on_epoch(EpochInfo) after every epoch. With `checkpoint_dir`, last/best model files and the
optimizer state are written atomically each epoch; resume=True continues from them exactly.
progress=True shows a tqdm bar. Defaults: ARCNN.DEFAULTS. Returns a FitResult.)doc")
      .def("__repr__", [](const ARCNN& m) {
        return "ARCNN(config=" + m.config().to_json() + ", parameters=" +
               std::to_string(m.parameter_count()) + (m.training() ? ", training" : ", eval") + ")";
      });
}

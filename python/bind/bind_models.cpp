// Model-kit bindings shared by every model: the training loop's records
// (StepInfo, EpochInfo, FitResult, typed, read-only, with readable reprs) and
// the registry of shipped models (models_available, shipped_model_path).
// Records also answer rec["field"] like the dicts earlier versions returned.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "partita/models/registry.hpp"
#include "partita/models/trainer.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita::models;

namespace {

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

py::dict losses_dict(const Losses& l) {
  py::dict d;
  for (const auto& [name, v] : l) d[py::str(name)] = v;
  return d;
}

std::string losses_repr(const Losses& l) {
  std::string s = "{";
  for (size_t i = 0; i < l.size(); ++i) s += (i ? ", '" : "'") + l[i].first + "': " + num(l[i].second);
  return s + "}";
}

}  // namespace

PARTITA_BIND(models, 55) {
  auto step = py::class_<StepInfo>(m, "StepInfo", "One training step, as fit's per-step callback sees it.")
                  .def_readonly("epoch", &StepInfo::epoch, "0-based")
                  .def_readonly("step", &StepInfo::step, "within the epoch, 0-based")
                  .def_readonly("steps_in_epoch", &StepInfo::steps_in_epoch)
                  .def_readonly("global_step", &StepInfo::global_step, "steps so far, this one included")
                  .def_readonly("loss", &StepInfo::loss, "the main loss (the first of `losses`)")
                  .def_property_readonly("losses", [](const StepInfo& s) { return losses_dict(s.losses); },
                                         "every named loss of the step, e.g. {'loss': 0.8}")
                  .def("__repr__", [](const StepInfo& s) {
                    return "StepInfo(epoch=" + std::to_string(s.epoch) + ", step=" + std::to_string(s.step) + "/" +
                           std::to_string(s.steps_in_epoch) + ", global_step=" + std::to_string(s.global_step) +
                           ", losses=" + losses_repr(s.losses) + ")";
                  });
  partita::py_bind::mapping_access(step);
  auto epoch = py::class_<EpochInfo>(m, "EpochInfo", "One finished epoch of training.")
                   .def_readonly("epoch", &EpochInfo::epoch)
                   .def_readonly("steps", &EpochInfo::steps)
                   .def_readonly("train_loss", &EpochInfo::train_loss, "mean main loss over the epoch's steps")
                   .def_property_readonly("train_losses", [](const EpochInfo& e) { return losses_dict(e.train_losses); },
                                          "mean of every named loss")
                   .def_readonly("valid_loss", &EpochInfo::valid_loss, "NaN without validation")
                   .def_readonly("best", &EpochInfo::best, "a new best: saved as best.safetensors")
                   .def_readonly("seconds", &EpochInfo::seconds)
                   .def("__repr__", [](const EpochInfo& e) {
                     return "EpochInfo(epoch=" + std::to_string(e.epoch) + ", train_loss=" + num(e.train_loss) +
                            ", valid_loss=" + num(e.valid_loss) + (e.best ? ", best=True" : "") +
                            ", seconds=" + num(e.seconds) + ")";
                   });
  partita::py_bind::mapping_access(epoch);
  auto result = py::class_<FitResult>(m, "FitResult", "What fit() returns.")
                    .def_readonly("history", &FitResult::history, "list of EpochInfo, resumed epochs included")
                    .def_readonly("best_valid_loss", &FitResult::best_valid_loss)
                    .def_readonly("best_epoch", &FitResult::best_epoch, "-1 when no epoch finished")
                    .def_readonly("global_step", &FitResult::global_step)
                    .def_readonly("stopped", &FitResult::stopped, "a callback asked to stop")
                    .def("__repr__", [](const FitResult& r) {
                      return "FitResult(epochs=" + std::to_string(r.history.size()) +
                             ", best_valid_loss=" + num(r.best_valid_loss) + ", best_epoch=" +
                             std::to_string(r.best_epoch) + ", global_step=" + std::to_string(r.global_step) +
                             (r.stopped ? ", stopped=True" : "") + ")";
                    });
  partita::py_bind::mapping_access(result);

  py::class_<ShippedModel>(m, "ShippedModel", "A pretrained model shipped with partita (see models_available()).")
      .def_readonly("name", &ShippedModel::name)
      .def_readonly("aliases", &ShippedModel::aliases)
      .def_readonly("kind", &ShippedModel::kind, "model kind: 'arcnn', ...")
      .def_readonly("file", &ShippedModel::file)
      .def_readonly("env_var", &ShippedModel::env_var, "environment variable that overrides the file")
      .def_readonly("description", &ShippedModel::description)
      .def("__repr__", [](const ShippedModel& s) {
        return "ShippedModel(name='" + s.name + "', kind='" + s.kind + "', file='" + s.file + "')";
      });
  m.def("models_available", &shipped_models, py::return_value_policy::copy,
        "The pretrained models partita ships (name, aliases, kind, file); load one with "
        "e.g. partita.ARCNN.pretrained(name).");
  m.def("shipped_model_path", &shipped_model_path, "name"_a,
        "Where the file of a shipped model is: its environment variable, next to the library, "
        "the install data dir, then the source tree (IoError listing the places tried).");
}

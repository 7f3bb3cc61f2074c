// The Python side of a model's fit(): the tqdm bar (partita/_progress.py,
// imported only when progress=True) and the user's per-step and per-epoch
// callbacks, wired into the C++ loop's FitCallbacks. The loop runs without the
// GIL; each callback takes it back only while it runs. Ctrl-C stops the loop at
// the next step. Used by the models' bind files (bind_arcnn.cpp, bind_gan.cpp).
#pragma once
#include <pybind11/pybind11.h>

#include <utility>

#include "partita/models/trainer.hpp"

namespace partita::py_bind {

class FitHooks {
 public:
  /// on_step(StepInfo) may return False to stop; on_epoch(EpochInfo). Either may be None.
  FitHooks(bool progress, pybind11::object on_step, pybind11::object on_epoch)
      : bar_(progress ? pybind11::module_::import("partita._progress").attr("FitProgress")()
                      : pybind11::none()),
        on_step_(std::move(on_step)),
        on_epoch_(std::move(on_epoch)) {}

  /// Sets cb.on_step and cb.on_epoch (the hooks must outlive the fit).
  void install(models::FitCallbacks& cb) {
    namespace py = pybind11;
    cb.on_step = [this](const models::StepInfo& s) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // Ctrl-C
      if (!bar_.is_none()) bar_.attr("step")(s);
      if (on_step_.is_none()) return true;
      py::object r = on_step_(s);
      return r.is_none() || r.cast<bool>();
    };
    cb.on_epoch = [this](const models::EpochInfo& e) {
      py::gil_scoped_acquire gil;
      if (!bar_.is_none()) bar_.attr("epoch")(e);
      if (!on_epoch_.is_none()) on_epoch_(e);
    };
  }

  /// Runs fit() (a callable returning a FitResult) without the GIL; the bar is
  /// closed on every exit.
  template <class Fit>
  models::FitResult run(Fit&& fit) {
    models::FitResult r;
    try {
      pybind11::gil_scoped_release rel;
      r = fit();
    } catch (...) {
      close();
      throw;
    }
    close();
    return r;
  }

 private:
  void close() {
    if (!bar_.is_none()) bar_.attr("close")();
  }
  pybind11::object bar_, on_step_, on_epoch_;
};

}  // namespace partita::py_bind

// Record classes (StepInfo, EpochInfo, FitResult, EditStats, ...): attribute
// access is the API; rec["name"] also reads the attribute `name`, so code
// written against the dict results of partita 0.1 keeps working.
#pragma once
#include <string>

#include <pybind11/pybind11.h>

namespace partita::py_bind {

/// Adds __getitem__(key: str) -> object to `cls` (KeyError for names that are
/// not public attributes).
template <class C>
void mapping_access(C& cls) {
  namespace py = pybind11;
  cls.def(
      "__getitem__",
      [](const py::object& self, const std::string& key) -> py::object {
        if (!key.empty() && key[0] != '_' && py::hasattr(self, key.c_str())) return self.attr(key.c_str());
        throw py::key_error(key);
      },
      py::arg("key"));
}

}  // namespace partita::py_bind

// Registration of binding topics: each bind_*.cpp file says
//   PARTITA_BIND(music, 20) { ... m.def(...) ... }
// and module.cpp runs every registered function in order of priority (lower
// first; core types use priority 0 so later topics can refer to them).
#pragma once
#include <pybind11/pybind11.h>

#include <functional>
#include <vector>

namespace partita::py_bind {

struct Binder {
  int priority;
  const char* name;
  void (*fn)(pybind11::module_&);
};

std::vector<Binder>& binders();

struct Registrar {
  Registrar(int priority, const char* name, void (*fn)(pybind11::module_&)) {
    binders().push_back({priority, name, fn});
  }
};

}  // namespace partita::py_bind

#define PARTITA_BIND(topic, priority)                                          \
  static void partita_bind_##topic(pybind11::module_& m);                      \
  static ::partita::py_bind::Registrar partita_registrar_##topic(              \
      priority, #topic, &partita_bind_##topic);                                \
  static void partita_bind_##topic(pybind11::module_& m)

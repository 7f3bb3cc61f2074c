// PathArg: a file-system path argument for partita's bindings. It accepts a
// str or any os.PathLike whose os.fspath() is a str (pathlib.Path included)
// and shows as `str | os.PathLike[str]` in signatures, so the generated stubs
// type every path parameter the same way. Bytes paths are refused (TypeError),
// as the C++ side takes UTF-8 paths.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

namespace partita::py_bind {
struct PathArg {
  std::string str;
};
}  // namespace partita::py_bind

namespace pybind11::detail {
template <>
struct type_caster<partita::py_bind::PathArg> {
  PYBIND11_TYPE_CASTER(partita::py_bind::PathArg, const_name("str | os.PathLike[str]"));

  bool load(handle src, bool /*convert*/) {
    if (!src) return false;
    object path;
    if (PyUnicode_Check(src.ptr())) {
      path = reinterpret_borrow<object>(src);
    } else {
      PyObject* p = PyOS_FSPath(src.ptr());
      if (!p) {
        PyErr_Clear();
        return false;
      }
      path = reinterpret_steal<object>(p);
      if (!PyUnicode_Check(path.ptr())) return false;  // a bytes path
    }
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(path.ptr(), &size);
    if (!utf8) {
      PyErr_Clear();
      return false;
    }
    value.str.assign(utf8, static_cast<std::size_t>(size));
    return true;
  }

  static handle cast(const partita::py_bind::PathArg& p, return_value_policy, handle) {
    return str(p.str).release();
  }
};
}  // namespace pybind11::detail

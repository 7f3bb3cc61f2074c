// Token sequences across the binding: performance events and other token ids go
// to Python as 1-D numpy int32 arrays (copies) and come from anything numpy
// reads as a 1-D integer sequence (lists, tuples, arrays of any integer dtype).
// Used by the events, Transformer-XL data and Transformer-XL model bind files.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "partita/core/error.hpp"

namespace partita::py_bind {

/// A new int32 numpy array holding `v`.
inline pybind11::array_t<std::int32_t> token_array(const std::vector<std::int32_t>& v) {
  pybind11::array_t<std::int32_t> a(static_cast<pybind11::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), sizeof(std::int32_t) * v.size());
  return a;
}

/// `tokens` as ids: InvalidArgument (naming `who`) for a non-integer dtype,
/// ShapeError unless it is 1-D. Values beyond int32 are clamped (so they stay
/// out of any vocabulary and are reported as such by the callee).
inline std::vector<std::int32_t> tokens_from_python(const pybind11::handle& tokens, const std::string& who) {
  namespace py = pybind11;
  py::array obj = py::module_::import("numpy").attr("asarray")(tokens);
  if (obj.size() > 0 && obj.dtype().kind() != 'i' && obj.dtype().kind() != 'u')
    throw InvalidArgument(who + ": tokens must be integers, got dtype " + py::str(obj.dtype()).cast<std::string>());
  auto a = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a || a.ndim() != 1)
    throw ShapeError(who + ": tokens must be a 1-D integer sequence, got " + std::to_string(obj.ndim()) +
                     " dimensions");
  std::vector<std::int32_t> v(static_cast<std::size_t>(a.size()));
  const std::int64_t* p = a.data();
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::int32_t>(std::clamp<std::int64_t>(p[i], INT_MIN, INT_MAX));
  return v;
}

}  // namespace partita::py_bind

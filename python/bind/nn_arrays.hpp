// Parameters as numpy arrays that alias the C++ buffers (no copies), for the
// models' bind files: `param_array(p, owner)` is p.value with our in-memory
// shape and layout, writeable, whose numpy `base` is `owner` (the Python object
// that keeps the C++ model, hence the buffer, alive: usually the model or its
// ParameterSet wrapper). Writing into it changes the model's weights.
//
// Strides are given in bytes explicitly: pybind11 2.10 reads a dtype's item size
// from a C struct whose layout changed in numpy 2, so nothing here asks for it.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "partita/core/tensor.hpp"
#include "partita/nn/parameters.hpp"

namespace partita::py_bind {

/// A float32 numpy view of `data` with `shape` (C order), base `owner`.
inline pybind11::array float_view(float* data, const Shape& shape, pybind11::handle owner) {
  std::vector<pybind11::ssize_t> dims(shape.begin(), shape.end());
  std::vector<pybind11::ssize_t> strides(dims.size());
  pybind11::ssize_t s = static_cast<pybind11::ssize_t>(sizeof(float));
  for (std::size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  return pybind11::array(pybind11::dtype::of<float>(), dims, strides, data, owner);
}

/// The parameter's value as a writeable numpy view (our in-memory layout).
inline pybind11::array param_array(nn::Parameter& p, pybind11::handle owner) {
  return float_view(p.value.data(), p.shape, owner);
}

/// The parameter's gradient as a writeable numpy view.
inline pybind11::array grad_array(nn::Parameter& p, pybind11::handle owner) {
  return float_view(p.grad.data(), p.shape, owner);
}

/// {name: param_array} for every parameter, in declaration order.
inline pybind11::dict param_arrays(nn::ParameterSet& ps, pybind11::handle owner) {
  pybind11::dict d;
  for (auto& p : ps.params()) d[pybind11::str(p.name)] = param_array(p, owner);
  return d;
}

}  // namespace partita::py_bind

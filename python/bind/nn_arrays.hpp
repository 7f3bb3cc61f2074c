// Parameters as numpy arrays that alias the C++ buffers (no copies), for the
// models' bind files: `param_array(p, owner)` is p.value with our in-memory
// shape and layout, writeable, whose numpy `base` is `owner` (the Python object
// that keeps the C++ model, hence the buffer, alive: usually the model or its
// ParameterSet wrapper). Writing into it changes the model's weights.
//
// Activations and model inputs cross as copies: `tensor_from_array` reads any
// array-like as a float32 Tensor of a given rank, `array_from_tensor` copies a
// Tensor into a new numpy array.
//
// Strides are given in bytes explicitly: pybind11 2.10 reads a dtype's item size
// from a C struct whose layout changed in numpy 2, so nothing here asks for it.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>
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

/// A writeable float32 view of weights of `ps` (data inside its value buffer):
/// as float_view, but the view is counted in ps.live_views() while it lives, so
/// engines that pack the weights (nn::ParameterSet::version) do not reuse a
/// packed copy while numpy code may still write into them. The view's base is
/// a capsule that holds `owner` (which keeps ps alive) and closes the count.
inline pybind11::array weights_view(nn::ParameterSet& ps, float* data, const Shape& shape,
                                    pybind11::handle owner) {
  struct Keep {
    pybind11::object owner;
    nn::ParameterSet* ps;
  };
  auto* keep = new Keep{pybind11::reinterpret_borrow<pybind11::object>(owner), &ps};
  pybind11::capsule base(keep, [](void* p) {
    auto* k = static_cast<Keep*>(p);
    k->ps->view_closed();
    delete k;  // releases the owner (the capsule dies with the GIL held)
  });
  ps.view_opened();
  return float_view(data, shape, base);
}

/// The parameter's value (a member of `ps`) as a writeable numpy view (our in-memory layout).
inline pybind11::array param_array(nn::ParameterSet& ps, nn::Parameter& p, pybind11::handle owner) {
  return weights_view(ps, p.value.data(), p.shape, owner);
}

/// The parameter's gradient as a writeable numpy view.
inline pybind11::array grad_array(nn::Parameter& p, pybind11::handle owner) {
  return float_view(p.grad.data(), p.shape, owner);
}

/// {name: param_array} for every parameter, in declaration order.
inline pybind11::dict param_arrays(nn::ParameterSet& ps, pybind11::handle owner) {
  pybind11::dict d;
  for (auto& p : ps.params()) d[pybind11::str(p.name)] = param_array(ps, p, owner);
  return d;
}

/// A float32 copy of `t` (any rank) as a new numpy array of its shape.
inline pybind11::array_t<float> array_from_tensor(const Tensor& t) {
  std::vector<pybind11::ssize_t> dims(t.shape().begin(), t.shape().end());
  pybind11::array_t<float> a(dims);
  if (t.size() > 0) std::memcpy(a.mutable_data(), t.data(), sizeof(float) * static_cast<std::size_t>(t.size()));
  return a;
}

/// `obj` (a numpy array or anything numpy reads as one, cast to C-order float32)
/// copied into a Tensor of its shape. TypeError when numpy cannot read it as
/// numbers; ShapeError unless it has `rank` dimensions, the message naming
/// `what` (e.g. "GAN.generate: melody") and the `expected` shape.
inline Tensor tensor_from_array(const pybind11::handle& obj, int rank, const std::string& what,
                                const std::string& expected) {
  namespace py = pybind11;
  auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) throw py::type_error(what + ": expected a float array " + expected + ", got " +
                               py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  if (a.ndim() != rank) {
    std::string got = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) got += (i ? ", " : "") + std::to_string(a.shape(i));
    if (a.ndim() == 1) got += ",";
    throw ShapeError(what + ": expected an array of shape " + expected + ", got shape " + got + ")");
  }
  Tensor t(Shape(a.shape(), a.shape() + a.ndim()));
  if (t.size() > 0) std::memcpy(t.data(), a.data(), sizeof(float) * static_cast<std::size_t>(t.size()));
  return t;
}

}  // namespace partita::py_bind

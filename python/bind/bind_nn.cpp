// Weights and training helpers for Python: safetensors files as dicts of numpy
// arrays, ParameterSet (parameters as numpy views of the C++ buffers, state
// dicts in the PyTorch twin's layout), Adam/AdamW, clip_grad_norm, schedules.
//
// Thin by design: every function forwards to partita::optim / partita::nn.
// numpy dtypes and item sizes are read through Python attributes (see
// nn_arrays.hpp for why), never from pybind11's C views of numpy structs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn_arrays.hpp"
#include "partita/core/error.hpp"
#include "partita/nn/parameters.hpp"
#include "partita/optim/adam.hpp"
#include "partita/optim/safetensors.hpp"
#include "partita/optim/schedule.hpp"
#include "path_arg.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using partita::InvalidArgument;
using partita::Shape;
using partita::ShapeError;
using partita::nn::Layout;
using partita::nn::Parameter;
using partita::nn::ParameterSet;
using partita::optim::DType;
using partita::optim::Metadata;

// What ParameterSet.load / load_state_dict report (Python: partita.LoadReport).
struct LoadReport {
  std::vector<std::string> loaded;      // parameters set
  std::vector<std::string> missing;     // parameters the source lacks (left untouched)
  std::vector<std::string> unexpected;  // source tensors no parameter matches (ignored)
  py::typing::Dict<py::str, py::str> metadata;  // the file's __metadata__ ({} for a state dict)
};

// What load_safetensors returns (Python: partita.SafetensorsData); unpacks as
// `tensors, metadata = load_safetensors(path)`.
struct SafetensorsData {
  py::typing::Dict<py::str, py::array> tensors;  // {name: numpy array}
  py::typing::Dict<py::str, py::str> metadata;
};

const std::map<std::string, DType>& numpy_to_dtype() {
  static const std::map<std::string, DType> m = {
      {"float32", DType::F32}, {"float64", DType::F64}, {"float16", DType::F16},
      {"int64", DType::I64},   {"int32", DType::I32},   {"int16", DType::I16},
      {"int8", DType::I8},     {"uint8", DType::U8},    {"uint16", DType::U16},
      {"uint32", DType::U32},  {"uint64", DType::U64},  {"bool", DType::BOOL},
  };
  return m;
}

const char* dtype_to_numpy(DType t) {
  for (const auto& [name, d] : numpy_to_dtype())
    if (d == t) return name.c_str();
  return "float32";  // BF16: converted to float32 on load
}

Metadata to_metadata(const std::optional<py::dict>& md, const char* who) {
  Metadata out;
  if (!md) return out;
  for (auto item : *md) {
    if (!py::isinstance<py::str>(item.first) || !py::isinstance<py::str>(item.second))
      throw InvalidArgument(std::string(who) + ": metadata keys and values must be str (got " +
                            py::repr(item.first).cast<std::string>() + ": " +
                            py::repr(item.second).cast<std::string>() + ")");
    out[item.first.cast<std::string>()] = item.second.cast<std::string>();
  }
  return out;
}

py::typing::Dict<py::str, py::str> from_metadata(const Metadata& m) {
  py::typing::Dict<py::str, py::str> d;
  for (const auto& [k, v] : m) d[py::str(k)] = py::str(v);
  return d;
}

Shape shape_of(const py::array& a) {
  Shape s;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s.push_back(a.shape(i));
  return s;
}

py::array numpy_empty(const Shape& shape, const char* dtype) {
  py::tuple dims(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) dims[i] = py::int_(shape[i]);
  return py::module_::import("numpy").attr("empty")(dims, "dtype"_a = dtype);
}

// np.ascontiguousarray(value, dtype=float32), shape-checked against `want`.
py::array as_float32(const py::handle& value, const Shape& want, const std::string& who) {
  py::array a = py::module_::import("numpy").attr("ascontiguousarray")(value, "dtype"_a = "float32");
  if (shape_of(a) != want)
    throw ShapeError(who + ": shape " + partita::shape_str(shape_of(a)) + ", expected " +
                     partita::shape_str(want));
  return a;
}

void save_dict(const partita::py_bind::PathArg& path_arg, const py::dict& tensors, const std::optional<py::dict>& metadata) {
  py::module_ np = py::module_::import("numpy");
  std::vector<py::array> keep;  // the contiguous arrays must outlive the write
  std::vector<partita::optim::TensorRef> refs;
  for (auto item : tensors) {
    if (!py::isinstance<py::str>(item.first))
      throw InvalidArgument("save_safetensors: tensor names must be str, got " +
                            py::repr(item.first).cast<std::string>());
    const std::string name = item.first.cast<std::string>();
    py::array a = np.attr("ascontiguousarray")(item.second);
    py::object dt = a.attr("dtype");
    if (dt.attr("byteorder").cast<std::string>() == ">")
      a = np.attr("ascontiguousarray")(a.attr("astype")(dt.attr("newbyteorder")("<")));
    const std::string dname = a.attr("dtype").attr("name").cast<std::string>();
    auto it = numpy_to_dtype().find(dname);
    if (it == numpy_to_dtype().end())
      throw InvalidArgument("save_safetensors: tensor '" + name + "': unsupported numpy dtype " + dname);
    refs.push_back({name, it->second, shape_of(a), a.data()});
    keep.push_back(std::move(a));
  }
  Metadata md = to_metadata(metadata, "save_safetensors");
  py::gil_scoped_release release;
  partita::optim::write_safetensors(path_arg.str, refs, md);
}

SafetensorsData load_dict(const partita::py_bind::PathArg& path) {
  partita::optim::SafetensorsReader r(path.str);
  py::typing::Dict<py::str, py::array> out;
  for (const auto& info : r.tensors()) {
    if (info.dtype == DType::BF16) {  // numpy has no bfloat16: widen to float32
      std::vector<std::uint16_t> raw(static_cast<size_t>(info.numel()));
      r.read_raw(info, raw.data());
      py::array a = numpy_empty(info.shape, "float32");
      auto* dst = static_cast<std::uint32_t*>(a.mutable_data());
      for (size_t i = 0; i < raw.size(); ++i) dst[i] = static_cast<std::uint32_t>(raw[i]) << 16;
      out[py::str(info.name)] = a;
      continue;
    }
    py::array a = numpy_empty(info.shape, dtype_to_numpy(info.dtype));
    r.read_raw(info, a.mutable_data());
    out[py::str(info.name)] = a;
  }
  return SafetensorsData{out, from_metadata(r.metadata())};
}

Layout layout_from(const std::string& s) {
  if (s == "same") return Layout::Same;
  if (s == "conv_hwio") return Layout::ConvHWIO;
  if (s == "linear_io") return Layout::LinearIO;
  throw InvalidArgument("ParameterSet.add: layout must be 'same', 'conv_hwio' or 'linear_io', got '" + s + "'");
}

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::Same: return "same";
    case Layout::ConvHWIO: return "conv_hwio";
    case Layout::LinearIO: return "linear_io";
  }
  return "same";
}

void require_allocated(const ParameterSet& ps, const char* who) {
  if (!ps.allocated()) throw InvalidArgument(std::string(who) + ": the ParameterSet is not allocated");
}

py::typing::Dict<py::str, py::array> state_dict(ParameterSet& ps) {
  require_allocated(ps, "ParameterSet.state_dict");
  py::typing::Dict<py::str, py::array> d;
  for (auto& p : ps.params()) {
    py::array a = numpy_empty(partita::optim::torch_shape(p), "float32");
    partita::optim::to_torch_layout(p, p.value.data(), static_cast<float*>(a.mutable_data()));
    d[py::str(p.name)] = a;
  }
  return d;
}

LoadReport load_state_dict(ParameterSet& ps, const py::dict& sd, bool strict) {
  require_allocated(ps, "ParameterSet.load_state_dict");
  std::vector<std::pair<Parameter*, py::array>> staged;
  py::list missing, unexpected, loaded;
  for (auto& p : ps.params()) {
    py::str key(p.name);
    if (!sd.contains(key)) {
      missing.append(key);
      continue;
    }
    staged.emplace_back(&p, as_float32(sd[key], partita::optim::torch_shape(p),
                                       "ParameterSet.load_state_dict: '" + p.name + "'"));
  }
  for (auto item : sd) {
    const std::string k = py::str(item.first).cast<std::string>();
    bool known = false;
    for (const auto& p : ps.params()) known = known || p.name == k;
    const std::string suffix = "num_batches_tracked";
    const bool nbt = k.size() >= suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (!known && !nbt) unexpected.append(py::str(k));
  }
  if (strict && (py::len(missing) || py::len(unexpected)))
    throw partita::WeightsError("ParameterSet.load_state_dict: strict load: missing " +
                                py::repr(missing).cast<std::string>() + ", unexpected " +
                                py::repr(unexpected).cast<std::string>());
  for (auto& [p, a] : staged) {
    partita::optim::from_torch_layout(*p, static_cast<const float*>(a.data()), p->value.data());
    loaded.append(py::str(p->name));
  }
  return LoadReport{loaded.cast<std::vector<std::string>>(), missing.cast<std::vector<std::string>>(),
                    unexpected.cast<std::vector<std::string>>(), py::typing::Dict<py::str, py::str>()};
}

LoadReport report_of(const partita::optim::LoadReport& r) {
  return LoadReport{r.loaded, r.missing, r.unexpected, from_metadata(r.metadata)};
}

std::string names_repr(const std::vector<std::string>& v) { return py::repr(py::cast(v)).cast<std::string>(); }

}  // namespace

PARTITA_BIND(nn, 40) {
  namespace optim = partita::optim;
  using partita::py_bind::float_view;
  using partita::py_bind::grad_array;
  using partita::py_bind::param_array;

  py::class_<LoadReport>(m, "LoadReport",
                         "What ParameterSet.load / load_state_dict did: names loaded, missing (left "
                         "untouched) and unexpected (ignored), and the file's metadata. "
                         "report['loaded'] etc. also work.")
      .def_readonly("loaded", &LoadReport::loaded, "parameters set")
      .def_readonly("missing", &LoadReport::missing, "parameters the source lacks (left untouched)")
      .def_readonly("unexpected", &LoadReport::unexpected, "source tensors no parameter matches (ignored)")
      .def_readonly("metadata", &LoadReport::metadata, "the file's metadata ({} for a state dict)")
      .def(
          "__getitem__",
          [](const LoadReport& r, const std::string& key) -> py::object {
            if (key == "loaded") return py::cast(r.loaded);
            if (key == "missing") return py::cast(r.missing);
            if (key == "unexpected") return py::cast(r.unexpected);
            if (key == "metadata") return r.metadata;
            throw py::key_error(key);
          },
          "key"_a)
      .def("__repr__", [](const LoadReport& r) {
        return "LoadReport(loaded=<" + std::to_string(r.loaded.size()) + " names>, missing=" +
               names_repr(r.missing) + ", unexpected=" + names_repr(r.unexpected) +
               ", metadata=" + py::repr(r.metadata).cast<std::string>() + ")";
      });
  py::class_<SafetensorsData>(m, "SafetensorsData",
                              "The tensors {name: numpy array} and metadata {str: str} of a "
                              "safetensors file; unpacks as `tensors, metadata = ...`.")
      .def_readonly("tensors", &SafetensorsData::tensors, "{name: numpy array}")
      .def_readonly("metadata", &SafetensorsData::metadata, "{str: str}")
      .def("__len__", [](const SafetensorsData&) { return 2; })
      .def(
          "__getitem__",
          [](const SafetensorsData& d, py::ssize_t i) -> py::object {
            if (i == 0 || i == -2) return d.tensors;
            if (i == 1 || i == -1) return d.metadata;
            throw py::index_error("SafetensorsData index out of range (0: tensors, 1: metadata)");
          },
          "index"_a)
      .def("__iter__",
           [](const SafetensorsData& d) -> py::typing::Iterator<py::dict> {
             return py::iter(py::make_tuple(d.tensors, d.metadata));
           })
      .def("__repr__", [](const SafetensorsData& d) {
        return "SafetensorsData(tensors=<" + std::to_string(py::len(d.tensors)) +
               " tensors>, metadata=" + py::repr(d.metadata).cast<std::string>() + ")";
      });

  m.def("save_safetensors", &save_dict, "path"_a, "tensors"_a, "metadata"_a = py::none(),
        "Write a dict {name: numpy array} (float16/32/64, (u)int8-64, bool) to a safetensors\n"
        "file, atomically. `metadata` is a dict of str -> str; \"partita.format\": \"1\" is added.");
  m.def("load_safetensors", &load_dict, "path"_a,
        "Read a safetensors file with partita's reader: a SafetensorsData (.tensors: dict\n"
        "{name: numpy array}, .metadata: dict; unpacks as `tensors, metadata`). BF16 tensors come back as float32. Raises WeightsError on a\n"
        "malformed file (the message names the file, the tensor and the problem).");

  py::class_<ParameterSet>(m, "ParameterSet",
                           "All learnable tensors of a model in one flat buffer. Items are numpy\n"
                           "views of the C++ memory (our layout: conv weights (kh, kw, in, out),\n"
                           "linear weights (in, out)); state_dict() converts to PyTorch's.")
      .def(py::init<>())
      .def(
          "add",
          [](ParameterSet& ps, std::string name, std::vector<std::int64_t> shape, const std::string& layout,
             bool trainable) {
            ps.add(std::move(name), Shape(shape.begin(), shape.end()), partita::nn::init_zeros(),
                   layout_from(layout), trainable);
          },
          "name"_a, "shape"_a, "layout"_a = "same", "trainable"_a = true,
          "Declare a zero-initialised parameter (before allocate()). layout: 'same',\n"
          "'conv_hwio' or 'linear_io'.")
      .def("allocate", &ParameterSet::allocate, "seed"_a = 0)
      .def_property_readonly("allocated", &ParameterSet::allocated)
      .def_property_readonly("size", &ParameterSet::size, "Elements of the flat buffer (with alignment padding).")
      .def("trainable_count", &ParameterSet::trainable_count)
      .def("names",
           [](const ParameterSet& ps) {
             std::vector<std::string> n;
             for (const auto& p : ps.params()) n.push_back(p.name);
             return n;
           })
      .def("__len__", [](const ParameterSet& ps) { return ps.params().size(); })
      .def("__contains__",
           [](const ParameterSet& ps, const std::string& name) {
             for (const auto& p : ps.params())
               if (p.name == name) return true;
             return false;
           })
      .def(
          "__getitem__",
          [](py::object self, const std::string& name) {
            ParameterSet& ps = self.cast<ParameterSet&>();
            require_allocated(ps, "ParameterSet[]");
            try {
              return param_array(ps, ps.get(name), self);
            } catch (const InvalidArgument&) {
              throw py::key_error(name);
            }
          },
          "name"_a, "The parameter as a writeable numpy view (our layout).")
      .def(
          "grad",
          [](py::object self, const std::string& name) {
            ParameterSet& ps = self.cast<ParameterSet&>();
            require_allocated(ps, "ParameterSet.grad");
            return grad_array(ps.get(name), self);
          },
          "name"_a, "The parameter's gradient as a writeable numpy view.")
      .def("layout", [](ParameterSet& ps, const std::string& name) { return layout_name(ps.get(name).layout); })
      .def("trainable", [](ParameterSet& ps, const std::string& name) { return ps.get(name).trainable; })
      .def(
          "arrays",
          [](py::object self) {
            ParameterSet& ps = self.cast<ParameterSet&>();
            require_allocated(ps, "ParameterSet.arrays");
            return partita::py_bind::param_arrays(ps, self);
          },
          "{name: writeable numpy view} in declaration order.")
      .def("values",
           [](py::object self) {
             ParameterSet& ps = self.cast<ParameterSet&>();
             require_allocated(ps, "ParameterSet.values");
             return partita::py_bind::weights_view(ps, ps.values().data(), {ps.size()}, self);
           })
      .def("grads",
           [](py::object self) {
             ParameterSet& ps = self.cast<ParameterSet&>();
             require_allocated(ps, "ParameterSet.grads");
             return float_view(ps.grads().data(), {ps.size()}, self);
           })
      .def("zero_grad", &ParameterSet::zero_grad)
      .def("state_dict", &state_dict, "Copies in the PyTorch twin's layout (load with torch's load_state_dict).")
      .def("load_state_dict", &load_state_dict, "state_dict"_a, "strict"_a = true,
           "Set parameters from {name: array} in the twin's layout. Returns a LoadReport\n"
           "(loaded, missing, unexpected); strict raises WeightsError on missing or unexpected.")
      .def(
          "save",
          [](const ParameterSet& ps, const partita::py_bind::PathArg& path, const std::optional<py::dict>& metadata) {
            Metadata md = to_metadata(metadata, "ParameterSet.save");
            py::gil_scoped_release release;
            optim::save_safetensors(path.str, ps, md);
          },
          "path"_a, "metadata"_a = py::none(), "Save as safetensors in the twin's layout, atomically.")
      .def(
          "load",
          [](ParameterSet& ps, const partita::py_bind::PathArg& path, bool strict) {
            optim::LoadReport r;
            {
              py::gil_scoped_release release;
              r = optim::load_safetensors(path.str, ps, strict);
            }
            return report_of(r);
          },
          "path"_a, "strict"_a = true,
          "Load a safetensors file. Returns a LoadReport (loaded, missing, unexpected, metadata).");

  py::class_<optim::Adam>(m, "Adam",
                          "Adam (L2 weight decay) or AdamW (decoupled) over a ParameterSet, as torch.optim.")
      .def(py::init([](ParameterSet& ps, double lr, std::pair<double, double> betas, double eps,
                       double weight_decay, bool decoupled) {
             optim::AdamOptions o;
             o.lr = lr;
             o.beta1 = betas.first;
             o.beta2 = betas.second;
             o.eps = eps;
             o.weight_decay = weight_decay;
             o.decoupled_weight_decay = decoupled;
             return new optim::Adam(ps, o);
           }),
           "params"_a, "lr"_a = 1e-3, "betas"_a = std::make_pair(0.9, 0.999), "eps"_a = 1e-8,
           "weight_decay"_a = 0.0, "decoupled_weight_decay"_a = false, py::keep_alive<1, 2>())
      .def("step", &optim::Adam::step, py::call_guard<py::gil_scoped_release>())
      .def_property("lr", &optim::Adam::lr, &optim::Adam::set_lr)
      .def_property_readonly("step_count", &optim::Adam::step_count)
      .def("reset", &optim::Adam::reset)
      .def(
          "save_state",
          [](const optim::Adam& a, const partita::py_bind::PathArg& path, const std::optional<py::dict>& md) {
            a.save_state(path.str, to_metadata(md, "Adam.save_state"));
          },
          "path"_a, "metadata"_a = py::none(), "Save the moments and step count as safetensors, atomically.")
      .def(
          "load_state", [](optim::Adam& a, const partita::py_bind::PathArg& path) { a.load_state(path.str); },
          "path"_a, "Load what save_state wrote.");
  m.def(
      "AdamW",
      [](ParameterSet& ps, double lr, std::pair<double, double> betas, double eps, double weight_decay) {
        optim::AdamOptions o = optim::AdamOptions::adamw(lr, weight_decay);
        o.beta1 = betas.first;
        o.beta2 = betas.second;
        o.eps = eps;
        return new optim::Adam(ps, o);
      },
      "params"_a, "lr"_a = 1e-3, "betas"_a = std::make_pair(0.9, 0.999), "eps"_a = 1e-8,
      "weight_decay"_a = 1e-2, py::keep_alive<0, 1>(), py::return_value_policy::take_ownership,
      "An Adam with decoupled weight decay (torch.optim.AdamW defaults).");
  m.def("clip_grad_norm", &optim::clip_grad_norm, "params"_a, "max_norm"_a,
        "Scale trainable gradients to global L2 norm <= max_norm; returns the norm before.");
  m.def("grad_norm", &optim::grad_norm, "params"_a);

  py::class_<optim::Schedule>(m, "Schedule")
      .def("lr", &optim::Schedule::lr, "step"_a, "Learning rate for the step-th update (1-based).")
      .def("__call__", &optim::Schedule::lr, "step"_a);
  py::class_<optim::ConstantSchedule, optim::Schedule>(m, "ConstantSchedule").def(py::init<double>(), "lr"_a);
  py::class_<optim::StepSchedule, optim::Schedule>(m, "StepSchedule")
      .def(py::init<double, std::int64_t, double>(), "lr"_a, "every"_a, "gamma"_a);
  py::class_<optim::InverseSqrtSchedule, optim::Schedule>(m, "InverseSqrtSchedule")
      .def(py::init<double, std::int64_t, double>(), "peak"_a, "warmup"_a, "floor"_a,
           "peak * t / warmup up to warmup, then max(floor, peak * sqrt(warmup / t)).");
}

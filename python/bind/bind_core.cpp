// Core bindings: exception classes, threads, version.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "partita/core/cpu.hpp"
#include "partita/core/gemm.hpp"
#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/version.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;

namespace {
struct CpuInfo {
  std::string simd_level, detected;
  std::string features;
};
}  // namespace

PARTITA_BIND(core, 0) {
  // Exceptions: partita.Error is the base; FormatError and InvalidArgument are
  // also ValueErrors, IoError is also an OSError, so plain `except` clauses work.
  using namespace pybind11::literals;
  static py::exception<partita::Error> error =
      py::register_exception<partita::Error>(m, "Error", PyExc_RuntimeError);
  static py::object invalid = py::module_::import("builtins").attr("type")(
      "InvalidArgument", py::make_tuple(error, py::module_::import("builtins").attr("ValueError")),
      py::dict("__module__"_a = "partita"));
  m.attr("InvalidArgument") = invalid;
  m.attr("ShapeError") = py::module_::import("builtins").attr("type")(
      "ShapeError", py::make_tuple(invalid), py::dict("__module__"_a = "partita"));
  m.attr("FormatError") = py::module_::import("builtins").attr("type")(
      "FormatError", py::make_tuple(error, py::module_::import("builtins").attr("ValueError")),
      py::dict("__module__"_a = "partita"));
  m.attr("MidiError") = py::module_::import("builtins").attr("type")(
      "MidiError", py::make_tuple(m.attr("FormatError")), py::dict("__module__"_a = "partita"));
  m.attr("WeightsError") = py::module_::import("builtins").attr("type")(
      "WeightsError", py::make_tuple(m.attr("FormatError")), py::dict("__module__"_a = "partita"));
  m.attr("IoError") = py::module_::import("builtins").attr("type")(
      "IoError", py::make_tuple(error, py::module_::import("builtins").attr("OSError")),
      py::dict("__module__"_a = "partita"));
  m.attr("RenderError") = py::module_::import("builtins").attr("type")(
      "RenderError", py::make_tuple(error), py::dict("__module__"_a = "partita"));

  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    py::module_ core = py::module_::import("partita._core");
    auto raise = [&](const char* cls, const std::exception& e) {
      PyErr_SetString(core.attr(cls).ptr(), e.what());
    };
    try {
      std::rethrow_exception(p);
    } catch (const partita::MidiError& e) {
      raise("MidiError", e);
    } catch (const partita::WeightsError& e) {
      raise("WeightsError", e);
    } catch (const partita::FormatError& e) {
      raise("FormatError", e);
    } catch (const partita::ShapeError& e) {
      raise("ShapeError", e);
    } catch (const partita::InvalidArgument& e) {
      raise("InvalidArgument", e);
    } catch (const partita::IoError& e) {
      raise("IoError", e);
    } catch (const partita::RenderError& e) {
      raise("RenderError", e);
    }
  });

  m.def("num_threads", &partita::num_threads, "Threads used by partita's kernels.");
  m.def("set_num_threads", &partita::set_num_threads, py::arg("n"),
        "Set the number of threads used by partita's kernels.");
  m.def("simd_level", [] { return std::string(partita::simd_level_name(partita::simd_level())); },
        "SIMD level partita's kernels use now: 'avx512', 'avx2' or 'generic' (chosen at run "
        "time from the CPU; PARTITA_SIMD lowers it).");
  m.def("set_simd_level",
        [](const std::string& level) {
          if (level == "auto") partita::reset_simd_level();
          else partita::set_simd_level(partita::parse_simd_level(level));
        },
        py::arg("level"),
        "Use 'avx512', 'avx2' or 'generic' kernels from now on (InvalidArgument if the CPU "
        "lacks the level); 'auto' goes back to the start-up choice.");
  m.def("matmul_precision", [] { return std::string(partita::matmul_precision_name(partita::matmul_precision())); },
        "The precision partita's matrix products may use: 'float32' (the default) or 'bfloat16' "
        "(PARTITA_MATMUL_PRECISION sets it at start-up).");
  m.def("set_matmul_precision",
        [](const std::string& p) { partita::set_matmul_precision(partita::parse_matmul_precision(p)); },
        py::arg("precision"),
        "'bfloat16' (or 'bf16'): the larger matrix products under every layer round their operands to "
        "bfloat16 and sum in float32, twice the multiply-adds per instruction where the CPU has "
        "AVX512_BF16 (elsewhere they stay float32); 'float32' (or 'fp32'): exact float32 products. "
        "Process-wide; InvalidArgument for another name.");
  m.def("bf16_matmul_active", &partita::bf16_matmul_active,
        "True when matrix products run in bfloat16 now: 'bfloat16' asked for, AVX-512 in use and the "
        "CPU has AVX512_BF16.");
  py::class_<CpuInfo> info(m, "CpuInfo", "What partita's kernels run on (partita.cpu_info()).");
  info.def_readonly("simd_level", &CpuInfo::simd_level, "the level in use: 'avx512', 'avx2' or 'generic'")
      .def_readonly("detected", &CpuInfo::detected, "the highest level this CPU supports")
      .def_readonly("features", &CpuInfo::features, "the CPU features detected")
      .def("__repr__", [](const CpuInfo& c) {
        return "CpuInfo(simd_level='" + c.simd_level + "', detected='" + c.detected + "')";
      });
  partita::py_bind::mapping_access(info);
  m.def("cpu_info",
        [] {
          return CpuInfo{partita::simd_level_name(partita::simd_level()),
                         partita::simd_level_name(partita::detected_simd_level()), partita::cpu_features()};
        },
        "The SIMD level in use, the highest one this CPU supports, and the features detected.");
  m.attr("__version__") = partita::version();
}

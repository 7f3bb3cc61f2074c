// Transformer-XL data bindings: token streams (one int32 sequence per piece),
// performance corpora (the JSB chorales at a fixed tempo, folders of MIDI files)
// split into train / valid / test, and the seeded stretch-and-transpose
// augmentation. Thin: all logic is in partita::data (performance_corpus.hpp).
#include <optional>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/data/performance_corpus.hpp"
#include "path_arg.hpp"
#include "records.hpp"
#include "registry.hpp"
#include "token_arrays.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::data;
using partita::py_bind::token_array;
using partita::py_bind::tokens_from_python;

namespace {

// A performance corpus with the folder loader's report (empty for the JSB chorales).
struct CorpusRecord : PerformanceCorpus {
  std::vector<std::string> used, skipped;
};

std::string split_repr(const PerformanceSplit& s) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld pieces, %lld tokens, %.0f s", static_cast<long long>(s.streams.size()),
                static_cast<long long>(s.streams.total_tokens()), s.seconds);
  return buf;
}

}  // namespace

PARTITA_BIND(transformer_data, 55) {
  const PerformanceCorpusOptions dc;
  const AugmentOptions da;

  py::class_<TokenStreams>(m, "TokenStreams", R"doc(Token-id sequences, one per piece: what TransformerXL.fit and
evaluate_nll read (each piece beginning with <S> = 0 when the model is to be primed with one).

TokenStreams(pieces): from any sequence of 1-D integer sequences (lists, numpy arrays).
ts[i] is piece i as an int32 array (a copy); len(ts) the number of pieces.)doc")
      .def(py::init([](const py::typing::Iterable<py::typing::Iterable<py::int_>>& pieces) {
             TokenStreams s;
             for (py::handle p : pieces) s.pieces.push_back(tokens_from_python(p, "TokenStreams"));
             return s;
           }),
           "pieces"_a = py::list())
      .def("__len__", &TokenStreams::size)
      .def(
          "__getitem__",
          [](const TokenStreams& s, std::int64_t i) {
            const std::int64_t n = s.size();
            if (i < 0) i += n;
            if (i < 0 || i >= n) throw py::index_error("TokenStreams: piece index out of range");
            return token_array(s.pieces[static_cast<std::size_t>(i)]);
          },
          "index"_a)
      .def(
          "append", [](TokenStreams& s, const py::typing::Iterable<py::int_>& tokens) {
            s.pieces.push_back(tokens_from_python(tokens, "TokenStreams.append"));
          },
          "tokens"_a, "Add a piece.")
      .def_property_readonly("total_tokens", &TokenStreams::total_tokens, "tokens over all pieces")
      .def_property_readonly("total_targets", &TokenStreams::total_targets,
                             "next-token targets over all pieces (sum of max(0, length - 1))")
      .def("__repr__", [](const TokenStreams& s) {
        return "TokenStreams(" + std::to_string(s.size()) + " pieces, " + std::to_string(s.total_tokens()) +
               " tokens)";
      });

  auto split_cls =
      py::class_<PerformanceSplit>(m, "PerformanceSplit",
                                   "One split of a performance corpus: the pieces' token streams, where each "
                                   "came from and their total duration.")
          .def_readonly("streams", &PerformanceSplit::streams, "the TokenStreams (each piece begins with <S>)")
          .def_readonly("names", &PerformanceSplit::names, "one per piece: 'jsb/train/12' or the file's path")
          .def_readonly("seconds", &PerformanceSplit::seconds, "total duration of the pieces")
          .def("__len__", [](const PerformanceSplit& s) { return s.streams.size(); })
          .def("__repr__", [](const PerformanceSplit& s) { return "PerformanceSplit(" + split_repr(s) + ")"; });
  py_bind::mapping_access(split_cls);

  auto corpus_cls =
      py::class_<CorpusRecord>(m, "PerformanceCorpus",
                               "A performance corpus: train, valid and test PerformanceSplits; a MIDI folder's "
                               "also lists the files used and skipped.")
          .def(py::init<>(), "An empty corpus (append others to it).")
          .def_property_readonly(
              "train", [](const CorpusRecord& c) -> const PerformanceSplit& { return c.train; },
              py::return_value_policy::reference_internal)
          .def_property_readonly(
              "valid", [](const CorpusRecord& c) -> const PerformanceSplit& { return c.valid; },
              py::return_value_policy::reference_internal)
          .def_property_readonly(
              "test", [](const CorpusRecord& c) -> const PerformanceSplit& { return c.test; },
              py::return_value_policy::reference_internal)
          .def_readonly("used", &CorpusRecord::used, "files read (a MIDI folder's)")
          .def_readonly("skipped", &CorpusRecord::skipped, "files skipped, as 'path: reason'")
          .def(
              "append",
              [](CorpusRecord& c, const CorpusRecord& other) {
                PerformanceCorpus copy = other;
                c.PerformanceCorpus::append(std::move(copy));
                c.used.insert(c.used.end(), other.used.begin(), other.used.end());
                c.skipped.insert(c.skipped.end(), other.skipped.begin(), other.skipped.end());
              },
              "other"_a, "Add another corpus's pieces to each split (e.g. the JSB chorales + a MIDI folder).")
          .def("__repr__", [](const CorpusRecord& c) {
            return "PerformanceCorpus(train: " + split_repr(c.train) + "; valid: " + split_repr(c.valid) +
                   "; test: " + split_repr(c.test) + ")";
          });
  py_bind::mapping_access(corpus_cls);

  m.def(
      "performance_tokens",
      [](const Score& score, int track, const EventOptions& options) {
        return token_array(performance_tokens(score, track, options));
      },
      "score"_a, "track"_a = -1, "options"_a = dc.events,
      "<S> followed by the performance events of `score` (all non-drum tracks merged, or `track`): "
      "an int32 array, the form of a corpus piece and of TransformerXL.extend's prime.");
  m.def(
      "jsb_performances",
      [](const std::optional<py_bind::PathArg>& path, double qpm, int velocity, std::int64_t min_notes,
         const EventOptions& options) {
        const std::string p = path ? path->str : default_jsb_path();
        PerformanceCorpusOptions o;
        o.events = options;
        o.jsb_qpm = qpm;
        o.jsb_velocity = velocity;
        o.min_notes = min_notes;
        CorpusRecord c;
        py::gil_scoped_release rel;
        static_cast<PerformanceCorpus&>(c) = jsb_performances(load_jsb_chorales(p), o);
        return c;
      },
      "path"_a = py::none(), "qpm"_a = dc.jsb_qpm, "velocity"_a = dc.jsb_velocity, "min_notes"_a = dc.min_notes,
      "options"_a = dc.events,
      "The JSB chorales (the bundled file by default) as performances, in their standard split: each "
      "chorale's voices merged, its 16th-note grid played at `qpm` quarter notes a minute, every note at "
      "`velocity`. Pieces with fewer than `min_notes` notes are skipped. A PerformanceCorpus.");
  m.def(
      "load_performance_folder",
      [](const py_bind::PathArg& folder, std::int64_t min_notes, const EventOptions& options) {
        PerformanceCorpusOptions o;
        o.events = options;
        o.min_notes = min_notes;
        CorpusRecord c;
        MidiFolderReport rep;
        {
          py::gil_scoped_release rel;
          static_cast<PerformanceCorpus&>(c) = load_performance_folder(folder.str, o, &rep);
        }
        c.used = std::move(rep.used);
        c.skipped = std::move(rep.skipped);
        return c;
      },
      "folder"_a, "min_notes"_a = dc.min_notes, "options"_a = dc.events,
      R"doc(Every usable MIDI file under `folder` as performances (all non-drum tracks merged): a
PerformanceCorpus. A folder with train/, valid/ and test/ subfolders keeps that split;
otherwise file i (sorted by path) validates when i % 10 == 4, is held out when i % 10 == 9,
else trains (fewer than 10 files: all train). Unusable files are listed in `skipped`.
IoError if `folder` is not a directory; InvalidArgument if no file is usable.)doc");
  m.def(
      "stretch_and_transpose",
      [](const py::typing::Iterable<py::int_>& tokens, double stretch, int semitones, const EventOptions& options) {
        return token_array(stretch_and_transpose(tokens_from_python(tokens, "stretch_and_transpose"), stretch,
                                                 semitones, options));
      },
      "tokens"_a, "stretch"_a, "semitones"_a, "options"_a = dc.events,
      "One variant of a token sequence: time stretched by `stretch` (> 0; 1.05 = 5 % slower) and "
      "transposed by `semitones` (notes moved out of the pitch range drop); keeps a leading <S>.");
  m.def(
      "augment_performances",
      [](const PerformanceSplit& split, int copies, double min_stretch, double max_stretch, int max_transpose,
         std::uint64_t seed, const EventOptions& options) {
        AugmentOptions a;
        a.copies = copies;
        a.min_stretch = min_stretch;
        a.max_stretch = max_stretch;
        a.max_transpose = max_transpose;
        a.seed = seed;
        py::gil_scoped_release rel;
        return augment_performances(split, a, options);
      },
      "split"_a, "copies"_a = 1, "min_stretch"_a = da.min_stretch, "max_stretch"_a = da.max_stretch,
      "max_transpose"_a = da.max_transpose, "seed"_a = da.seed, "options"_a = dc.events,
      "The pieces of `split` and `copies` variants of each, every variant stretched in time by a factor "
      "drawn from [min_stretch, max_stretch] and transposed by a whole number of semitones drawn from "
      "[-max_transpose, max_transpose], both seeded (what `partita train transformer --augment` trains on).");
}

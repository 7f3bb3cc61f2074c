// Music-metric bindings (partita/music/metrics.hpp): each metric takes a
// partita.PianoRoll, a partita.MultiTrackRoll, or a numpy array ((time, 128)
// or (track, time, 128)) read at `resolution` steps per quarter in
// `time_signature` (4 and 4/4 for bare arrays; a roll's own grid otherwise,
// unless given). Arrays become rolls through the PianoRoll / MultiTrackRoll
// constructors, so their shape and dtype rules (and typed errors) apply.
// Single-roll metrics measure a MultiTrackRoll merged without drum tracks; the
// per-track MuseGAN metrics return one value per track for one.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "partita/core/error.hpp"
#include "partita/music/metrics.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using partita::FragmentStats;
using partita::InScale;
using partita::MultiTrackRoll;
using partita::PianoRoll;
using partita::RollMetrics;

using TimeSig = std::optional<std::pair<int, int>>;

// A roll argument: one roll or a multitrack roll (exactly one is set).
struct RollArg {
  std::optional<PianoRoll> single;
  std::optional<MultiTrackRoll> multi;
  // The roll a single-roll metric measures.
  PianoRoll one() const { return single ? *single : multi->merged(false); }
};

std::string shape_of(const py::object& a) { return py::str(a.attr("shape")).cast<std::string>(); }

RollArg roll_arg(const py::object& obj, std::optional<int> resolution, TimeSig ts, const char* where) {
  py::module_ core = py::module_::import("partita._core");
  RollArg out;
  if (py::isinstance<PianoRoll>(obj)) {
    out.single = obj.cast<PianoRoll>();  // a handle: the cells are shared
  } else if (py::isinstance<MultiTrackRoll>(obj)) {
    out.multi = obj.cast<MultiTrackRoll>();
  } else {
    py::object a = py::module_::import("numpy").attr("asarray")(obj);
    const int ndim = a.attr("ndim").cast<int>();
    const auto sig = ts.value_or(std::make_pair(4, 4));
    if (ndim == 2)
      out.single = core.attr("PianoRoll")(a, "resolution"_a = resolution.value_or(4), "time_signature"_a = sig)
                       .cast<PianoRoll>();
    else if (ndim == 3)
      out.multi = core.attr("MultiTrackRoll")(a, "resolution"_a = resolution.value_or(4), "time_signature"_a = sig)
                      .cast<MultiTrackRoll>();
    else
      throw partita::ShapeError(std::string(where) + ": a roll must have shape (time, 128) or (track, time, 128), got " +
                                shape_of(a));
    return out;
  }
  partita::RollGrid& g = out.single ? out.single->grid : out.multi->grid;
  if (resolution) g.resolution = *resolution;
  if (ts) {
    g.numerator = ts->first;
    g.denominator = ts->second;
  }
  g.validate(where);
  return out;
}

std::int64_t opt_steps(std::optional<std::int64_t> v, const char* where, const char* what) {
  if (v && *v < 1)
    throw partita::InvalidArgument(std::string(where) + ": " + what + " must be >= 1 (None: the roll's own), got " +
                                   std::to_string(*v));
  return v.value_or(0);
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

const char* kRollArgs = R"doc(
roll: partita.PianoRoll, partita.MultiTrackRoll, or a uint8/bool numpy array
    (time, 128) or (track, time, 128); resolution (steps per quarter) and
    time_signature override the roll's grid (defaults for arrays: 4 and (4, 4)).)doc";

std::string doc(const char* head) { return std::string(head) + kRollArgs; }

// A per-track MuseGAN metric: float for one roll, list for a multitrack roll.
using FloatOrList = py::typing::Union<py::float_, py::typing::List<py::float_>>;
// tonal_distance: float for two rolls, {(i, j): float} for a multitrack roll.
using TonalResult = py::typing::Union<py::float_, py::typing::Dict<py::typing::Tuple<py::int_, py::int_>, py::float_>>;
template <class F>
FloatOrList per_track(const RollArg& r, F f) {
  if (r.single) return py::reinterpret_steal<FloatOrList>(py::float_(f(*r.single)).release());
  std::vector<double> v;
  for (std::size_t k = 0; k < r.multi->num_tracks(); ++k) v.push_back(f(r.multi->track(k)));
  return py::reinterpret_steal<FloatOrList>(py::cast(v).release());
}

}  // namespace

PARTITA_BIND(metrics, 30) {
  auto in_scale_cls = py::class_<InScale>(m, "InScale", "An in-scale rate and the major scale it was measured in.")
                          .def_readonly("rate", &InScale::rate, "share of note cells in the scale (nan: no cells)")
                          .def_readonly("root", &InScale::root, "tonic pitch class of the major scale (0 = C)")
                          .def("__repr__", [](const InScale& s) {
                            return "InScale(rate=" + num(s.rate) + ", root=" + std::to_string(s.root) + ")";
                          });
  partita::py_bind::mapping_access(in_scale_cls);

  auto frag_cls =
      py::class_<FragmentStats>(m, "FragmentStats", "One-step notes of a roll, overall and among added notes.")
          .def_readonly("notes", &FragmentStats::notes, "notes of the roll")
          .def_readonly("one_step", &FragmentStats::one_step, "notes exactly one step long")
          .def_readonly("added", &FragmentStats::added,
                        "notes with no note of the same pitch and onset in the original (0 without one)")
          .def_readonly("added_one_step", &FragmentStats::added_one_step, "added notes one step long")
          .def_property_readonly("share", &FragmentStats::share, "one_step / notes (nan without notes)")
          .def_property_readonly("added_share", &FragmentStats::added_share,
                                 "added_one_step / added (nan without added notes)")
          .def("__repr__", [](const FragmentStats& s) {
            return "FragmentStats(notes=" + std::to_string(s.notes) + ", one_step=" + std::to_string(s.one_step) +
                   ", share=" + num(s.share()) + ", added=" + std::to_string(s.added) +
                   ", added_one_step=" + std::to_string(s.added_one_step) + ", added_share=" + num(s.added_share()) +
                   ")";
          });
  partita::py_bind::mapping_access(frag_cls);

  auto all_cls =
      py::class_<RollMetrics>(m, "RollMetrics", "Every single-roll metric at its default settings (roll_metrics).")
          .def_readonly("empty_bar_rate", &RollMetrics::empty_bar_rate)
          .def_readonly("used_pitch_classes", &RollMetrics::used_pitch_classes)
          .def_readonly("qualified_note_rate", &RollMetrics::qualified_note_rate)
          .def_readonly("in_scale", &RollMetrics::in_scale)
          .def_readonly("pitch_class_entropy", &RollMetrics::pitch_class_entropy)
          .def_readonly("scale_consistency", &RollMetrics::scale_consistency)
          .def_readonly("polyphony", &RollMetrics::polyphony)
          .def_readonly("polyphony_rate", &RollMetrics::polyphony_rate)
          .def_readonly("pitch_range", &RollMetrics::pitch_range)
          .def_readonly("empty_beat_rate", &RollMetrics::empty_beat_rate)
          .def_readonly("groove_consistency", &RollMetrics::groove_consistency)
          .def_readonly("fragments", &RollMetrics::fragments)
          .def("__repr__", [](const RollMetrics& r) {
            return "RollMetrics(empty_bar_rate=" + num(r.empty_bar_rate) +
                   ", used_pitch_classes=" + num(r.used_pitch_classes) +
                   ", qualified_note_rate=" + num(r.qualified_note_rate) + ", in_scale_rate=" + num(r.in_scale.rate) +
                   ", pitch_class_entropy=" + num(r.pitch_class_entropy) +
                   ", scale_consistency=" + num(r.scale_consistency) + ", polyphony=" + num(r.polyphony) +
                   ", polyphony_rate=" + num(r.polyphony_rate) + ", pitch_range=" + std::to_string(r.pitch_range) +
                   ", empty_beat_rate=" + num(r.empty_beat_rate) +
                   ", groove_consistency=" + num(r.groove_consistency) +
                   ", fragment_share=" + num(r.fragments.share()) +
                   ", added_fragment_share=" + num(r.fragments.added_share()) + ")";
          });
  partita::py_bind::mapping_access(all_cls);

#define PARTITA_ROLL_KW "resolution"_a = py::none(), "time_signature"_a = py::none()

  m.def(
      "roll_notes",
      [](const py::object& roll, std::optional<int> res, TimeSig ts) {
        std::vector<std::tuple<int, std::int64_t, std::int64_t>> out;
        for (const auto& n : partita::roll_notes(roll_arg(roll, res, ts, "roll_notes").one()))
          out.emplace_back(n.pitch, n.start, n.steps);
        return out;
      },
      "roll"_a, PARTITA_ROLL_KW,
      doc("The notes of a roll as (pitch, start step, length in steps), sorted by start then pitch:\n"
          "maximal runs of on cells per pitch, split where the onset channel is set.")
          .c_str());

  m.def(
      "empty_bar_rate",
      [](const py::object& roll, std::optional<std::int64_t> bar_steps, std::optional<int> res, TimeSig ts) {
        const auto b = opt_steps(bar_steps, "empty_bar_rate", "bar_steps");
        return per_track(roll_arg(roll, res, ts, "empty_bar_rate"),
                         [&](const PianoRoll& r) { return partita::empty_bar_rate(r, b); });
      },
      "roll"_a, "bar_steps"_a = py::none(), PARTITA_ROLL_KW,
      doc("MuseGAN's EB: share of bars with no note (a last partial bar counts); one value per track\n"
          "for a MultiTrackRoll. bar_steps: steps per bar (default: the time signature's).")
          .c_str());
  m.def(
      "used_pitch_classes",
      [](const py::object& roll, std::optional<std::int64_t> bar_steps, std::optional<int> res, TimeSig ts) {
        const auto b = opt_steps(bar_steps, "used_pitch_classes", "bar_steps");
        return per_track(roll_arg(roll, res, ts, "used_pitch_classes"),
                         [&](const PianoRoll& r) { return partita::used_pitch_classes(r, b); });
      },
      "roll"_a, "bar_steps"_a = py::none(), PARTITA_ROLL_KW,
      doc("MuseGAN's UPC: distinct pitch classes per bar, mean over non-empty bars (nan if none);\n"
          "one value per track for a MultiTrackRoll.")
          .c_str());
  m.def(
      "qualified_note_rate",
      [](const py::object& roll, std::int64_t min_steps, std::optional<int> res, TimeSig ts) {
        return per_track(roll_arg(roll, res, ts, "qualified_note_rate"),
                         [&](const PianoRoll& r) { return partita::qualified_note_rate(r, min_steps); });
      },
      "roll"_a, "min_steps"_a = 3, PARTITA_ROLL_KW,
      doc("MuseGAN's QN: share of notes at least min_steps long (nan without notes); one value per\n"
          "track for a MultiTrackRoll.")
          .c_str());
  m.def(
      "tonal_distance",
      [](const py::object& a, const py::object& b, std::optional<std::int64_t> frame_steps, std::optional<int> res,
         TimeSig ts) -> TonalResult {
        const auto f = opt_steps(frame_steps, "tonal_distance", "frame_steps");
        RollArg ra = roll_arg(a, res, ts, "tonal_distance");
        if (b.is_none()) {
          if (!ra.multi)
            throw partita::InvalidArgument(
                "tonal_distance: give two rolls, or one MultiTrackRoll / (track, time, 128) array");
          py::dict out;
          const auto d = partita::tonal_distance(*ra.multi, f);
          std::size_t k = 0;
          for (std::size_t i = 0; i < ra.multi->num_tracks(); ++i)
            for (std::size_t j = i + 1; j < ra.multi->num_tracks(); ++j) out[py::make_tuple(i, j)] = d[k++];
          return py::reinterpret_steal<TonalResult>(out.release());
        }
        RollArg rb = roll_arg(b, res, ts, "tonal_distance");
        if (ra.multi || rb.multi)
          throw partita::InvalidArgument("tonal_distance: a and b must be single rolls ((time, 128))");
        return py::reinterpret_steal<TonalResult>(
            py::float_(partita::tonal_distance(*ra.single, *rb.single, f)).release());
      },
      "a"_a, "b"_a = py::none(), "frame_steps"_a = py::none(), PARTITA_ROLL_KW,
      doc("MuseGAN's TD (Harte, Sandler & Gasser 2006): mean Euclidean distance between the 6-D tonal\n"
          "centroids of the two rolls' chroma, frame by frame (frame_steps, default one beat),\n"
          "over frames where both sound (nan if none). With one MultiTrackRoll: {(i, j): TD} for\n"
          "every pair of tracks.")
          .c_str());
  m.def(
      "in_scale_rate",
      [](const py::object& roll, std::optional<int> root, std::optional<int> res, TimeSig ts) {
        return partita::in_scale_rate(roll_arg(roll, res, ts, "in_scale_rate").one(), root);
      },
      "roll"_a, "root"_a = py::none(), PARTITA_ROLL_KW,
      doc("Share of note cells in the major scale of `root` (0..11), or of the best-fitting major\n"
          "scale when root is None; an InScale(rate, root).")
          .c_str());

  auto scalar = [&m](const char* name, double (*f)(const PianoRoll&), const char* text) {
    m.def(
        name,
        [f, name](const py::object& roll, std::optional<int> res, TimeSig ts) {
          return f(roll_arg(roll, res, ts, name).one());
        },
        "roll"_a, PARTITA_ROLL_KW, doc(text).c_str());
  };
  scalar("pitch_class_entropy", &partita::pitch_class_entropy,
         "muspy's pitch-class entropy: Shannon entropy (bits) of the notes' pitch-class histogram\n"
         "(nan without notes).");
  scalar("scale_consistency", &partita::scale_consistency,
         "muspy's scale consistency: the largest share of notes in one major or natural-minor scale.");
  scalar("polyphony", &partita::polyphony,
         "muspy's polyphony: mean number of pitches sounding over steps with at least one.");
  scalar("empty_beat_rate", &partita::empty_beat_rate,
         "Share of beats (resolution steps, a last partial beat counts) with no note.");
  m.def(
      "polyphony_rate",
      [](const py::object& roll, int threshold, std::optional<int> res, TimeSig ts) {
        return partita::polyphony_rate(roll_arg(roll, res, ts, "polyphony_rate").one(), threshold);
      },
      "roll"_a, "threshold"_a = 2, PARTITA_ROLL_KW,
      doc("muspy's polyphony rate (MuseGAN's polyphonicity): share of steps with more than\n"
          "`threshold` pitches sounding.")
          .c_str());
  m.def(
      "pitch_range",
      [](const py::object& roll, std::optional<int> res, TimeSig ts) {
        return partita::pitch_range(roll_arg(roll, res, ts, "pitch_range").one());
      },
      "roll"_a, PARTITA_ROLL_KW, doc("Highest minus lowest sounding pitch (0 without notes).").c_str());
  m.def(
      "groove_consistency",
      [](const py::object& roll, std::optional<std::int64_t> bar_steps, std::optional<int> res, TimeSig ts) {
        const auto b = opt_steps(bar_steps, "groove_consistency", "bar_steps");
        return partita::groove_consistency(roll_arg(roll, res, ts, "groove_consistency").one(), b);
      },
      "roll"_a, "bar_steps"_a = py::none(), PARTITA_ROLL_KW,
      doc("muspy's groove consistency: 1 - mean Hamming distance between neighbouring bars' onset\n"
          "patterns / bar_steps (nan with fewer than two bars).")
          .c_str());
  m.def(
      "fragment_stats",
      [](const py::object& roll, const py::object& original, std::optional<int> res, TimeSig ts) {
        const PianoRoll r = roll_arg(roll, res, ts, "fragment_stats").one();
        if (original.is_none()) return partita::fragment_stats(r);
        return partita::fragment_stats(r, roll_arg(original, res, ts, "fragment_stats").one());
      },
      "roll"_a, "original"_a = py::none(), PARTITA_ROLL_KW,
      doc("One-step notes of `roll`, and, given the `original` it was edited from, among the notes\n"
          "it added (no note of the same pitch and onset step in the original).")
          .c_str());
  m.def(
      "roll_metrics",
      [](const py::object& roll, const py::object& original, std::optional<int> res, TimeSig ts) {
        const PianoRoll r = roll_arg(roll, res, ts, "roll_metrics").one();
        if (original.is_none()) return partita::roll_metrics(r);
        const PianoRoll o = roll_arg(original, res, ts, "roll_metrics").one();
        return partita::roll_metrics(r, &o);
      },
      "roll"_a, "original"_a = py::none(), PARTITA_ROLL_KW,
      doc("Every single-roll metric at its default settings, as a RollMetrics record.").c_str());
#undef PARTITA_ROLL_KW
}

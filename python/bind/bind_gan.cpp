// GAN bindings: the config (architecture and style), the fit options, the
// accompany options and report as typed records, and the model (construct,
// load, pretrained, save, generate and critique on numpy arrays, accompany a
// Score or a roll, fit with Python callbacks, sample snapshots and a progress
// bar). Defaults shown to Python come from the C++ structs (GanConfig,
// GanFitOptions, AccompanyOptions). Long calls release the GIL; callbacks take
// it back only while they run.
#include <optional>
#include <variant>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/data/multitrack_windows.hpp"
#include "partita/models/gan.hpp"
#include "partita/music/midi.hpp"
#include "partita/music/pianoroll.hpp"
#include "fit_hooks.hpp"
#include "model_rolls.hpp"
#include "nn_arrays.hpp"
#include "path_arg.hpp"
#include "records.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using namespace partita;
using namespace partita::models;

namespace {

std::string fnum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

std::string int_list(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// "(n, steps, pitches, channels)" with the config's numbers, for messages.
std::string window_shape(const GanConfig& c, std::int64_t channels) {
  return "(n, " + std::to_string(c.steps) + ", " + std::to_string(c.pitches) + ", " + std::to_string(channels) + ")";
}

// An owning copy of a model's output buffer (made without the GIL; numpy gets it after).
Tensor copy_of(const Tensor& t) {
  Tensor out(t.shape());
  if (t.size() > 0) std::memcpy(out.data(), t.data(), sizeof(float) * static_cast<size_t>(t.size()));
  return out;
}

AccompanyOptions accompany_options(int track, const std::optional<std::vector<int>>& programs, std::uint64_t seed,
                                   float threshold, int min_note_steps, int velocity, bool monophonic,
                                   float leap_penalty) {
  AccompanyOptions o;
  o.track = track;
  if (programs) o.programs = *programs;
  o.seed = seed;
  o.threshold = threshold;
  o.min_note_steps = min_note_steps;
  o.velocity = velocity;
  o.monophonic = monophonic;
  o.leap_penalty = leap_penalty;
  return o;
}

// What fit's on_sample callback gets: numpy copies of the sample's tensors.
struct SampleRecord {
  std::int64_t global_step = 0;
  py::array_t<float> melody, generated;
};

// Array arguments: anything numpy reads as numbers, as C-order float32.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
// fit's callbacks (None or a callable), typed for the signatures and stubs.
using StepCallback = py::typing::Optional<py::typing::Callable<py::typing::Optional<bool>(const StepInfo&)>>;
using EpochCallback = py::typing::Optional<py::typing::Callable<void(const EpochInfo&)>>;
using SampleCallback = py::typing::Optional<py::typing::Callable<void(const SampleRecord&)>>;

}  // namespace

PARTITA_BIND(gan, 60) {
  const GanConfig dc = GanConfig::reference();
  const GanFitOptions df;
  const AccompanyOptions da;

  auto config_cls = py::class_<GanConfig>(m, "GanConfig", R"doc(The GAN's architecture and style.

Architecture: filters (F; encoder filters F, 2F, 4F, 8F), tracks (generated tracks, track 0
the melody's own channel), latent_channels (z is (steps/16, pitches/16, latent_channels)),
steps and pitches of a window (multiples of 16), bn_momentum (Keras convention), leak
(LeakyReLU slope), melody_chroma (condition on the melody's pitch classes too: a second
melody channel marking every octave of each sounding pitch class). Style (travels with the weights): style, part_names and programs of the
tracks - 1 accompaniment parts, melody_mean_pitch (accompany moves a melody by octaves
towards it). GanConfig() is GanConfig.reference(), the reference's network (F = 64, latent
512); GanConfig.compact() the shipped size (F = 32, latent 256).)doc")
      .def(py::init([](int filters, int tracks, int latent_channels, int steps, int pitches, float bn_momentum,
                       float leak, std::string style, std::vector<std::string> part_names,
                       std::vector<int> programs, double melody_mean_pitch, bool melody_chroma) {
             GanConfig c;
             c.filters = filters;
             c.tracks = tracks;
             c.latent_channels = latent_channels;
             c.steps = steps;
             c.pitches = pitches;
             c.bn_momentum = bn_momentum;
             c.leak = leak;
             c.style = std::move(style);
             c.part_names = std::move(part_names);
             c.programs = std::move(programs);
             c.melody_mean_pitch = melody_mean_pitch;
             c.melody_chroma = melody_chroma;
             c.validate("GanConfig");
             return c;
           }),
           "filters"_a = dc.filters, "tracks"_a = dc.tracks, "latent_channels"_a = dc.latent_channels,
           "steps"_a = dc.steps, "pitches"_a = dc.pitches, "bn_momentum"_a = dc.bn_momentum, "leak"_a = dc.leak,
           "style"_a = dc.style, "part_names"_a = dc.part_names, "programs"_a = dc.programs,
           "melody_mean_pitch"_a = dc.melody_mean_pitch, "melody_chroma"_a = dc.melody_chroma)
      .def_static("reference", &GanConfig::reference,
                  "The reference network (generator about 8.3M parameters, critic about 2.8M).")
      .def_static("compact", &GanConfig::compact,
                  "The shipped size: F = 32, latent 256 (generator about 2.1M, critic 0.7M).")
      .def("with_quartet_style", &GanConfig::with_quartet_style,
           "A copy with the string-quartet style: parts Violin II, Viola, Cello (programs 40, 41, 42).")
      .def_readwrite("filters", &GanConfig::filters)
      .def_readwrite("tracks", &GanConfig::tracks)
      .def_readwrite("latent_channels", &GanConfig::latent_channels)
      .def_readwrite("steps", &GanConfig::steps)
      .def_readwrite("pitches", &GanConfig::pitches)
      .def_readwrite("bn_momentum", &GanConfig::bn_momentum)
      .def_readwrite("leak", &GanConfig::leak)
      .def_readwrite("style", &GanConfig::style)
      .def_readwrite("part_names", &GanConfig::part_names, "names of tracks 1..tracks-1 (assign a whole list)")
      .def_readwrite("programs", &GanConfig::programs, "GM programs (0-based) of the parts (assign a whole list)")
      .def_readwrite("melody_mean_pitch", &GanConfig::melody_mean_pitch)
      .def_readwrite("melody_chroma", &GanConfig::melody_chroma)
      .def(
          "validate", [](const GanConfig& c) { c.validate("GanConfig"); },
          "InvalidArgument if a field is out of range (steps and pitches multiples of 16, filters 1..1024, "
          "tracks 2..16, programs 0..127, one name and program per part).")
      .def("same_architecture", &GanConfig::same_architecture, "other"_a,
           "True when `other` builds the same networks (the style fields may differ).")
      .def("to_json", &GanConfig::to_json)
      .def_static(
          "from_json", [](const std::string& text) { return GanConfig::from_json(text, "GanConfig.from_json"); },
          "text"_a, "Parse to_json()'s output (WeightsError on anything else).")
      .def("__eq__", [](const GanConfig& a, const GanConfig& b) { return a.to_json() == b.to_json(); })
      .def("__repr__", [](const GanConfig& c) { return "GanConfig(" + c.to_json() + ")"; });
  py_bind::mapping_access(config_cls);

  py::class_<GanFitOptions>(m, "GanFitOptions", R"doc(The defaults of GAN.fit (and `partita train gan`).

Loop: epochs, max_steps (0: no step budget), max_steps_per_epoch (0: whole epochs), seed,
checkpoint_dir, resume. One step is critic_steps critic updates then one generator update,
each on its own batch of batch_size windows. Adam: lr, beta1, beta2; gp_weight: the gradient
penalty's weight. max_transpose: random transposition (semitones) among the shifts that keep
every voice in pitch_range (low, high). Validation: the critic's Wasserstein estimate on at
most max_valid_batches batches (0: all). Every sample_every steps (0: never) fit's on_sample
callback gets the generator's output for sample_count windows.)doc")
      .def(py::init<>())
      .def_readwrite("epochs", &GanFitOptions::epochs)
      .def_readwrite("max_steps", &GanFitOptions::max_steps)
      .def_readwrite("max_steps_per_epoch", &GanFitOptions::max_steps_per_epoch)
      .def_readwrite("seed", &GanFitOptions::seed)
      .def_readwrite("checkpoint_dir", &GanFitOptions::checkpoint_dir)
      .def_readwrite("resume", &GanFitOptions::resume)
      .def_readwrite("batch_size", &GanFitOptions::batch_size)
      .def_readwrite("lr", &GanFitOptions::lr)
      .def_readwrite("beta1", &GanFitOptions::beta1)
      .def_readwrite("beta2", &GanFitOptions::beta2)
      .def_readwrite("critic_steps", &GanFitOptions::critic_steps)
      .def_readwrite("gp_weight", &GanFitOptions::gp_weight)
      .def_readwrite("max_transpose", &GanFitOptions::max_transpose)
      .def_property(
          "pitch_range",
          [](const GanFitOptions& o) { return std::make_pair(o.range.low, o.range.high); },
          [](GanFitOptions& o, std::pair<int, int> r) { o.range = data::PitchRange{r.first, r.second}; },
          "(low, high) MIDI pitches every voice must stay within when transposed")
      .def_readwrite("max_valid_batches", &GanFitOptions::max_valid_batches)
      .def_readwrite("sample_every", &GanFitOptions::sample_every)
      .def_readwrite("sample_count", &GanFitOptions::sample_count)
      .def("__repr__", [](const GanFitOptions& o) {
        return "GanFitOptions(epochs=" + std::to_string(o.epochs) + ", batch_size=" + std::to_string(o.batch_size) +
               ", lr=" + fnum(o.lr) + ", critic_steps=" + std::to_string(o.critic_steps) +
               ", max_transpose=" + std::to_string(o.max_transpose) + ", seed=" + std::to_string(o.seed) + ", ...)";
      });

  auto opts_cls = py::class_<AccompanyOptions>(m, "AccompanyOptions", R"doc(What GAN.accompany does with a melody.

track: the melody track of the input score (-1: the first non-drum track with notes),
programs: one General MIDI program per part (None or empty: the model's style), seed: the
noise z of every window comes from it, threshold: a generated cell sounds when its value
(tanh, -1..1) is above it, min_note_steps: generated notes shorter than this many 16ths are
dropped, velocity: of the generated notes, monophonic: one note at a time per part (False:
every cell above the threshold sounds), leap_penalty: a monophonic part is the best line
through its values (a pitch scores its value, a rest the threshold) where each move to the
next pitch, across rests too, costs this much per semitone (0: the highest value above the
threshold at each step; larger: smoother lines in a narrower register).
AccompanyOptions() holds the defaults GAN.accompany and both command lines use.)doc")
      .def(py::init([](int track, const std::optional<std::vector<int>>& programs, std::uint64_t seed,
                       float threshold, int min_note_steps, int velocity, bool monophonic, float leap_penalty) {
             return accompany_options(track, programs, seed, threshold, min_note_steps, velocity, monophonic,
                                      leap_penalty);
           }),
           "track"_a = da.track, "programs"_a = py::none(), "seed"_a = da.seed, "threshold"_a = da.threshold,
           "min_note_steps"_a = da.min_note_steps, "velocity"_a = da.velocity, "monophonic"_a = da.monophonic,
           "leap_penalty"_a = da.leap_penalty)
      .def_readwrite("track", &AccompanyOptions::track)
      .def_readwrite("programs", &AccompanyOptions::programs, "empty: the model's style programs")
      .def_readwrite("seed", &AccompanyOptions::seed)
      .def_readwrite("threshold", &AccompanyOptions::threshold)
      .def_readwrite("min_note_steps", &AccompanyOptions::min_note_steps)
      .def_readwrite("velocity", &AccompanyOptions::velocity)
      .def_readwrite("monophonic", &AccompanyOptions::monophonic)
      .def_readwrite("leap_penalty", &AccompanyOptions::leap_penalty)
      .def("__repr__", [](const AccompanyOptions& o) {
        return "AccompanyOptions(track=" + std::to_string(o.track) + ", programs=" + int_list(o.programs) +
               ", seed=" + std::to_string(o.seed) + ", threshold=" + fnum(o.threshold) +
               ", min_note_steps=" + std::to_string(o.min_note_steps) + ", velocity=" + std::to_string(o.velocity) +
               ", monophonic=" + (o.monophonic ? "True" : "False") + ", leap_penalty=" + fnum(o.leap_penalty) +
               ")";
      });
  py_bind::mapping_access(opts_cls);

  auto report_cls =
      py::class_<AccompanyReport>(m, "AccompanyReport", "What one GAN.accompany call did.")
          .def_readonly("melody_track", &AccompanyReport::melody_track, "the input track used as the melody")
          .def_readonly("octave_shift", &AccompanyReport::octave_shift,
                        "semitones the melody was moved by into the model's register (a multiple of 12; "
                        "the parts were moved back)")
          .def_readonly("steps", &AccompanyReport::steps, "16th steps of the melody")
          .def_readonly("windows", &AccompanyReport::windows, "generator windows run")
          .def_readonly("notes_per_part", &AccompanyReport::notes_per_part, "generated notes of each part")
          .def("__repr__", [](const AccompanyReport& r) {
            std::string notes = "[";
            for (size_t i = 0; i < r.notes_per_part.size(); ++i)
              notes += (i ? ", " : "") + std::to_string(r.notes_per_part[i]);
            return "AccompanyReport(melody_track=" + std::to_string(r.melody_track) +
                   ", octave_shift=" + std::to_string(r.octave_shift) + ", steps=" + std::to_string(r.steps) +
                   ", windows=" + std::to_string(r.windows) + ", notes_per_part=" + notes + "])";
          });
  py_bind::mapping_access(report_cls);

  auto sample_cls =
      py::class_<SampleRecord>(m, "GanSample", "A snapshot fit's on_sample callback gets.")
          .def_readonly("global_step", &SampleRecord::global_step, "steps so far")
          .def_readonly("melody", &SampleRecord::melody,
                        "the windows' melodies, float32 (n, steps, pitches, 1) in {-1, +1}")
          .def_readonly("generated", &SampleRecord::generated,
                        "the generator's output (eval mode, a fixed z), float32 (n, steps, pitches, tracks) in "
                        "[-1, 1]")
          .def("__repr__", [](const SampleRecord& s) {
            return "GanSample(global_step=" + std::to_string(s.global_step) + ", generated shape " +
                   py::str(s.generated.attr("shape")).cast<std::string>() + ")";
          });
  py_bind::mapping_access(sample_cls);

  py::class_<GAN>(m, "GAN", R"doc(The melody-conditioned accompaniment GAN (the DeepComposer layout).

GAN(config=GanConfig.reference(), seed=0): freshly initialised networks (seeded), in training
mode. GAN.pretrained(name) loads a shipped model ("chorale" or "quartet"), GAN.load(path) any
saved one, both in eval mode. accompany() adds generated parts to a melody; generate() and
critique() run the two networks on numpy arrays in the model's layout
(n, steps, pitches, channels), values in [-1, 1]; fit() trains (WGAN-GP).)doc")
      .def(py::init([](const GanConfig& config, std::uint64_t seed) {
             config.validate("GAN");
             py::gil_scoped_release rel;
             return std::make_unique<GAN>(config, seed);
           }),
           "config"_a = GanConfig::reference(), "seed"_a = 0)
      .def_static(
          "load",
          [](const py_bind::PathArg& path) {
            py::gil_scoped_release rel;
            return std::make_unique<GAN>(GAN::load(path.str));
          },
          "path"_a,
          "The GAN a model file describes (kind \"gan\"), in eval mode, with the critic when the file "
          "holds it. WeightsError if the file is not such a model file.")
      .def_static(
          "pretrained",
          [](const std::string& name) {
            py::gil_scoped_release rel;
            return std::make_unique<GAN>(GAN::pretrained(name));
          },
          "name"_a = "chorale",
          "A shipped GAN by name (partita.models_available()): \"chorale\" (aliases \"gan\", "
          "\"gan-chorale\") or \"quartet\" (\"gan-quartet\"), in eval mode. IoError when its file is not "
          "installed (partita.shipped_model_path(name) says where it was looked for).")
      .def_property_readonly_static("DEFAULTS", [](const py::object&) { return GanFitOptions(); },
                                    "GanFitOptions(): the defaults of fit()")
      .def(
          "save",
          [](const GAN& g, const py_bind::PathArg& path, const std::optional<std::map<std::string, std::string>>& extra,
             bool with_critic) {
            std::vector<std::pair<std::string, std::string>> md;
            if (extra) md.assign(extra->begin(), extra->end());
            if (with_critic && !g.has_critic())
              throw InvalidArgument("GAN.save: this model has no critic (loaded from a generator-only file); "
                                    "pass with_critic=False");
            py::gil_scoped_release rel;
            g.save(path.str, md, with_critic);
          },
          "path"_a, "extra"_a = py::none(), "with_critic"_a = true,
          "Save a model file (kind \"gan\", the config, `extra` str -> str metadata) atomically. "
          "with_critic=False writes the generator alone: all accompany() needs, a quarter the size.")
      .def_property_readonly(
          "config", [](const GAN& g) { return g.config(); }, "the GanConfig (a copy; change the style with set_style)")
      .def(
          "set_style", [](GAN& g, const GanConfig& style) { g.set_style(style); }, "style"_a,
          "Take the style fields (style, part_names, programs, melody_mean_pitch) of `style`; "
          "InvalidArgument if its architecture differs.")
      .def_property_readonly("generator_parameter_count", &GAN::generator_parameter_count,
                             "trainable parameters of the generator")
      .def_property_readonly("critic_parameter_count", &GAN::critic_parameter_count,
                             "trainable parameters of the critic")
      .def_property_readonly("has_critic", &GAN::has_critic,
                             "False for a generator-only model file: fit() and critique() refuse then")
      .def(
          "generator_parameters", [](GAN& g) -> nn::ParameterSet& { return g.generator_parameters(); },
          py::return_value_policy::reference_internal,
          "The generator's ParameterSet (numpy views of the weights; names \"generator.*\").")
      .def(
          "critic_parameters", [](GAN& g) -> nn::ParameterSet& { return g.critic_parameters(); },
          py::return_value_policy::reference_internal, "The critic's ParameterSet (names \"critic.*\").")
      .def_property("training", &GAN::training, &GAN::set_training,
                    "training mode (BatchNorm on batch statistics) or eval mode (running statistics)")
      .def_property("packed_inference", &GAN::packed_inference, &GAN::set_packed_inference,
                    "In eval mode generate() and accompany() run a copy of the generator packed\n"
                    "for one window at a time (faster; equal to the layers up to float rounding;\n"
                    "repacked after the weights change, not used while numpy views of them are\n"
                    "alive). False frees the copy and runs the layers.")
      .def(
          "train",
          [](GAN& g, bool mode) -> GAN& {
            g.set_training(mode);
            return g;
          },
          py::return_value_policy::reference, "mode"_a = true,
          "Set training mode (or eval mode with mode=False); returns the model.")
      .def(
          "eval",
          [](GAN& g) -> GAN& {
            g.set_training(false);
            return g;
          },
          py::return_value_policy::reference, "Set eval mode; returns the model.")
      .def(
          "sample_latent",
          [](const GAN& g, std::int64_t n, std::uint64_t seed) {
            Tensor z;
            {
              py::gil_scoped_release rel;
              Generator rng(seed);
              z = g.sample_latent(n, rng);
            }
            return py_bind::array_from_tensor(z);
          },
          "n"_a, "seed"_a = 0,
          "Noise z for n windows: float32 (n, steps/16, pitches/16, latent_channels) from the truncated "
          "normal, seeded.")
      .def(
          "generate",
          [](GAN& g, const FloatArray& melody, const FloatArray& z) {
            const GanConfig& c = g.config();
            const Tensor mt = py_bind::tensor_from_array(melody, 4, "GAN.generate: melody", window_shape(c, 1));
            const Tensor zt = py_bind::tensor_from_array(
                z, 4, "GAN.generate: z",
                "(n, " + std::to_string(c.steps / 16) + ", " + std::to_string(c.pitches / 16) + ", " +
                    std::to_string(c.latent_channels) + ")");
            Tensor y;
            {
              py::gil_scoped_release rel;
              y = copy_of(g.generate(mt, zt));
            }
            return py_bind::array_from_tensor(y);
          },
          "melody"_a, "z"_a,
          "G(melody, z) in the current mode: melody float32 (n, steps, pitches, 1) in [-1, 1] (+1 a note), "
          "z as sample_latent's; returns (n, steps, pitches, tracks) in [-1, 1] (tanh). ShapeError on "
          "other shapes.")
      .def(
          "critique",
          [](GAN& g, const FloatArray& x, const FloatArray& melody) {
            const GanConfig& c = g.config();
            if (!g.has_critic())
              throw InvalidArgument("GAN.critique: this model has no critic (loaded from a generator-only file)");
            const Tensor xt = py_bind::tensor_from_array(x, 4, "GAN.critique: x", window_shape(c, c.tracks));
            const Tensor mt = py_bind::tensor_from_array(melody, 4, "GAN.critique: melody", window_shape(c, 1));
            Tensor y;
            {
              py::gil_scoped_release rel;
              y = copy_of(g.critique(xt, mt));
            }
            return py_bind::array_from_tensor(y);
          },
          "x"_a, "melody"_a,
          "D(x | melody): scores (n, 1) of multitrack windows x (n, steps, pitches, tracks) given their "
          "melodies (n, steps, pitches, 1), in the current mode.")
      .def(
          "accompany",
          [](GAN& g, const std::variant<Score, py_bind::PathArg>& score, int track,
             const std::optional<std::vector<int>>& programs, std::uint64_t seed, float threshold,
             int min_note_steps, int velocity, bool monophonic, float leap_penalty, bool return_report) -> py::object {
            const AccompanyOptions o = accompany_options(track, programs, seed, threshold, min_note_steps, velocity,
                                                         monophonic, leap_penalty);
            AccompanyReport rep;
            Score out;
            {
              py::gil_scoped_release rel;
              if (const auto* path = std::get_if<py_bind::PathArg>(&score))
                out = g.accompany(read_midi(path->str), o, &rep);
              else
                out = g.accompany(std::get<Score>(score), o, &rep);
            }
            if (return_report) return py::make_tuple(out, rep);
            return py::cast(std::move(out));
          },
          "score"_a, "track"_a = da.track, "programs"_a = py::none(), "seed"_a = da.seed,
          "threshold"_a = da.threshold, "min_note_steps"_a = da.min_note_steps, "velocity"_a = da.velocity,
          "monophonic"_a = da.monophonic, "leap_penalty"_a = da.leap_penalty, "return_report"_a = false,
          R"doc(Accompany the melody in `track` of `score` (a Score or a MIDI file's path).

Returns a Score with the input's tempo map, meters and key signatures, the melody track
unchanged (notes, program, name) and one named track per generated part (the model's style
programs unless `programs`; velocity `velocity`). The melody is read on 16th notes, moved by
octaves into the model's register (the parts are moved back) and accompanied 2 bars at a
time, each window with its own noise from `seed`. threshold: a cell sounds above it (-1..1);
monophonic: one note at a time per part (False: every cell above the threshold);
leap_penalty: a monophonic part is the best line through its values, each move to the next
pitch costing this much per semitone (0: the highest value above the threshold at each
step); min_note_steps: shorter generated notes are dropped. With return_report=True:
(Score, AccompanyReport). Defaults: partita.AccompanyOptions().)doc")
      .def(
          "accompany_roll",
          [](GAN& g, const py::object& roll, const std::optional<std::vector<int>>& programs, std::uint64_t seed,
             float threshold, int min_note_steps, bool monophonic, float leap_penalty,
             bool return_report) -> py::object {
            const AccompanyOptions o = accompany_options(-1, programs, seed, threshold, min_note_steps,
                                                         AccompanyOptions().velocity, monophonic, leap_penalty);
            const PianoRoll r = py_bind::model_roll_from_python(roll, "GAN.accompany_roll");
            AccompanyReport rep;
            MultiTrackRoll parts;
            {
              py::gil_scoped_release rel;
              parts = g.accompany_roll(r, o, &rep);
            }
            const GanConfig& c = g.config();
            const std::vector<int>& progs = o.programs.empty() ? c.programs : o.programs;
            for (size_t k = 0; k < parts.info.size(); ++k) {
              parts.info[k].name = c.part_names.at(k);
              parts.info[k].program = progs.at(k);
              parts.info[k].is_drum = false;
            }
            if (return_report) return py::make_tuple(std::move(parts), rep);
            return py::cast(std::move(parts));
          },
          "roll"_a, "programs"_a = py::none(), "seed"_a = da.seed, "threshold"_a = da.threshold,
          "min_note_steps"_a = da.min_note_steps, "monophonic"_a = da.monophonic,
          "leap_penalty"_a = da.leap_penalty, "return_report"_a = false,
          "Accompany a melody roll on the 16th-note grid: a partita.PianoRoll of resolution 4 (another "
          "resolution raises InvalidArgument) or a (time, 128) array (non-zero = note), of any length. "
          "Returns the generated parts (not the melody) as a binary MultiTrackRoll of the melody's length "
          "and grid, tracks named and programmed as the model's style (or `programs`); with "
          "return_report=True, (MultiTrackRoll, AccompanyReport).")
      .def(
          "fit",
          [](GAN& g, const data::MultiTrackWindows& train,
             const std::optional<std::shared_ptr<data::MultiTrackWindows>>& valid, int epochs, std::int64_t max_steps,
             std::int64_t max_steps_per_epoch, std::int64_t batch_size, double lr, double beta1, double beta2,
             int critic_steps, double gp_weight, std::uint64_t seed,
             const std::optional<py_bind::PathArg>& checkpoint_dir,
             bool resume, int max_transpose, std::pair<int, int> pitch_range, std::int64_t max_valid_batches,
             std::int64_t sample_every, std::int64_t sample_count, StepCallback on_step, EpochCallback on_epoch,
             SampleCallback on_sample, bool progress) {
            GanFitOptions o;
            o.epochs = epochs;
            o.max_steps = max_steps;
            o.max_steps_per_epoch = max_steps_per_epoch;
            o.batch_size = batch_size;
            o.lr = lr;
            o.beta1 = beta1;
            o.beta2 = beta2;
            o.critic_steps = critic_steps;
            o.gp_weight = gp_weight;
            o.seed = seed;
            o.checkpoint_dir = checkpoint_dir ? checkpoint_dir->str : std::string();
            o.resume = resume;
            o.max_transpose = max_transpose;
            o.range = data::PitchRange{pitch_range.first, pitch_range.second};
            o.max_valid_batches = max_valid_batches;
            o.sample_every = sample_every;
            o.sample_count = sample_count;
            // The samples' noise is drawn for one batch: more samples than that would not have any.
            if (sample_every > 0 && sample_count > batch_size)
              throw InvalidArgument("GAN.fit: sample_count (" + std::to_string(sample_count) +
                                    ") must not exceed batch_size (" + std::to_string(batch_size) + ")");
            const data::MultiTrackWindows empty(g.config().tracks, g.config().steps);
            const data::MultiTrackWindows& v = valid && *valid ? **valid : empty;
            py_bind::FitHooks hooks(progress, std::move(on_step), std::move(on_epoch));
            GanCallbacks cb;
            hooks.install(cb);
            if (!on_sample.is_none())
              cb.on_sample = [&on_sample](const GanSample& s) {
                py::gil_scoped_acquire gil;
                SampleRecord rec{s.global_step, py_bind::array_from_tensor(s.melody),
                                 py_bind::array_from_tensor(s.generated)};
                on_sample(std::move(rec));
              };
            return hooks.run([&] { return g.fit(train, v, o, cb); });
          },
          "train"_a, "valid"_a = py::none(), py::kw_only(), "epochs"_a = df.epochs, "max_steps"_a = df.max_steps,
          "max_steps_per_epoch"_a = df.max_steps_per_epoch, "batch_size"_a = df.batch_size, "lr"_a = df.lr,
          "beta1"_a = df.beta1, "beta2"_a = df.beta2, "critic_steps"_a = df.critic_steps,
          "gp_weight"_a = df.gp_weight, "seed"_a = df.seed, "checkpoint_dir"_a = py::none(), "resume"_a = df.resume,
          "max_transpose"_a = df.max_transpose, "pitch_range"_a = std::make_pair(df.range.low, df.range.high),
          "max_valid_batches"_a = df.max_valid_batches, "sample_every"_a = df.sample_every,
          "sample_count"_a = df.sample_count, "on_step"_a = py::none(), "on_epoch"_a = py::none(),
          "on_sample"_a = py::none(), "progress"_a = true,
          R"doc(Train (WGAN-GP) on `train` windows (MultiTrackWindows), validating on `valid` each epoch.

One step: critic_steps critic updates, then one generator update. The step losses are
'critic' (Wasserstein estimate + penalty of the last critic update, the main loss),
'generator', 'wasserstein' and 'penalty'; the validation loss is the critic's Wasserstein
estimate mean D(real) - mean D(fake) (lower is better). Windows are transposed at random by
up to max_transpose semitones within pitch_range. The C++ loop runs without the GIL.
on_step(StepInfo) after every step (return False to stop), on_epoch(EpochInfo) after every
epoch, on_sample(GanSample) every sample_every steps (sample_count <= batch_size windows).
With `checkpoint_dir`, last/best model files (generator and critic) and both optimizers'
state are written atomically each epoch; resume=True continues from them exactly.
progress=True shows a tqdm bar. The model's mode is restored afterwards. Defaults:
GAN.DEFAULTS. Returns a FitResult.)doc")
      .def("__repr__", [](const GAN& g) {
        const GanConfig& c = g.config();
        return "GAN(style='" + c.style + "', parts=" + quoted_list(c.part_names) + ", filters=" +
               std::to_string(c.filters) + ", latent_channels=" + std::to_string(c.latent_channels) +
               ", generator=" + std::to_string(g.generator_parameter_count()) + " parameters, critic=" +
               (g.has_critic() ? std::to_string(g.critic_parameter_count()) + " parameters" : std::string("none")) +
               (g.training() ? ", training" : ", eval") + ")";
      });
}

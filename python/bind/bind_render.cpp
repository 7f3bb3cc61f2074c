// Python bindings for rendering: Synth (FluidSynth), write_wav / read_wav
// (libsndfile) and find_soundfont. Thin: the behaviour lives in
// include/partita/render/*.hpp. Audio crosses into numpy without a copy: the
// rendered Tensor is moved into a capsule that the array owns.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <memory>
#include <optional>
#include <string>

#include "partita/core/error.hpp"
#include "partita/render/synth.hpp"
#include "partita/render/wav.hpp"
#include "path_arg.hpp"
#include "registry.hpp"

#if PARTITA_HAVE_RENDER

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using partita::py_bind::PathArg;

// What read_wav returns (Python: partita.WavData); unpacks as `audio, rate = read_wav(p)`.
struct WavData {
  py::array_t<float> samples;  // (frames, channels) float32
  int sample_rate = 0;
};

// A (frames, channels) float32 numpy array that owns `t`'s buffer.
py::array_t<float> to_numpy(partita::Tensor&& t) {
  auto* owner = new partita::Tensor(std::move(t));
  py::capsule free_when_done(owner, [](void* p) { delete static_cast<partita::Tensor*>(p); });
  const py::ssize_t frames = owner->rank() == 2 ? owner->dim(0) : 0;
  const py::ssize_t channels = owner->rank() == 2 ? owner->dim(1) : 2;
  static float empty[2] = {0, 0};
  float* data = owner->data() ? owner->data() : empty;
  return py::array_t<float>({frames, channels},
                            {channels * static_cast<py::ssize_t>(sizeof(float)),
                             static_cast<py::ssize_t>(sizeof(float))},
                            data, free_when_done);
}

partita::WavFormat wav_format(const std::string& subtype) {
  if (subtype == "PCM_16") return partita::WavFormat::PCM16;
  if (subtype == "FLOAT") return partita::WavFormat::Float;
  throw partita::InvalidArgument("write_wav: subtype must be 'PCM_16' or 'FLOAT', got '" + subtype + "'");
}

}  // namespace

PARTITA_BIND(render, 30) {
  using partita::Synth;
  using partita::SynthOptions;

  m.def(
      "find_soundfont",
      [](const std::optional<PathArg>& path) {
        return partita::find_soundfont(path ? path->str : std::string());
      },
      "path"_a = py::none(),
      "The SoundFont to use: `path` if given, else $PARTITA_SOUNDFONT, else the first one\n"
      "installed at a known system path (Debian: /usr/share/sounds/sf2/FluidR3_GM.sf2 from\n"
      "fluid-soundfont-gm). Raises RenderError saying what to install when none is found.");
  m.def("default_soundfont_paths", &partita::default_soundfont_paths,
        "The system paths find_soundfont() looks at, in order.");

  py::class_<Synth>(m, "Synth",
                    "Offline General MIDI synthesizer (FluidSynth) with one SoundFont loaded.\n\n"
                    "render(score) returns float32 stereo audio (frames, 2) lasting the score's\n"
                    "duration plus `tail` seconds. Renders are independent and deterministic.\n"
                    "Each track gets its own channel (program from Track.program; drum tracks use\n"
                    "the GM percussion bank, the first on channel 10).")
      .def(py::init([](const std::optional<PathArg>& soundfont, int sample_rate, double gain,
                       double tail, bool reverb, bool chorus, int polyphony) {
             SynthOptions o;
             if (soundfont) o.soundfont = soundfont->str;
             o.sample_rate = sample_rate;
             o.gain = gain;
             o.tail_seconds = tail;
             o.reverb = reverb;
             o.chorus = chorus;
             o.polyphony = polyphony;
             py::gil_scoped_release release;  // loading a large SoundFont takes a moment
             return std::make_unique<Synth>(o);
           }),
           "soundfont"_a = py::none(), "sample_rate"_a = 44100, "gain"_a = 0.5, "tail"_a = 1.0,
           "reverb"_a = false, "chorus"_a = false, "polyphony"_a = 256)
      .def(
          "render",
          [](Synth& self, const partita::Score& score) {
            partita::Tensor audio;
            {
              py::gil_scoped_release release;
              self.render(score, audio);
            }
            return to_numpy(std::move(audio));
          },
          "score"_a, "Render a Score to a float32 numpy array of shape (frames, 2).")
      .def("frames", &Synth::frames, "score"_a, "Number of frames render(score) returns.")
      .def_property_readonly("soundfont", &Synth::soundfont, "path of the loaded SoundFont")
      .def_property_readonly("sample_rate", &Synth::sample_rate, "Hz")
      .def_property_readonly("channels", &Synth::channels, "audio channels (2: stereo)")
      .def_property("gain", &Synth::gain, &Synth::set_gain, "output gain (0..10)")
      .def_property("tail", &Synth::tail, &Synth::set_tail, "seconds rendered after the last note")
      .def_property_readonly("reverb", &Synth::reverb)
      .def_property_readonly("chorus", &Synth::chorus)
      .def("__repr__", [](const Synth& s) {
        return "Synth(soundfont=" + py::repr(py::str(s.soundfont())).cast<std::string>() +
               ", sample_rate=" + std::to_string(s.sample_rate()) + ")";
      });

  py::class_<WavData>(m, "WavData",
                      "Audio read by read_wav: samples (float32, (frames, channels)) and sample_rate "
                      "(Hz); unpacks as `audio, rate = read_wav(path)`.")
      .def_readonly("samples", &WavData::samples, "float32 array (frames, channels)")
      .def_readonly("sample_rate", &WavData::sample_rate, "Hz")
      .def_property_readonly(
          "seconds", [](const WavData& w) { return w.sample_rate > 0 ? double(w.samples.shape(0)) / w.sample_rate : 0.0; },
          "duration in seconds")
      .def("__len__", [](const WavData&) { return 2; })
      .def(
          "__getitem__",
          [](const WavData& w, py::ssize_t i) -> py::object {
            if (i == 0 || i == -2) return w.samples;
            if (i == 1 || i == -1) return py::int_(w.sample_rate);
            throw py::index_error("WavData index out of range (0: samples, 1: sample_rate)");
          },
          "index"_a)
      .def("__iter__",
           [](const WavData& w) -> py::typing::Iterator<py::object> {
             return py::iter(py::make_tuple(w.samples, w.sample_rate));
           })
      .def("__repr__", [](const WavData& w) {
        return "WavData(frames=" + std::to_string(w.samples.shape(0)) + ", channels=" +
               std::to_string(w.samples.ndim() > 1 ? w.samples.shape(1) : 1) + ", sample_rate=" +
               std::to_string(w.sample_rate) + ")";
      });

  m.def(
      "write_wav",
      [](const PathArg& path, py::array_t<float, py::array::c_style | py::array::forcecast> audio,
         int sample_rate, const std::string& subtype) {
        const std::string p = path.str;
        const partita::WavFormat format = wav_format(subtype);
        if (audio.ndim() != 1 && audio.ndim() != 2)
          throw partita::ShapeError("write_wav: audio must be (frames, channels) or (frames,), got " +
                                    std::to_string(audio.ndim()) + " dimensions");
        const std::int64_t frames = audio.shape(0);
        const std::int64_t channels = audio.ndim() == 2 ? audio.shape(1) : 1;
        if (channels < 1 || channels > 1024)
          throw partita::ShapeError("write_wav: audio must have 1..1024 channels, got " +
                                    std::to_string(channels));
        const float* data = audio.data();
        py::gil_scoped_release release;
        partita::write_wav(p, data, frames, static_cast<int>(channels), sample_rate, format);
      },
      "path"_a, "audio"_a, "sample_rate"_a, "subtype"_a = "PCM_16",
      "Write float audio (frames, channels) or (frames,) as a WAV file, atomically.\n"
      "subtype 'PCM_16' (values outside [-1, 1] are clipped) or 'FLOAT' (32-bit, kept as is).");
  m.def(
      "read_wav",
      [](const PathArg& path) {
        const std::string p = path.str;
        partita::Audio a;
        {
          py::gil_scoped_release release;
          a = partita::read_wav(p);
        }
        const int rate = a.sample_rate;
        return WavData{to_numpy(std::move(a.samples)), rate};
      },
      "path"_a,
      "Read an audio file: a WavData (.samples: float32 array (frames, channels), .sample_rate);\n"
      "unpacks as `audio, rate = read_wav(path)`.");
}

#endif  // PARTITA_HAVE_RENDER

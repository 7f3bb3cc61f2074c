// Performance-event bindings (partita/music/events.hpp): a Score as the
// DeepComposer Transformer-XL's 310 performance tokens (a numpy int32 array)
// and back. EventOptions carries the vocabulary layout and the pedal switch;
// EventStats says what encoding did to the notes (dropped, lengthened, ...).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/music/events.hpp"
#include "registry.hpp"
#include "token_arrays.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using partita::EventOptions;
using partita::EventStats;
using partita::Score;
using partita::py_bind::token_array;
using partita::py_bind::tokens_from_python;

std::string flag(bool b) { return b ? "True" : "False"; }

}  // namespace

PARTITA_BIND(events, 35) {
  const EventOptions d;
  py::class_<EventOptions>(m, "EventOptions", R"doc(Layout of the performance vocabulary.

steps_per_second: time resolution (100: 10 ms steps), velocity_bins: VELOCITY tokens,
min_pitch / max_pitch: the NOTE_ON / NOTE_OFF range (others are dropped),
max_shift_steps: the longest TIME_SHIFT token, sustain: apply controller 64 before
encoding. EventOptions() is the AWS DeepComposer Transformer-XL vocabulary (310 tokens).)doc")
      .def(py::init([](int steps_per_second, int velocity_bins, int min_pitch, int max_pitch, int max_shift_steps,
                       bool sustain) {
             EventOptions o;
             o.steps_per_second = steps_per_second;
             o.velocity_bins = velocity_bins;
             o.min_pitch = min_pitch;
             o.max_pitch = max_pitch;
             o.max_shift_steps = max_shift_steps;
             o.sustain = sustain;
             o.validate("EventOptions");
             return o;
           }),
           "steps_per_second"_a = d.steps_per_second, "velocity_bins"_a = d.velocity_bins,
           "min_pitch"_a = d.min_pitch, "max_pitch"_a = d.max_pitch, "max_shift_steps"_a = d.max_shift_steps,
           "sustain"_a = d.sustain)
      .def_readwrite("steps_per_second", &EventOptions::steps_per_second)
      .def_readwrite("velocity_bins", &EventOptions::velocity_bins)
      .def_readwrite("min_pitch", &EventOptions::min_pitch)
      .def_readwrite("max_pitch", &EventOptions::max_pitch)
      .def_readwrite("max_shift_steps", &EventOptions::max_shift_steps)
      .def_readwrite("sustain", &EventOptions::sustain)
      .def_property_readonly("vocab_size", &EventOptions::vocab_size, "number of tokens (310 by default)")
      .def("time_shift_token", &EventOptions::time_shift_token, "steps"_a, "token of a shift of 1..max_shift_steps")
      .def("note_on_token", &EventOptions::note_on_token, "pitch"_a, "token of NOTE_ON pitch")
      .def("note_off_token", &EventOptions::note_off_token, "pitch"_a, "token of NOTE_OFF pitch")
      .def("velocity_token", &EventOptions::velocity_token, "bin"_a, "token of VELOCITY bin (1-based)")
      .def("velocity_bin", &EventOptions::velocity_bin, "velocity"_a, "bin 1..velocity_bins of a MIDI velocity")
      .def("bin_velocity", &EventOptions::bin_velocity, "bin"_a, "the velocity a bin decodes to")
      .def("__repr__", [](const EventOptions& o) {
        return "EventOptions(steps_per_second=" + std::to_string(o.steps_per_second) +
               ", velocity_bins=" + std::to_string(o.velocity_bins) + ", min_pitch=" + std::to_string(o.min_pitch) +
               ", max_pitch=" + std::to_string(o.max_pitch) + ", max_shift_steps=" +
               std::to_string(o.max_shift_steps) + ", sustain=" + flag(o.sustain) + ")";
      });

  py::class_<EventStats>(m, "EventStats", "What encode_performance did to the notes it was given.")
      .def_readonly("notes_in", &EventStats::notes_in, "notes of the encoded track(s)")
      .def_readonly("notes_encoded", &EventStats::notes_encoded, "NOTE_ON tokens written")
      .def_readonly("dropped_out_of_range", &EventStats::dropped_out_of_range, "notes outside the pitch range")
      .def_readonly("sustained", &EventStats::sustained, "notes lengthened by the sustain pedal")
      .def_readonly("truncated_overlaps", &EventStats::truncated_overlaps,
                    "notes ended early by a new onset of their pitch")
      .def_readonly("lengthened_zero", &EventStats::lengthened_zero, "notes given one step (zero after rounding)")
      .def_readonly("merged_duplicates", &EventStats::merged_duplicates, "same pitch and onset step: one note kept")
      .def("__repr__", [](const EventStats& s) {
        return "EventStats(notes_in=" + std::to_string(s.notes_in) + ", notes_encoded=" +
               std::to_string(s.notes_encoded) + ", dropped_out_of_range=" + std::to_string(s.dropped_out_of_range) +
               ", sustained=" + std::to_string(s.sustained) + ", truncated_overlaps=" +
               std::to_string(s.truncated_overlaps) + ", lengthened_zero=" + std::to_string(s.lengthened_zero) +
               ", merged_duplicates=" + std::to_string(s.merged_duplicates) + ")";
      });

  m.def(
      "encode_performance",
      [](const Score& score, int track, const EventOptions& options) {
        return token_array(partita::encode_performance(score, track, options));
      },
      "score"_a, "track"_a = -1, "options"_a = d,
      R"doc(Performance tokens (int32 array) of a Score's track (-1: all non-drum tracks merged).

Seconds come from the Score's tempo map; times round to the nearest step; the sustain
pedal lengthens released notes; notes outside min_pitch..max_pitch are dropped (see
encode_performance_stats for the counts).)doc");
  m.def(
      "encode_performance_stats",
      [](const Score& score, int track, const EventOptions& options) {
        EventStats st;
        auto tokens = partita::encode_performance(score, track, options, &st);
        return std::make_pair(token_array(tokens), st);
      },
      "score"_a, "track"_a = -1, "options"_a = d,
      "encode_performance plus an EventStats of what happened to the notes.");
  m.def(
      "decode_performance",
      [](const py::typing::Iterable<py::int_>& tokens, const EventOptions& options, int ticks_per_quarter, double qpm) {
        return partita::decode_performance(tokens_from_python(tokens, "decode_performance"), options, ticks_per_quarter,
                                           qpm);
      },
      "tokens"_a, "options"_a = d, "ticks_per_quarter"_a = 480, "qpm"_a = 120.0,
      R"doc(A one-track Score (one tempo, qpm) from performance tokens.

<S> and <PAD> are skipped; notes still on at the end are ended there; a token outside
[0, vocab_size) raises ValueError naming its position.)doc");
}

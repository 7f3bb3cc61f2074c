// Melody rolls as the models' bind files take them (ARCNN.edit_roll,
// GAN.accompany_roll); defined in bind_data.cpp.
#pragma once
#include <pybind11/pybind11.h>

#include "partita/music/pianoroll.hpp"

namespace partita::py_bind {
/// A partita.PianoRoll as it is (a handle on the same cells), or anything numpy
/// reads as a (time, 128) array as a binary roll at resolution 4 (a copy, cells
/// non-zero -> 1). ShapeError naming `who` otherwise.
PianoRoll model_roll_from_python(const pybind11::object& roll, const char* who);
}  // namespace partita::py_bind

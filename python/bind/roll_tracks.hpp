// Tracks of a MultiTrackRoll as PianoRoll objects that stay tied to it.
//
// `multi[i]` and `multi.tracks` hand out PianoRolls sharing track i's cells
// (partita::MultiTrackRoll::track). A side table remembers which MultiTrackRoll
// track each such Python object stands for, so setting its program, is_drum or
// name writes through, and setting its grid (shared by all tracks) raises
// InvalidArgument instead of silently changing a copy. An entry lives as long as
// its PianoRoll object (a weak reference's callback removes it), so a reused
// address never finds a stale link. Used by bind_pianoroll.cpp only.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/music/pianoroll.hpp"
#include "named_object.hpp"

namespace partita::py_bind {
// A PianoRoll Python object handed out as a track of a MultiTrackRoll (named so in signatures).
struct PianoRollTag {
  static constexpr auto name = pybind11::detail::const_name("partita._core.PianoRoll");
};
using PianoRollObject = NamedObject<PianoRollTag>;
}  // namespace partita::py_bind

namespace partita::py_bind {

namespace py = pybind11;

// Which MultiTrackRoll track a PianoRoll object stands for (see the file comment).
// Keyed by the PianoRoll's Python object; the entry goes when that object does
// (a weak reference's callback), so a reused address never finds a stale link.
struct TrackLink {
  py::object multi;
  std::size_t index = 0;
  py::object weakref;
};
inline std::unordered_map<PyObject*, TrackLink>& track_links() {
  static auto* links = new std::unordered_map<PyObject*, TrackLink>();  // never destroyed: holds Python objects
  return *links;
}
// Weak references whose callback ran: dropped on the next link, not inside their own callback.
inline std::vector<py::object>& spent_weakrefs() {
  static auto* spent = new std::vector<py::object>();
  return *spent;
}

inline py::object linked_track(const py::object& multi, std::size_t index) {
  spent_weakrefs().clear();
  py::object roll = py::cast(multi.cast<const partita::MultiTrackRoll&>().track(index));
  PyObject* key = roll.ptr();
  py::cpp_function forget([key](const py::handle&) {
    auto it = track_links().find(key);
    if (it == track_links().end()) return;
    spent_weakrefs().push_back(std::move(it->second.weakref));
    track_links().erase(it);
  });
  track_links()[key] = TrackLink{multi, index, py::weakref(roll, forget)};
  return roll;
}

inline const TrackLink* link_of(const py::handle& roll) {
  auto it = track_links().find(roll.ptr());
  return it == track_links().end() ? nullptr : &it->second;
}

// Per-track metadata of a PianoRoll: set on the roll and, for a track of a
// MultiTrackRoll, on that track.
template <class F>
void set_info(const py::object& self, F&& set) {
  set(self.cast<partita::PianoRoll&>().info);
  if (const TrackLink* l = link_of(self)) set(l->multi.cast<partita::MultiTrackRoll&>().info.at(l->index));
}

// Grid fields are shared by every track of a MultiTrackRoll.
inline void refuse_track_grid(const py::object& self, const char* who) {
  if (const TrackLink* l = link_of(self))
    throw partita::InvalidArgument(std::string(who) + ": this roll is track " + std::to_string(l->index) +
                          " of a MultiTrackRoll, whose tracks share one grid; use .copy() for a "
                                   "free-standing roll");
}

}  // namespace partita::py_bind

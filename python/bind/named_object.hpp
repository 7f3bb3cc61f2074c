// A Python object handed across the binding as is, but named in signatures and
// stubs by the type it is at run time (pretty_midi.PrettyMIDI, a PianoRoll
// linked to its MultiTrackRoll): NamedObject<Tag> with Tag::name a const_name.
#pragma once
#include <pybind11/pybind11.h>

namespace partita::py_bind {

template <class Tag>
class NamedObject : public pybind11::object {
 public:
  using object::object;
  static bool check_(pybind11::handle h) { return h.ptr() != nullptr; }
};

}  // namespace partita::py_bind

namespace pybind11::detail {
template <class Tag>
struct handle_type_name<partita::py_bind::NamedObject<Tag>> {
  static constexpr auto name = Tag::name;
};
}  // namespace pybind11::detail

// Live Python views of the lists inside a Score: `score.tracks`,
// `track.notes`, `score.tempos`, ... are list-like objects bound to the C++
// vector they show, and their items are views of one element, so
//
//   score.tracks[0].notes.append(partita.Note(60, 100, 0, 480))
//   score.tracks[0].notes[3].pitch = 62
//   score.tempos[0].qpm = 90
//
// change the Score itself, as the same lines change a pretty_midi.PrettyMIDI.
//
// Safety: nothing keeps a pointer into a std::vector. A list view keeps its
// owner (the Score, or the Track view) alive and looks the vector up on every
// call; an item view keeps the list's owner and its position, and looks the
// element up on every access. A view of a position past the end (the element
// was removed) raises IndexError instead of reading freed memory.
//
// Semantics worth knowing (documented for users in docs/python.md):
// * An item view is a view of a *position*: after an insert, delete or sort
//   earlier in the list it shows whatever element now sits there.
// * A free-standing object (e.g. `Note(...)` made by the user) owns its value.
//   Appending, inserting or assigning it into a list copies the value into the
//   list and turns the object into a view of its new position, so later edits
//   through it still reach the list (as with a pretty_midi object). An object
//   that is already a view is copied and stays a view of where it was.
// * Constructors (`Track(notes=[...])`, `Score(tracks=[...])`) and pickling copy.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/typing.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace partita::py_bind {

namespace py = pybind11;

// Where a std::vector<T> lives: its Python owner (kept alive) and a function
// that finds the vector inside it.
template <class T>
struct ListSource {
  py::object owner;
  std::vector<T>& (*resolve)(const py::object&) = nullptr;
  std::vector<T>& get() const { return resolve(owner); }
};

// The Python face of one T: either a value owned here, or a view of position
// `index` of a live list.
template <class T>
class Item {
 public:
  explicit Item(T value = T{}) : own_(std::make_shared<T>(std::move(value))) {}
  Item(ListSource<T> source, std::size_t index) : source_(std::move(source)), index_(index) {}

  bool is_view() const { return !own_; }
  const py::object& owner() const { return source_.owner; }

  // The element itself (a reference into the live list for a view).
  T& get(const char* who) const {
    if (own_) return *own_;
    std::vector<T>& v = source_.get();
    if (index_ >= v.size())
      throw py::index_error(std::string(who) + ": this view shows position " + std::to_string(index_) +
                            " of a list that now has " + std::to_string(v.size()) +
                            " items (the element was removed)");
    return v[index_];
  }
  T& get() const { return get("partita view"); }

  // Turn a free-standing value into a view of `index` in `source` (see above).
  void become_view(ListSource<T> source, std::size_t index) {
    own_.reset();
    source_ = std::move(source);
    index_ = index;
  }

 private:
  std::shared_ptr<T> own_;
  ListSource<T> source_;
  std::size_t index_ = 0;
};

// A list-like view of a live std::vector<T> (see the file comment).
template <class T>
struct LiveList {
  ListSource<T> source;
  std::vector<T>& get() const { return source.get(); }
};

// Values of every item of a Python iterable of Item<T> (collected before any
// change, so `x.extend(x)` and `x[:] = x` work).
template <class T>
std::vector<T> values_of(const py::handle& items) {
  std::vector<T> out;
  if (py::isinstance<LiveList<T>>(items)) {
    out = py::cast<LiveList<T>&>(items).get();
    return out;
  }
  for (py::handle h : py::iter(items)) {
    if (!py::isinstance<Item<T>>(h))
      throw py::type_error("expected " + py::str(py::type::of<Item<T>>().attr("__name__")).cast<std::string>() +
                           " items, got " + py::str(py::type::of(h).attr("__name__")).cast<std::string>());
    out.push_back(py::cast<const Item<T>&>(h).get());
  }
  return out;
}

// Owning copies of `v` as a Python list (the slow path of slice edits and sort).
template <class T>
py::list copies_of(const std::vector<T>& v) {
  py::list out;
  for (const T& x : v) out.append(py::cast(Item<T>(x)));
  return out;
}

// Value equality of two items through their pickled state.
template <class T>
using StateFn = py::tuple (*)(const T&);

// The Python class of Item<T>: equality by value, pickling by value (a view
// pickles as a free-standing copy). Fields are added by the caller with field().
template <class T>
py::class_<Item<T>> bind_item(py::module_& m, const char* name, const char* doc, StateFn<T> state,
                              T (*from_state)(const py::tuple&)) {
  using I = Item<T>;
  py::class_<I> c(m, name, doc);
  c.def(
       "__eq__",
       [state](const I& a, const py::object& b) {
         return py::isinstance<I>(b) && state(a.get()).equal(state(b.cast<const I&>().get()));
       },
       py::arg("other"), "Equal values (a view and a copy of the same note are equal).")
      .def_property_readonly("is_view", &I::is_view,
                             "True for a view of an element of a Score's (or Track's) list; False "
                             "for a free-standing value")
      .def(
          "copy", [](const I& a) { return I(a.get()); }, "A free-standing copy (not a view).")
      .def(py::pickle([state](const I& a) { return state(a.get()); },
                      [from_state](const py::tuple& t) { return I(from_state(t)); }));
  return c;
}

// A read-write attribute `name` of Item<T> backed by the member `member`.
template <class T, class F>
void field(py::class_<Item<T>>& c, const char* name, F T::*member, const char* doc = "") {
  const std::string who = py::str(c.attr("__name__")).cast<std::string>() + "." + name;
  c.def_property(
      name, [member, who](const Item<T>& e) -> F { return e.get(who.c_str()).*member; },
      [member, who](const Item<T>& e, F v) { e.get(who.c_str()).*member = std::move(v); }, doc);
}

// The Python class of LiveList<T>: the list protocol (len, index, slice, iter,
// in, ==, append, extend, insert, pop, remove, index, count, clear, sort, copy).
template <class T>
py::class_<LiveList<T>> bind_live_list(py::module_& m, const char* name, const char* doc, StateFn<T> state) {
  using L = LiveList<T>;
  using I = Item<T>;
  using namespace pybind11::literals;
  const std::string cls = name;
  auto position = [cls](std::size_t n, py::ssize_t i) {
    const py::ssize_t size = static_cast<py::ssize_t>(n);
    if (i < 0) i += size;
    if (i < 0 || i >= size) throw py::index_error(cls + " index out of range");
    return static_cast<std::size_t>(i);
  };
  auto same = [state](const T& a, const T& b) { return state(a).equal(state(b)); };
  auto assign = [](const L& l, const py::list& items) { l.get() = values_of<T>(items); };
  // Put a value at `index` (already in the list) and adopt a free-standing item.
  auto adopt = [](const L& l, I& item, std::size_t index) {
    if (!item.is_view()) item.become_view(l.source, index);
  };

  py::class_<L> c(m, name, doc);
  c.def("__len__", [](const L& l) { return l.get().size(); })
      .def(
          "__getitem__", [position](const L& l, py::ssize_t i) { return I(l.source, position(l.get().size(), i)); },
          "index"_a)
      .def(
          "__getitem__",
          [](const L& l, const py::slice& s) {
            py::ssize_t start = 0, stop = 0, step = 0, len = 0;
            if (!s.compute(static_cast<py::ssize_t>(l.get().size()), &start, &stop, &step, &len))
              throw py::error_already_set();
            py::typing::List<I> out;
            for (py::ssize_t k = 0; k < len; ++k)
              out.append(py::cast(I(l.source, static_cast<std::size_t>(start + k * step))));
            return out;
          },
          "index"_a)
      .def(
          "__setitem__",
          [position, adopt](const L& l, py::ssize_t i, I& item) {
            const std::size_t p = position(l.get().size(), i);
            T value = item.get();
            l.get()[p] = std::move(value);
            adopt(l, item, p);
          },
          "index"_a, "value"_a)
      .def(
          "__setitem__",
          [assign](const L& l, const py::slice& s, const py::typing::Iterable<I>& items) {
            py::list all = copies_of(l.get());
            all[s] = copies_of(values_of<T>(items));
            assign(l, all);
          },
          "index"_a, "value"_a)
      .def(
          "__delitem__",
          [position](const L& l, py::ssize_t i) {
            auto& v = l.get();
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(position(v.size(), i)));
          },
          "index"_a)
      .def(
          "__delitem__",
          [assign](const L& l, const py::slice& s) {
            py::list all = copies_of(l.get());
            if (PyObject_DelItem(all.ptr(), s.ptr()) != 0) throw py::error_already_set();
            assign(l, all);
          },
          "index"_a)
      .def("__iter__",
           [](const L& l) -> py::typing::Iterator<I> {
             py::list views;
             for (std::size_t k = 0; k < l.get().size(); ++k) views.append(py::cast(I(l.source, k)));
             return py::iter(views);
           })
      .def("__contains__",
           [same](const L& l, const py::object& x) {
             if (!py::isinstance<I>(x)) return false;
             const T v = x.cast<const I&>().get();
             for (const T& e : l.get())
               if (same(e, v)) return true;
             return false;
           },
           "value"_a)
      .def(
          "__eq__",
          [same](const L& l, const py::object& other) {
            // Equal to a list, tuple or live list of equal items in the same order.
            if (!py::isinstance<L>(other) && !py::isinstance<py::list>(other) && !py::isinstance<py::tuple>(other))
              return false;
            for (py::handle h : other)
              if (!py::isinstance<I>(h)) return false;
            const std::vector<T> b = values_of<T>(other);
            const auto& a = l.get();
            if (a.size() != b.size()) return false;
            for (std::size_t k = 0; k < a.size(); ++k)
              if (!same(a[k], b[k])) return false;
            return true;
          },
          "other"_a)
      .def(
          "append",
          [adopt](const L& l, I& item) {
            T value = item.get();
            l.get().push_back(std::move(value));
            adopt(l, item, l.get().size() - 1);
          },
          "value"_a, "Append a copy of `value`; a free-standing `value` becomes a view of the new element.")
      .def(
          "extend",
          [](const L& l, const py::typing::Iterable<I>& items) {
            std::vector<T> more = values_of<T>(items);
            auto& v = l.get();
            v.insert(v.end(), more.begin(), more.end());
          },
          "values"_a, "Append copies of `values`.")
      .def(
          "insert",
          [adopt](const L& l, py::ssize_t i, I& item) {
            auto& v = l.get();
            const py::ssize_t n = static_cast<py::ssize_t>(v.size());
            if (i < 0) i = std::max<py::ssize_t>(0, i + n);
            if (i > n) i = n;
            T value = item.get();
            v.insert(v.begin() + i, std::move(value));
            adopt(l, item, static_cast<std::size_t>(i));
          },
          "index"_a, "value"_a, "Insert a copy of `value` before `index` (as list.insert).")
      .def(
          "pop",
          [position, cls](const L& l, py::ssize_t i) {
            auto& v = l.get();
            if (v.empty()) throw py::index_error(cls + ".pop: the list is empty");
            const std::size_t p = position(v.size(), i);
            I out(v[p]);
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(p));
            return out;
          },
          "index"_a = -1, "Remove the item at `index` and return it (free-standing).")
      .def(
          "remove",
          [same, cls](const L& l, const I& x) {
            auto& v = l.get();
            const T value = x.get();
            for (auto it = v.begin(); it != v.end(); ++it)
              if (same(*it, value)) {
                v.erase(it);
                return;
              }
            throw py::value_error(cls + ".remove(x): x not in list");
          },
          "value"_a, "Remove the first item equal to `value`.")
      .def(
          "index",
          [same, cls](const L& l, const I& x) {
            const auto& v = l.get();
            const T value = x.get();
            for (std::size_t k = 0; k < v.size(); ++k)
              if (same(v[k], value)) return k;
            throw py::value_error(cls + ".index(x): x not in list");
          },
          "value"_a, "Position of the first item equal to `value`.")
      .def(
          "count",
          [same](const L& l, const I& x) {
            const T value = x.get();
            std::size_t n = 0;
            for (const T& e : l.get()) n += same(e, value) ? 1 : 0;
            return n;
          },
          "value"_a)
      .def("clear", [](const L& l) { l.get().clear(); })
      .def(
          "__add__",
          [](const L& l, const py::typing::Iterable<I>& other) -> py::typing::List<I> {
            std::vector<T> v = l.get();
            std::vector<T> more = values_of<T>(other);
            v.insert(v.end(), more.begin(), more.end());
            return copies_of(v);
          },
          py::is_operator(), "other"_a, "A plain list of copies: this list's items, then `other`'s.")
      .def(
          "__radd__",
          [](const L& l, const py::typing::Iterable<I>& other) -> py::typing::List<I> {
            std::vector<T> v = values_of<T>(other);
            const std::vector<T>& mine = l.get();
            v.insert(v.end(), mine.begin(), mine.end());
            return copies_of(v);
          },
          py::is_operator(), "other"_a)
      .def(
          "__iadd__",
          [](L& self, const py::typing::Iterable<I>& other) -> L& {
            std::vector<T> more = values_of<T>(other);
            auto& v = self.get();
            v.insert(v.end(), more.begin(), more.end());
            return self;
          },
          py::is_operator(), py::return_value_policy::reference, "other"_a)
      .def(
          "sort",
          [assign](const L& l, const py::object& key, bool reverse) {
            py::list all = copies_of(l.get());
            all.attr("sort")("key"_a = key, "reverse"_a = reverse);
            assign(l, all);
          },
          py::kw_only(), "key"_a = py::none(), "reverse"_a = false,
          "Sort in place, as list.sort (e.g. key=lambda n: (n.start, n.pitch)).")
      .def(
          "copy",
          [](const L& l) -> py::typing::List<I> { return copies_of(l.get()); },
          "A plain list of free-standing copies (detached from the Score).")
      .def("__repr__", [cls](const L& l) {
        const auto& v = l.get();
        std::string s = cls + "([";
        const std::size_t shown = std::min<std::size_t>(v.size(), 4);
        for (std::size_t k = 0; k < shown; ++k) {
          if (k) s += ", ";
          s += std::string(py::repr(py::cast(I(v[k]))));
        }
        if (v.size() > shown) s += ", ... " + std::to_string(v.size() - shown) + " more";
        return s + "])";
      });
  return c;
}

}  // namespace partita::py_bind

// The partita._core extension module: runs every registered binding topic.
#include <algorithm>

#include "registry.hpp"

namespace partita::py_bind {
std::vector<Binder>& binders() {
  static std::vector<Binder> b;
  return b;
}
}  // namespace partita::py_bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "partita compiled core (use the `partita` package, not this module)";
  auto& b = partita::py_bind::binders();
  std::stable_sort(b.begin(), b.end(),
                   [](const auto& x, const auto& y) { return x.priority < y.priority; });
  for (const auto& binder : b) binder.fn(m);
}

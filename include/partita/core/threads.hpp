// Thread count for partita's OpenMP kernels, settable from C++ and Python.
#pragma once

namespace partita {

/// Number of threads kernels use (default: OMP_NUM_THREADS or the core count).
int num_threads();
/// Set the thread count for subsequent calls (n >= 1; InvalidArgument otherwise).
void set_num_threads(int n);

}  // namespace partita

// CPU seconds of the whole benchmark process (all threads, user + system): on a shared
// machine a steadier figure than wall time; the PyTorch comparison scripts report the
// same for torch.
#pragma once
#include <sys/resource.h>

namespace partita_bench {

inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace partita_bench

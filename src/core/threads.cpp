// OpenMP thread-count control; Eigen's own threading is kept in step.
#include "partita/core/threads.hpp"

#include <Eigen/Core>
#include <omp.h>

#include <string>

#include "partita/core/error.hpp"

namespace partita {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int n) {
  if (n < 1) throw InvalidArgument("set_num_threads: n must be >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

}  // namespace partita

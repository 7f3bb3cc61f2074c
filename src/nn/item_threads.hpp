// Private: independent work items (chunks of output rows, phases) spread over
// the OpenMP threads, each thread with its own slice of two scratch buffers.
#pragma once
#include <cstdint>

#include <omp.h>

#include "partita/core/tensor.hpp"

namespace partita::nn::detail {

/// Runs run_item(item, cols, p) for every item in [0, items): with 2+ threads
/// (and at least two items a thread) each thread takes whole items with its own
/// `chunk_a` floats of `a` and `chunk_b` of `b`; otherwise one loop on one slice
/// each. Items must write disjoint outputs; every item computes the same values
/// either way.
template <class RunItem>
void run_items(std::int64_t items, Tensor& a, std::int64_t chunk_a, Tensor& b, std::int64_t chunk_b,
               RunItem&& run_item) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads > 1 && items >= 2 * threads) {
    a.resize({threads * chunk_a});
    b.resize({threads * chunk_b});
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t item = 0; item < items; ++item) {
      const int t = omp_get_thread_num();
      run_item(item, a.data() + t * chunk_a, b.data() + t * chunk_b);
    }
    return;
  }
  a.resize({chunk_a});
  b.resize({chunk_b});
  for (std::int64_t item = 0; item < items; ++item) run_item(item, a.data(), b.data());
}

}  // namespace partita::nn::detail

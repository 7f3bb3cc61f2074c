// A small team of threads for latency-bound inference (private to the library).
//
// The AR-CNN editor runs about 20 parallel steps per network evaluation and a
// hundred evaluations per edit, each step a fraction of a millisecond. OpenMP
// with OMP_WAIT_POLICY=PASSIVE (partita's safe default: spinning threads
// collapse when another process holds a core) puts the helper to sleep
// between regions, and each wake-up costs tens of microseconds. This team's
// helpers spin for a bounded time after each job (`spin_us`, default 200 us,
// longer than the gap between two steps of an edit), then sleep on a condition
// variable: busy-wait latency while an edit runs, no stolen core once it stops.
//
// Work is handed out dynamically: run(items, grain, fn) calls fn(begin, end)
// on ranges of `grain` items (one call on [0, items) when the team has one
// member or items <= grain), claimed from a shared counter by the caller and
// by whichever helpers are awake. A helper that is asleep or has lost its core
// to another process claims nothing and holds nobody up: the caller does the
// work itself, and waits only for ranges a helper has actually started. The
// counter carries the job's generation, so a helper that wakes late cannot
// claim work of a job that has already ended.
//
// run() must not be called from inside a job. Exceptions thrown by fn are
// rethrown by run() on the caller (the first one); the remaining ranges still
// run.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace partita::core {

class Team {
 public:
  using Range = std::function<void(std::int64_t, std::int64_t)>;

  explicit Team(int size, int spin_us = 200);
  ~Team();
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return size_; }
  /// fn(begin, end) over [0, items) in ranges of `grain` (>= 1), on the team.
  void run(std::int64_t items, std::int64_t grain, const Range& fn);
  /// Ranges the helpers (not the caller) have run since construction.
  std::int64_t helper_ranges() const { return helper_ranges_.load(std::memory_order_relaxed); }

 private:
  void worker();
  // Claim and run ranges of job generation `gen` until none is left; returns
  // the number of ranges run.
  std::int64_t drain(std::uint64_t gen);
  void record(std::exception_ptr e);

  static constexpr int kIndexBits = 40;
  int size_;
  int spin_us_;
  std::vector<std::thread> threads_;
  // The current job; read by helpers before they claim (see drain()).
  std::atomic<const Range*> fn_{nullptr};
  std::atomic<std::int64_t> items_{0}, grain_{1};
  std::atomic<std::uint64_t> claim_{0};  // generation << kIndexBits | next range index
  std::atomic<std::int64_t> done_{0};    // ranges finished in the current generation
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> helper_ranges_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace partita::core

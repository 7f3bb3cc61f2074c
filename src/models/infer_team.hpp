// A small team of threads for latency-bound inference (private to src/models).
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
// run(fn) calls fn(tid, size) on every member (the caller is tid 0) and
// returns when all have finished; it must not be called from inside a job.
// Exceptions thrown by a job are rethrown by run() on the caller (the first).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace partita::models::infer {

class Team {
 public:
  explicit Team(int size, int spin_us = 200);
  ~Team();
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return size_; }
  void run(const std::function<void(int, int)>& fn);

 private:
  void worker(int tid);
  void record(std::exception_ptr e);

  int size_;
  int spin_us_;
  std::vector<std::thread> threads_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace partita::models::infer

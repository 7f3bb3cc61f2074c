// Team: bounded spin, then sleep (see infer_team.hpp).
#include "models/infer_team.hpp"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PARTITA_PAUSE() _mm_pause()
#else
#define PARTITA_PAUSE() std::this_thread::yield()
#endif

namespace partita::models::infer {

namespace {
using Clock = std::chrono::steady_clock;
}

Team::Team(int size, int spin_us) : size_(size < 1 ? 1 : size), spin_us_(spin_us < 0 ? 0 : spin_us) {
  threads_.reserve(static_cast<size_t>(size_ - 1));
  for (int t = 1; t < size_; ++t) threads_.emplace_back([this, t] { worker(t); });
}

Team::~Team() {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void Team::record(std::exception_ptr e) {
  std::lock_guard<std::mutex> lk(error_mutex_);
  if (!error_) error_ = e;
}

void Team::worker(int tid) {
  std::uint64_t seen = 0;
  for (;;) {
    // Wait for a new generation: spin for spin_us_, then sleep.
    const auto deadline = Clock::now() + std::chrono::microseconds(spin_us_);
    int polls = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      PARTITA_PAUSE();
      if (++polls == 64) {
        polls = 0;
        if (Clock::now() >= deadline) {
          std::unique_lock<std::mutex> lk(mutex_);
          wake_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
          break;
        }
      }
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_relaxed)) return;
    try {
      (*job_)(tid, size_);
    } catch (...) {
      record(std::current_exception());
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void Team::run(const std::function<void(int, int)>& fn) {
  if (size_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  error_ = nullptr;
  pending_.store(size_ - 1, std::memory_order_relaxed);
  {
    // The increment happens under the lock so a helper between its check and
    // its wait cannot miss it.
    std::lock_guard<std::mutex> lk(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  try {
    fn(0, size_);
  } catch (...) {
    record(std::current_exception());
  }
  // Wait for the helpers: spin, then yield (a helper may have lost its core).
  int polls = 0;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (++polls < 20000) PARTITA_PAUSE();
    else std::this_thread::yield();
  }
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace partita::models::infer

// Team: dynamically claimed ranges, bounded spin, then sleep (see thread_team.hpp).
#include "core/thread_team.hpp"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PARTITA_PAUSE() _mm_pause()
#else
#define PARTITA_PAUSE() std::this_thread::yield()
#endif

namespace partita::core {

namespace {
using Clock = std::chrono::steady_clock;
}

Team::Team(int size, int spin_us) : size_(size < 1 ? 1 : size), spin_us_(spin_us < 0 ? 0 : spin_us) {
  threads_.reserve(static_cast<size_t>(size_ - 1));
  for (int t = 1; t < size_; ++t) threads_.emplace_back([this] { worker(); });
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

std::int64_t Team::drain(std::uint64_t gen) {
  // The job's fields are read before claiming: a claim that succeeds proves the
  // job was still unfinished, so the caller had not yet replaced the fields.
  const Range* fn = fn_.load(std::memory_order_acquire);
  const std::int64_t items = items_.load(std::memory_order_acquire);
  const std::int64_t grain = grain_.load(std::memory_order_acquire);
  const std::int64_t ranges = (items + grain - 1) / grain;
  const std::uint64_t mask = (std::uint64_t{1} << kIndexBits) - 1;
  std::int64_t ran = 0;
  std::uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((c >> kIndexBits) != (gen & ((std::uint64_t{1} << (64 - kIndexBits)) - 1))) return ran;
    const std::int64_t r = static_cast<std::int64_t>(c & mask);
    if (r >= ranges) return ran;
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    try {
      (*fn)(r * grain, std::min(items, (r + 1) * grain));
    } catch (...) {
      record(std::current_exception());
    }
    ++ran;
    done_.fetch_add(1, std::memory_order_acq_rel);
    c = claim_.load(std::memory_order_acquire);
  }
}

void Team::worker() {
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
    helper_ranges_.fetch_add(drain(seen), std::memory_order_relaxed);
  }
}

void Team::run(std::int64_t items, std::int64_t grain, const Range& fn) {
  if (items <= 0) return;
  if (grain < 1) grain = 1;
  if (size_ == 1 || items <= grain) {
    fn(0, items);
    return;
  }
  error_ = nullptr;
  const std::int64_t ranges = (items + grain - 1) / grain;
  // The previous job is finished (every range done). Close its counter first
  // (index = all ones): a late helper that reads any of the new fields below
  // then also sees the closed counter and claims nothing.
  const std::uint64_t mask = (std::uint64_t{1} << kIndexBits) - 1;
  claim_.store(claim_.load(std::memory_order_relaxed) | mask, std::memory_order_release);
  const std::uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
  fn_.store(&fn, std::memory_order_release);
  items_.store(items, std::memory_order_release);
  grain_.store(grain, std::memory_order_release);
  done_.store(0, std::memory_order_release);
  claim_.store((gen & ((std::uint64_t{1} << (64 - kIndexBits)) - 1)) << kIndexBits,
               std::memory_order_release);
  {
    // Published under the lock so a helper between its check and its wait
    // cannot miss it.
    std::lock_guard<std::mutex> lk(mutex_);
    generation_.store(gen, std::memory_order_release);
  }
  wake_.notify_all();
  drain(gen);
  // Wait only for ranges a helper has claimed: spin, then yield (the helper
  // may have lost its core).
  int polls = 0;
  while (done_.load(std::memory_order_acquire) != ranges) {
    if (++polls < 4000) PARTITA_PAUSE();
    else std::this_thread::yield();
  }
  if (error_) std::rethrow_exception(error_);
}

}  // namespace partita::core

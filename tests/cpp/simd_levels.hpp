// Test helpers for code with per-SIMD-level kernels: the levels this CPU can
// run, and a scope that forces one and restores the start-up level after.
#pragma once
#include <vector>

#include "partita/core/cpu.hpp"

namespace partita {

/// generic, then avx2 and avx512 where detected.
inline std::vector<SimdLevel> available_simd_levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::Generic, SimdLevel::Avx2, SimdLevel::Avx512})
    if (l <= detected_simd_level()) out.push_back(l);
  return out;
}

/// Forces a level for the lifetime of the object.
class ScopedSimdLevel {
 public:
  explicit ScopedSimdLevel(SimdLevel level) { set_simd_level(level); }
  ~ScopedSimdLevel() { reset_simd_level(); }
  ScopedSimdLevel(const ScopedSimdLevel&) = delete;
  ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;
};

}  // namespace partita

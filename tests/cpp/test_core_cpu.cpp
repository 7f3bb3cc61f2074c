// Tests for the run-time SIMD level (partita/core/cpu.hpp): detection agrees
// with the compiler's own CPU probe, levels can be lowered but not raised,
// PARTITA_SIMD is honoured and a bad value is reported and ignored, names
// round-trip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"
#include "simd_levels.hpp"

namespace partita {
namespace {

// Restores PARTITA_SIMD and the start-up level after a test that changes them.
class EnvGuard {
 public:
  EnvGuard() {
    const char* v = std::getenv("PARTITA_SIMD");
    had_ = v != nullptr;
    if (had_) value_ = v;
  }
  ~EnvGuard() {
    if (had_) setenv("PARTITA_SIMD", value_.c_str(), 1);
    else unsetenv("PARTITA_SIMD");
    reset_simd_level();
  }

 private:
  bool had_ = false;
  std::string value_;
};

TEST(Cpu, DetectionAgreesWithTheCompilersProbe) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const SimdLevel want = avx512 && avx2 ? SimdLevel::Avx512 : (avx2 ? SimdLevel::Avx2 : SimdLevel::Generic);
  EXPECT_EQ(detected_simd_level(), want) << cpu_features();
  const std::string f = " " + cpu_features() + " ";
  EXPECT_EQ(f.find(" avx2 ") != std::string::npos, __builtin_cpu_supports("avx2") != 0) << f;
  EXPECT_EQ(f.find(" avx512f ") != std::string::npos, __builtin_cpu_supports("avx512f") != 0) << f;
#else
  EXPECT_EQ(detected_simd_level(), SimdLevel::Generic);
#endif
}

TEST(Cpu, LevelsCanBeLoweredAndReset) {
  EnvGuard guard;
  unsetenv("PARTITA_SIMD");
  reset_simd_level();
  EXPECT_EQ(simd_level(), detected_simd_level());
  for (SimdLevel l : available_simd_levels()) {
    set_simd_level(l);
    EXPECT_EQ(simd_level(), l);
  }
  reset_simd_level();
  EXPECT_EQ(simd_level(), detected_simd_level());
}

TEST(Cpu, CannotRaiseAboveTheCpu) {
  if (detected_simd_level() == SimdLevel::Avx512) GTEST_SKIP() << "this CPU has every level";
  const SimdLevel before = simd_level();  // PARTITA_SIMD may have lowered it
  try {
    set_simd_level(SimdLevel::Avx512);
    FAIL() << "set_simd_level accepted avx512 on a CPU without it";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("set_simd_level: this CPU does not support avx512"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(simd_level(), before);  // a refused request leaves the level as it was
}

TEST(Cpu, EnvironmentLowersTheStartupLevel) {
  EnvGuard guard;
  setenv("PARTITA_SIMD", "generic", 1);
  reset_simd_level();
  EXPECT_EQ(simd_level(), SimdLevel::Generic);
  setenv("PARTITA_SIMD", "AVX2", 1);  // case does not matter
  reset_simd_level();
  EXPECT_EQ(simd_level(), std::min(SimdLevel::Avx2, detected_simd_level()));
  setenv("PARTITA_SIMD", "avx512", 1);  // asking for more than the CPU has gives what it has
  reset_simd_level();
  EXPECT_EQ(simd_level(), detected_simd_level());
}

TEST(Cpu, BadEnvironmentValueIsReportedAndIgnored) {
  EnvGuard guard;
  setenv("PARTITA_SIMD", "sse9", 1);
  ::testing::internal::CaptureStderr();
  reset_simd_level();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("PARTITA_SIMD='sse9' is not one of avx512, avx2, generic"), std::string::npos)
      << err;
  EXPECT_EQ(simd_level(), detected_simd_level());
}

TEST(Cpu, NamesRoundTrip) {
  for (SimdLevel l : {SimdLevel::Generic, SimdLevel::Avx2, SimdLevel::Avx512})
    EXPECT_EQ(parse_simd_level(simd_level_name(l)), l);
  EXPECT_EQ(parse_simd_level("Generic"), SimdLevel::Generic);
  EXPECT_THROW(parse_simd_level("avx"), InvalidArgument);
  EXPECT_THROW(parse_simd_level(""), InvalidArgument);
}

}  // namespace
}  // namespace partita

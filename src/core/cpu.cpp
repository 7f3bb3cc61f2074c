// Run-time detection of the SIMD level (see partita/core/cpu.hpp).
//
// cpuid says what the processor implements; xgetbv says which register state
// the operating system saves on a context switch (an OS that does not save the
// zmm registers cannot run AVX-512 code even on an AVX-512 processor). Intel
// Software Developer's Manual vol. 1, 13.3 and 15.2 describe both checks.
#include "partita/core/cpu.hpp"

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "partita/core/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define PARTITA_X86 1
#endif

namespace partita {

namespace {

struct Features {
  bool avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512bf16 = false;
};

#ifdef PARTITA_X86
std::uint64_t xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}
#endif

Features probe() {
  Features f;
#ifdef PARTITA_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1u;
  const bool cpu_avx = (c >> 28) & 1u;
  const bool cpu_fma = (c >> 12) & 1u;
  if (!osxsave || !cpu_avx) return f;
  const std::uint64_t xcr = xcr0();
  const bool os_ymm = (xcr & 0x6u) == 0x6u;     // SSE and AVX state
  const bool os_zmm = (xcr & 0xE6u) == 0xE6u;   // + opmask, upper zmm, zmm16-31
  if (!os_ymm) return f;
  f.avx = true;
  f.fma = cpu_fma;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = (b >> 5) & 1u;
  if (os_zmm) {
    f.avx512f = (b >> 16) & 1u;
    f.avx512dq = (b >> 17) & 1u;
    f.avx512bw = (b >> 30) & 1u;
    f.avx512vl = (b >> 31) & 1u;
    if (a >= 1) {  // leaf 7's highest subleaf
      unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
      __cpuid_count(7, 1, a1, b1, c1, d1);
      f.avx512bf16 = f.avx512f && ((a1 >> 5) & 1u);
    }
  }
#endif
  return f;
}

const Features& features() {
  static const Features f = probe();
  return f;
}

SimdLevel detect() {
  const Features& f = features();
  if (f.avx2 && f.fma && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl)
    return SimdLevel::Avx512;
  if (f.avx2 && f.fma) return SimdLevel::Avx2;
  return SimdLevel::Generic;
}

// -1: not chosen yet.
std::atomic<int> g_level{-1};
std::mutex g_init;

// PARTITA_SIMD lowers the detected level. The level is first asked for deep
// inside kernels (in OpenMP regions, where an exception cannot propagate), so
// an unknown value is reported on stderr, once, and ignored.
int startup_level() {
  const SimdLevel detected = detected_simd_level();
  const char* env = std::getenv("PARTITA_SIMD");
  if (!env || !*env) return static_cast<int>(detected);
  try {
    const SimdLevel asked = parse_simd_level(env);
    return static_cast<int>(asked < detected ? asked : detected);
  } catch (const InvalidArgument&) {
    std::fprintf(stderr,
                 "partita: PARTITA_SIMD='%s' is not one of avx512, avx2, generic; using %s\n", env,
                 simd_level_name(detected));
    return static_cast<int>(detected);
  }
}

}  // namespace

SimdLevel detected_simd_level() {
  static const SimdLevel level = detect();
  return level;
}

SimdLevel simd_level() {
  int level = g_level.load(std::memory_order_relaxed);
  if (level == -1) {
    std::lock_guard<std::mutex> lock(g_init);
    level = g_level.load(std::memory_order_relaxed);
    if (level == -1) {
      level = startup_level();
      g_level.store(level, std::memory_order_relaxed);
    }
  }
  return static_cast<SimdLevel>(level);
}

void set_simd_level(SimdLevel level) {
  if (level != SimdLevel::Generic && level != SimdLevel::Avx2 && level != SimdLevel::Avx512)
    throw InvalidArgument("set_simd_level: unknown level " +
                          std::to_string(static_cast<int>(level)));
  if (level > detected_simd_level())
    throw InvalidArgument(std::string("set_simd_level: this CPU does not support ") +
                          simd_level_name(level) + " (it has " +
                          simd_level_name(detected_simd_level()) + ")");
  std::lock_guard<std::mutex> lock(g_init);
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void reset_simd_level() {
  std::lock_guard<std::mutex> lock(g_init);
  g_level.store(startup_level(), std::memory_order_relaxed);
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Generic: return "generic";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Avx512: return "avx512";
  }
  return "unknown";
}

SimdLevel parse_simd_level(const std::string& name) {
  std::string s;
  for (char ch : name) s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "generic") return SimdLevel::Generic;
  if (s == "avx2") return SimdLevel::Avx2;
  if (s == "avx512") return SimdLevel::Avx512;
  throw InvalidArgument("parse_simd_level: '" + name + "' is not one of avx512, avx2, generic");
}

std::string cpu_features() {
  const Features& f = features();
  std::string out;
  auto add = [&out](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(f.avx, "avx");
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vl, "avx512vl");
  add(f.avx512bf16, "avx512bf16");
  return out;
}

bool cpu_has_avx512_bf16() { return features().avx512bf16; }

}  // namespace partita

// Which SIMD instruction set partita's kernels use on this CPU.
//
// partita is built for any x86-64 CPU (no -march flags by default) and picks
// its fast kernels at run time: the AVX-512 ones where the CPU and the OS
// support AVX-512 F/BW/DQ/VL, the AVX2+FMA ones where they support those, and
// plain C++ otherwise. The level is detected once (cpuid, and xgetbv for the
// register state the OS saves). It can be lowered, never raised above what the
// CPU has: by the environment variable PARTITA_SIMD=avx512|avx2|generic, read
// at the first query, or by set_simd_level() (tests run every kernel this way).
#pragma once
#include <string>

namespace partita {

/// Instruction-set levels, ordered: a higher level implies the lower ones.
enum class SimdLevel { Generic = 0, Avx2 = 1, Avx512 = 2 };

/// The highest level this CPU and OS support (detected once).
SimdLevel detected_simd_level();

/// The level the kernels use now: detected_simd_level(), lowered by
/// PARTITA_SIMD at the first call, or the last set_simd_level().
/// An unknown PARTITA_SIMD value is reported on stderr (once) and ignored.
/// Cheap (an atomic load): kernels ask at every call.
SimdLevel simd_level();

/// Use `level` from now on (for tests and benchmarks). InvalidArgument when the
/// CPU lacks it. Not meant to be called while other threads run kernels.
void set_simd_level(SimdLevel level);

/// Back to the level chosen at start-up (PARTITA_SIMD, else detected).
void reset_simd_level();

/// "generic", "avx2" or "avx512".
const char* simd_level_name(SimdLevel level);

/// Parses a name as simd_level_name writes it (case-insensitive);
/// InvalidArgument otherwise.
SimdLevel parse_simd_level(const std::string& name);

/// Features detected, for diagnostics: e.g. "avx2 fma avx512f avx512bw avx512dq avx512vl".
std::string cpu_features();

/// Whether the CPU (and OS) can run AVX-512 BF16 dot products (VDPBF16PS), which
/// MatmulPrecision::BFloat16 uses (partita/core/gemm.hpp).
bool cpu_has_avx512_bf16();

}  // namespace partita

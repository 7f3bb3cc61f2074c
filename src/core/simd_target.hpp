// Function attributes that compile one function for a given instruction set.
//
// partita's translation units are compiled for baseline x86-64; a kernel that
// uses AVX-512 or AVX2 carries one of these attributes and is called only after
// partita::simd_level() (partita/core/cpu.hpp) said the CPU has that level, so
// no wide instruction can reach code that runs on every CPU. Helpers marked
// PARTITA_INLINE_BODY are written in plain C++ and inlined into each targeted
// caller, where they are compiled (and vectorised) for that caller's level.
#pragma once

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PARTITA_SIMD_X86 1
#define PARTITA_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define PARTITA_TARGET_AVX2 __attribute__((target("avx2,fma")))
// AVX-512 with the BF16 dot products (MatmulPrecision::BFloat16 only).
#define PARTITA_TARGET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma")))
#else
#define PARTITA_SIMD_X86 0
#define PARTITA_TARGET_AVX512
#define PARTITA_TARGET_AVX2
#define PARTITA_TARGET_AVX512_BF16
#endif

#define PARTITA_INLINE_BODY inline __attribute__((always_inline))

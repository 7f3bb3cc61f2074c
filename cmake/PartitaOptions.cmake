# Compiler flags shared by every partita target.
#
# The default build runs on any x86-64 CPU: no -march flag, so the compiler
# emits baseline code, and the SIMD kernels (AVX-512, AVX2+FMA) are compiled
# per function with target attributes and chosen at run time
# (include/partita/core/cpu.hpp). PARTITA_NATIVE=ON adds -march=native for a
# build that runs only on CPUs like the build machine (Eigen-based layers then
# vectorise with its widest registers).
if(PARTITA_PORTABLE)
  message(DEPRECATION "PARTITA_PORTABLE is no longer needed: the default build is portable "
                      "(runtime dispatch). Use PARTITA_NATIVE=ON for -march=native.")
endif()

function(partita_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-maybe-uninitialized)
  if(PARTITA_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O3>)
endfunction()

# Compiler flags shared by every partita target.
function(partita_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-maybe-uninitialized)
  if(NOT PARTITA_PORTABLE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O3>)
endfunction()

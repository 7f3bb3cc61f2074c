#!/usr/bin/env bash
# The default build runs on any x86-64 CPU: no instruction beyond the x86-64
# baseline outside the dispatched kernels (scripts/check_portable.sh on build/ci),
# and the C++ tests pass with the kernels of each lower SIMD level forced
# (PARTITA_SIMD=avx2, generic), as on a CPU without AVX-512 or AVX2.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${PARTITA_CI_BUILD:-build/ci}"
bash scripts/check_portable.sh "$build" | tail -n 3
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
for level in avx2 generic; do
  echo "ctest with PARTITA_SIMD=$level"
  if ! PARTITA_SIMD=$level ctest --test-dir "$build" -j "${JOBS:-$(nproc)}" --output-on-failure \
       >"$build/ctest-$level.log" 2>&1; then
    tail -n 40 "$build/ctest-$level.log"
    echo "20-portable.sh: tests failed at PARTITA_SIMD=$level" >&2
    exit 1
  fi
  grep -E "tests passed" "$build/ctest-$level.log"
done

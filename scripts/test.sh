#!/usr/bin/env bash
# Set up whatever is missing, then run every test: C++ (ctest), the consumer
# project against the installed package, the MIDI fuzzer (bounded), Python (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
JOBS=${JOBS:-$(nproc)}
# ctest -j runs several OpenMP programs at once: idle OpenMP threads must sleep,
# not spin, or they steal the cores their siblings need (see docs/performance.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# The Python that scripts/setup.sh installed partita into (a venv for an externally
# managed Python, see scripts/lib/python.sh); scripts/ci.d/*.sh get it as $PYTHON.
# shellcheck source=scripts/lib/python.sh
. scripts/lib/python.sh
partita_python_require "$PWD"
export PYTHON=$PARTITA_PY
PY=$PARTITA_PY

echo "== C++ build and tests"
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTITA_BUILD_TESTS=ON \
      -DPARTITA_BUILD_BENCHMARKS=ON -DCMAKE_INSTALL_PREFIX="$PWD/build/ci-install" >/dev/null
cmake --build build/ci -j "$JOBS"
ctest --test-dir build/ci --output-on-failure -j "$JOBS"

for extra in scripts/ci.d/*.sh; do
  [ -e "$extra" ] || continue
  echo "== $extra"
  bash "$extra"
done

echo "== Python tests"
"$PY" -m pytest -q -rs tests/python  # -rs: say why a test was skipped

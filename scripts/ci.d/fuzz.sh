#!/usr/bin/env bash
# Build the MIDI libFuzzer target with clang (ASan + UBSan) in build/fuzz and run
# it for FUZZ_SECONDS (default 60) from the seed corpus in tests/data/midi/seed.
# Fails on any finding (crash, sanitizer report, leak, timeout, out-of-memory);
# the crashing input is left in build/fuzz/findings/ -- add it to
# tests/data/midi/regress/ (read by test_music_midi_regress) once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARTITA_BUILD_FUZZERS=ON -DPARTITA_BUILD_TESTS=OFF -DPARTITA_BUILD_BENCHMARKS=OFF \
  -DPARTITA_BUILD_PYTHON=OFF -DPARTITA_WITH_RENDER=OFF >/dev/null
cmake --build build/fuzz --target fuzz_midi -j "${JOBS:-2}"
mkdir -p build/fuzz/corpus build/fuzz/findings
# The working corpus grows in build/fuzz/corpus; the committed seeds are read only.
set +e
build/fuzz/tests/fuzz/fuzz_midi build/fuzz/corpus tests/data/midi/seed tests/data/midi/regress \
  -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=build/fuzz/findings/ -print_final_stats=1 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: the MIDI fuzzer found a problem (exit $status); see build/fuzz/findings/" >&2
  exit "$status"
fi
echo "fuzz.sh: no findings"

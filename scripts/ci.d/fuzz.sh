#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) in build/fuzz and run them:
#   fuzz_midi     the MIDI reader and writer, FUZZ_SECONDS (default 60), seeds in
#                 tests/data/midi/seed and tests/data/midi/regress;
#   fuzz_weights  the weights-file (safetensors) reader and writer and the JSON
#                 parser, FUZZ_WEIGHTS_SECONDS (default 30), seeds in
#                 tests/data/weights/seed and tests/data/weights/regress.
# Fails on any finding (crash, sanitizer report, leak, timeout, out-of-memory);
# the crashing input is left in build/fuzz/findings/ -- add it to the target's
# regress folder (replayed by test_music_midi_regress / test_optim_weights_regress)
# once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (scripts/setup.sh installs it)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARTITA_BUILD_FUZZERS=ON -DPARTITA_BUILD_TESTS=OFF -DPARTITA_BUILD_BENCHMARKS=OFF \
  -DPARTITA_BUILD_PYTHON=OFF -DPARTITA_WITH_RENDER=OFF >/dev/null
cmake --build build/fuzz --target fuzz_midi fuzz_weights -j "${JOBS:-2}"

# run_fuzzer NAME SECONDS SEED_DIR...: the working corpus grows in
# build/fuzz/corpus-NAME; the committed seeds are read only.
run_fuzzer() {
  local name=$1 seconds=$2
  shift 2
  mkdir -p "build/fuzz/corpus-$name" build/fuzz/findings
  set +e
  "build/fuzz/tests/fuzz/fuzz_$name" "build/fuzz/corpus-$name" "$@" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build/fuzz/findings/ -print_final_stats=1 2>&1 | tail -n 25
  local status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: fuzz_$name found a problem (exit $status); see build/fuzz/findings/" >&2
    exit "$status"
  fi
  echo "fuzz.sh: fuzz_$name: no findings"
}
run_fuzzer midi "${FUZZ_SECONDS:-60}" tests/data/midi/seed tests/data/midi/regress
run_fuzzer weights "${FUZZ_WEIGHTS_SECONDS:-30}" tests/data/weights/seed tests/data/weights/regress

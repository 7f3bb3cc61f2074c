#!/usr/bin/env bash
# Reproducible training of the shipped AR-CNN model (see docs/arcnn.md).
#
# Builds the C++ command-line tool and trains the compact U-Net (4 levels, 16 base
# filters) on the JSB chorales' training split (windows of 128 steps, hop 64, 90/10
# train/valid, 8 corrupted variants per window and epoch, each transposed by up to
# +-5 semitones), BatchNorm momentum 0.9 with statistics re-estimated before each
# validation, Adam, batch 32, one thread, seed 1: 40 epochs at 1e-3, then 4 more at
# 1e-4 (a resumed run: the same data stream, the lower rate). Checkpoints go to $OUT
# (last + best + optimizer state, each epoch, atomic); rerunning with --resume
# continues after the last finished epoch. Extra arguments are passed on to both
# phases (e.g. --epochs 2 --max-steps-per-epoch 5 for a smoke test of the first).
#   nohup scripts/train_arcnn.sh > docs/arcnn-train.log 2>&1 &
# then copy $OUT/best.safetensors to python/partita/models/arcnn-default.safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/train}
OUT=${OUT:-build/arcnn-train}
if [ ! -x "$BUILD/partita-cli" ] || [ -z "${NO_BUILD:-}" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTITA_BUILD_TESTS=OFF \
        -DPARTITA_BUILD_BENCHMARKS=OFF -DPARTITA_BUILD_PYTHON=OFF >/dev/null
  cmake --build "$BUILD" --target partita_cli -j "${JOBS:-2}"
fi
date -u +"start %Y-%m-%dT%H:%M:%SZ"
ARGS=(--out "$OUT" --levels 4 --base-filters 16 --dropout 0.5 --bn-momentum 0.9 --batch-size 32 --seed 1
      --variants 8 --transpose 5 --valid-fraction 0.1 --threads "${THREADS:-1}")
"$BUILD/partita-cli" train arcnn "${ARGS[@]}" --epochs "${EPOCHS:-40}" --lr 1e-3 "$@"
date -u +"low-rate phase %Y-%m-%dT%H:%M:%SZ"
"$BUILD/partita-cli" train arcnn "${ARGS[@]}" --epochs "${EPOCHS2:-44}" --lr 1e-4 --resume "$@"
date -u +"end %Y-%m-%dT%H:%M:%SZ"

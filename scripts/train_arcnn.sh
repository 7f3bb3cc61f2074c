#!/usr/bin/env bash
# Reproducible training of the shipped AR-CNN model (see docs/arcnn.md).
#
# Builds the C++ command-line tool and trains the compact U-Net (4 levels, 16 base
# filters) on the JSB chorales' training split (windows of 128 steps, hop 64, 90/10
# train/valid, 4 corrupted variants per window and epoch), BatchNorm momentum 0.9 with
# statistics re-estimated before each validation, Adam 1e-3, batch 32, one
# thread, seed 1. Checkpoints go to $OUT (last + best + optimizer state, each epoch,
# atomic); rerunning with --resume continues after the last finished epoch.
# Extra arguments are passed on (e.g. --epochs 2 --max-steps-per-epoch 5 for a smoke test).
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
"$BUILD/partita-cli" train arcnn --out "$OUT" --levels 4 --base-filters 16 --dropout 0.5 --bn-momentum 0.9 \
  --epochs 16 --batch-size 32 --lr 1e-3 --seed 1 --variants 4 --valid-fraction 0.1 \
  --threads "${THREADS:-1}" "$@"
date -u +"end %Y-%m-%dT%H:%M:%SZ"

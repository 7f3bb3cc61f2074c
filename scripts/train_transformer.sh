#!/usr/bin/env bash
# Reproducible training of the Transformer-XL track-extension models (docs/transformer.md).
#
#   scripts/train_transformer.sh jsb      # the JSB chorales' training split only
#   scripts/train_transformer.sh corpus   # JSB + music21's folk tunes, chorales,
#                                         # Palestrina and quartets (exported first by
#                                         # scripts/make_txl_corpus.py into build/txl-corpus)
#
# Builds the C++ command-line tool and trains the medium configuration (4 layers,
# 8 heads of 32, d_model 256, d_inner 1024, segment 128, memory 512) with the
# reference's recipe at a shorter warm-up: Adam 5e-4 (0.9, 0.999), inverse-sqrt
# schedule (floor 2.5e-5), gradient clip 1.0, dropout 0.1; batch 32; the training
# split plus augmented copies (time x0.95-1.05, +-3 semitones); 2 threads, seed 1.
# Checkpoints go to $OUT (last + best + Adam's state at every epoch end, atomic);
# rerunning with --resume continues after the last finished epoch. Extra
# arguments are passed on (e.g. --max-steps 3 for a smoke test). The best epoch
# by validation NLL is $OUT/best.safetensors.
#
# jsb then runs a low-rate phase (ANNEAL_EPOCHS=4, 0 skips it): from that best epoch,
# fresh Adam at a constant 3e-5 (ANNEAL_LR), every epoch kept, into $OUT-anneal; its best
# epoch by validation is the shipped model:
#   cp $OUT-anneal/best.safetensors python/partita/models/transformer-jsb.safetensors
#   cp $OUT/best.safetensors python/partita/models/transformer-corpus.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-corpus}
shift || true
BUILD=${BUILD:-build/train}
OUT=${OUT:-build/txl-$WHAT-train}
if [ ! -x "$BUILD/partita-cli" ] || [ -z "${NO_BUILD:-}" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTITA_BUILD_TESTS=OFF \
        -DPARTITA_BUILD_BENCHMARKS=OFF -DPARTITA_BUILD_PYTHON=OFF >/dev/null
  cmake --build "$BUILD" --target partita_cli -j "${JOBS:-2}"
fi
EXTRA=()
case "$WHAT" in
  jsb) DATA=jsb; EPOCHS=${EPOCHS:-30}; AUGMENT=${AUGMENT:-3}; WARMUP=${WARMUP:-500} ;;
  corpus)
    CORPUS=${CORPUS:-build/txl-corpus}
    [ -f "$CORPUS/manifest.json" ] || python3 scripts/make_txl_corpus.py "$CORPUS"
    # 16 "epochs" of 250 steps each (a random quarter of the corpus per epoch, a
    # checkpoint and validation on the first 30 validation batches after each).
    DATA=jsb,$CORPUS; EPOCHS=${EPOCHS:-16}; AUGMENT=${AUGMENT:-1}; WARMUP=${WARMUP:-1000}
    EXTRA=(--max-steps-per-epoch 250 --max-valid-batches 30) ;;
  *) echo "usage: $0 jsb|corpus [partita-cli train transformer options]" >&2; exit 2 ;;
esac
date -u +"start %Y-%m-%dT%H:%M:%SZ"
"$BUILD/partita-cli" train transformer --out "$OUT" --data "$DATA" --config medium \
  --epochs "$EPOCHS" --batch-size 32 --lr 5e-4 --warmup "$WARMUP" --lr-floor 2.5e-5 \
  --augment "$AUGMENT" --transpose 3 --seed 1 --threads 2 "${EXTRA[@]}" "$@"
if [ "$WHAT" = jsb ] && [ "${ANNEAL_EPOCHS:-4}" -gt 0 ]; then
  date -u +"anneal %Y-%m-%dT%H:%M:%SZ"
  PASS=()
  for arg in "$@"; do [ "$arg" = --resume ] || PASS+=("$arg"); done
  "$BUILD/partita-cli" train transformer --init "$OUT/best.safetensors" --out "$OUT-anneal" --data "$DATA" \
    --epochs "${ANNEAL_EPOCHS:-4}" --batch-size 32 --lr "${ANNEAL_LR:-3e-5}" --warmup 1 --lr-floor "${ANNEAL_LR:-3e-5}" \
    --augment "$AUGMENT" --transpose 3 --seed 1 --threads 2 --keep-epochs "${PASS[@]}"
fi
date -u +"end %Y-%m-%dT%H:%M:%SZ"

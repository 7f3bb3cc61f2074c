#!/usr/bin/env bash
# Reproducible training of the shipped GAN accompaniment models (see docs/gan.md).
#
#   scripts/train_gan.sh chorale   # JSB chorales' training split (SATB, melody = soprano)
#   scripts/train_gan.sh quartet   # the string quartets of music21's corpus
#                                  # (exported first by scripts/make_quartet_corpus.py
#                                  #  into build/quartets; melody = first violin)
#
# Builds the C++ command-line tool and trains the compact configuration (filters
# 32, latent 256) with the reference's WGAN-GP recipe: Adam 1e-3 (0.5, 0.9),
# batch 64, 5 critic steps per generator step, penalty weight 10; windows of 32
# 16ths (hop 16), transposed by up to 5 semitones within the voices' range;
# 2 threads, seed 1. The chorale style's networks also see the melody's pitch
# classes (--melody-chroma, docs/gan.md; CHROMA=0 trains the reference input).
# Checkpoints go to $OUT (last + best + both optimizers' state
# at every epoch end, atomic); rerunning with --resume continues after the last
# finished epoch. Extra arguments are passed on (e.g. --max-steps 3 for a smoke
# test). When it finishes, $OUT/generator.safetensors is the generator alone:
#   cp $OUT/generator.safetensors python/partita/models/gan-<style>.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
STYLE=${1:-chorale}
shift || true
BUILD=${BUILD:-build/train}
OUT=${OUT:-build/gan-$STYLE-train}
if [ ! -x "$BUILD/partita-cli" ] || [ -z "${NO_BUILD:-}" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTITA_BUILD_TESTS=OFF \
        -DPARTITA_BUILD_BENCHMARKS=OFF -DPARTITA_BUILD_PYTHON=OFF >/dev/null
  cmake --build "$BUILD" --target partita_cli -j "${JOBS:-2}"
fi
# The shipped models' lengths: 200 epochs of the chorales (1,600 generator steps),
# 76 of the quartets (1,672 steps).
if [ "$STYLE" = quartet ]; then EPOCHS=${EPOCHS:-76}; else EPOCHS=${EPOCHS:-200}; fi
if [ "$STYLE" = quartet ]; then CHROMA=${CHROMA:-0}; else CHROMA=${CHROMA:-1}; fi
INPUT=()
[ "$CHROMA" = 1 ] && INPUT=(--melody-chroma)
DATA=()
if [ "$STYLE" = quartet ]; then
  QUARTETS=${QUARTETS:-build/quartets}
  [ -d "$QUARTETS" ] || python3 scripts/make_quartet_corpus.py "$QUARTETS" --limit 0
  DATA=(--midi-dir "$QUARTETS" --melody-track 0)
fi
date -u +"start %Y-%m-%dT%H:%M:%SZ"
"$BUILD/partita-cli" train gan --style "$STYLE" --out "$OUT" "${DATA[@]}" "${INPUT[@]}" \
  --filters 32 --latent 256 --epochs "$EPOCHS" --batch-size 64 --lr 1e-3 --critic-steps 5 \
  --transpose 5 --seed 1 --threads "${THREADS:-2}" "$@"
date -u +"end %Y-%m-%dT%H:%M:%SZ"

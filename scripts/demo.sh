#!/usr/bin/env bash
# The README's first command: set up whatever is missing, then run the main job
# on a bundled sample melody with the shipped models (the AR-CNN's edit, the GAN's
# accompaniment in both styles, the Transformer-XL's 30-second continuation), writing
# MIDI and WAV to out/.
# The Python is the one scripts/setup.sh installed partita into (scripts/lib/python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck source=scripts/lib/python.sh
. scripts/lib/python.sh
partita_python_require "$PWD"
PY=$PARTITA_PY
mkdir -p out
IN=${1:-data/melodies/ode_to_joy.mid}
name=$(basename "$IN" .mid)
"$PY" -m partita info "$IN"
"$PY" -m partita edit "$IN" -o "out/${name}-bach.mid" --wav "out/${name}-bach.wav" --seed 1
"$PY" -m partita info "out/${name}-bach.mid"
"$PY" -m partita accompany "$IN" -o "out/${name}-chorale.mid" --wav "out/${name}-chorale.wav" --seed 1
"$PY" -m partita accompany "$IN" -o "out/${name}-quartet.mid" --wav "out/${name}-quartet.wav" --style quartet --seed 1
"$PY" -m partita info "out/${name}-quartet.mid"
"$PY" -m partita extend "$IN" -o "out/${name}-extended.mid" --wav "out/${name}-extended.wav" --seconds 30 --seed 1
"$PY" -m partita info "out/${name}-extended.mid"

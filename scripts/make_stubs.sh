#!/usr/bin/env bash
# Regenerate python/partita/_core.pyi from the built extension (pybind11-stubgen, PyPI).
# Usage: scripts/make_stubs.sh [PYTHONPATH containing a built partita package]
# tests/python/test_stubs.py fails when the committed stub misses a public name.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/python.sh
. scripts/lib/python.sh
partita_python_require "$PWD"
PY=$PARTITA_PY
"$PY" -m pip install -q --disable-pip-version-check "pybind11-stubgen>=2.5"
out=$(mktemp -d)
PYTHONPATH="${1:-}" "$PY" -m pybind11_stubgen partita._core -o "$out" --numpy-array-use-type-var 2>/dev/null \
  || PYTHONPATH="${1:-}" "$PY" -m pybind11_stubgen partita._core -o "$out"
cp "$out/partita/_core.pyi" python/partita/_core.pyi
rm -rf "$out"
echo "wrote python/partita/_core.pyi"

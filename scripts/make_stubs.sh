#!/usr/bin/env bash
# Regenerate python/partita/_core.pyi, the type stub of the compiled module.
#
#   PYTHON=.venv/bin/python scripts/make_stubs.sh
#
# PYTHON must import the built partita of this tree (e.g. a venv made with
# `pip install --no-build-isolation .`). pybind11-stubgen (PyPI, pinned below)
# writes the stub from the signatures pybind11 records; scripts/stub_overrides.py
# then types the few members whose run-time signature carries no types (Python
# functions attached to a compiled class, an overloaded return). Rerun after any
# binding change; tests/python/test_stubs.py fails while the stub disagrees with
# the run-time signatures.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/python.sh
. scripts/lib/python.sh
partita_python_require "$PWD"
PY=$PARTITA_PY
case "$PY" in */*) PY=$(realpath -s "$PY") ;; esac
STUBGEN_VERSION=3.0.0
if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('pybind11-stubgen') != '$STUBGEN_VERSION')" 2>/dev/null; then
  "$PY" -m pip install -q --disable-pip-version-check "pybind11-stubgen==$STUBGEN_VERSION"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Run outside the source tree so the installed package is the one described.
# pretty_midi.PrettyMIDI is named in signatures; it need not be installed here.
(cd "$out" && "$PY" -m pybind11_stubgen partita._core -o "$out" --exit-code \
   --ignore-unresolved-names '^pretty_midi\.')
"$PY" scripts/stub_overrides.py "$out/partita/_core.pyi" python/partita/_core.pyi
echo "wrote python/partita/_core.pyi"

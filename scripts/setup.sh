#!/usr/bin/env bash
# Install whatever partita needs on a fresh Debian/Ubuntu machine, then build and
# install the Python package in place. Safe to run again: it only adds what is missing.
# Usage: scripts/setup.sh [--no-python]
#
# Python: see scripts/lib/python.sh. When the Python is externally managed (PEP 668,
# stock Debian 12 / Ubuntu 23.04+) or PARTITA_VENV asks for it, partita goes into a
# virtual environment (.venv by default): run it as .venv/bin/partita, or
# `source .venv/bin/activate` first. Otherwise it is installed into $PYTHON / python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# as_root CMD...: run CMD as root (sudo when not root).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "partita setup: not root and no sudo: run as root: $*" >&2; exit 1
  fi
}
apt_updated=""
apt_update() {
  [ -n "$apt_updated" ] && return 0
  as_root apt-get update -qq
  apt_updated=1
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
available() { [ -n "$(apt-cache show --no-all-versions "$1" 2>/dev/null | head -n 1)" ]; }

APT_PACKAGES=(
  build-essential cmake pkg-config ninja-build git
  libeigen3-dev xtensor-dev pybind11-dev nlohmann-json3-dev
  libsndfile1-dev libfluidsynth-dev fluid-soundfont-gm
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-dev python3-pip python3-venv
)
# clang for the fuzzers, with its sanitizer runtimes and its OpenMP runtime (libomp:
# clang does not use GCC's libgomp), both of the same LLVM version as the default
# clang (14 on Debian 12, 18 on Ubuntu 24.04).
v=""
if installed clang; then
  v=$(dpkg-query -W -f='${Depends}' clang 2>/dev/null | grep -o 'clang-[0-9]\+' | head -n 1 | cut -d- -f2)
fi
if [ -z "$v" ]; then
  available clang || apt_update
  v=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
fi
APT_PACKAGES+=(clang)
# the sanitizer runtimes are in libclang-common-N-dev before LLVM 14.0.6 (Ubuntu 22.04)
if [ -n "$v" ] && { installed "libclang-rt-$v-dev" || available "libclang-rt-$v-dev"; }; then
  APT_PACKAGES+=("libclang-rt-$v-dev")
fi
if [ -n "$v" ] && { installed "libomp-$v-dev" || available "libomp-$v-dev"; }; then
  APT_PACKAGES+=("libomp-$v-dev")
else
  APT_PACKAGES+=(libomp-dev)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "partita setup: installing Debian packages: ${missing[*]}"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-python" ] && exit 0

# shellcheck source=scripts/lib/python.sh
. scripts/lib/python.sh
partita_python_select "$root"
if [ -n "$PARTITA_PY_VENV" ]; then
  if [ ! -x "$PARTITA_PY" ]; then
    echo "partita setup: $PARTITA_PY_WHY: creating the virtual environment $PARTITA_PY_VENV"
    "${PYTHON:-python3}" -m venv "$PARTITA_PY_VENV"
  fi
  echo "partita setup: using $PARTITA_PY ($PARTITA_PY_WHY)"
fi
PY=$PARTITA_PY
# Python packages: the runtime and test requirements (torch is not needed).
"$PY" -m pip install -q --disable-pip-version-check \
    "numpy>=1.22" "tqdm>=4" "pytest>=7" "mido>=1.3" "pretty_midi>=0.2.10" "music21>=9" \
    "safetensors>=0.4" "matplotlib>=3.5" "nbclient>=0.7" "nbformat>=5" "ipykernel>=6" \
    "ipython>=8" "soundfile>=0.12" "mypy>=1.0" "muspy>=0.5" "scikit-build-core>=0.10" "pybind11>=3.0"
# Build and install partita itself (reuses build/ between runs).
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation .
if [ -n "$PARTITA_PY_VENV" ]; then
  rel=${PARTITA_PY_VENV#"$root"/}
  echo "partita setup: partita is installed in the virtual environment $rel:" \
       "run $rel/bin/partita, or \`source $rel/bin/activate\` and then partita"
fi

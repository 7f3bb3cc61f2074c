#!/usr/bin/env bash
# Install whatever partita needs on a fresh Debian/Ubuntu machine, then build and
# install the Python package in place. Safe to run again: it only adds what is missing.
# Usage: scripts/setup.sh [--no-python]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config ninja-build
  libeigen3-dev xtensor-dev pybind11-dev
  libsndfile1-dev libfluidsynth-dev fluid-soundfont-gm
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3-dev python3-pip
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "partita setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ "${1:-}" != "--no-python" ]; then
  # Python packages: the runtime and test requirements (torch is not needed).
  $PY -m pip install -q --disable-pip-version-check \
      "numpy>=1.22" "tqdm>=4" "pytest>=7" "mido>=1.3" "pretty_midi>=0.2.10" "music21>=9" \
      "safetensors>=0.4" "matplotlib>=3.5" "nbclient>=0.7" "nbformat>=5" "ipykernel>=6" \
      "ipython>=8" "scikit-build-core>=0.10" "pybind11>=2.11"
  # Build and install partita itself (reuses build/ between runs).
  $PY -m pip install -q --disable-pip-version-check --no-build-isolation .
fi

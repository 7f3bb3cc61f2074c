#!/usr/bin/env bash
# Install the C++ package from build/ci and build examples/consumer against it; then
# check that an app linking the installed library finds the shipped AR-CNN model
# in the install prefix with the source tree out of reach, also after a move.
# PARTITA_CI_BUILD / PARTITA_CI_PREFIX / PARTITA_CI_CONSUMER pick other directories
# (the prefix must be the build's CMAKE_INSTALL_PREFIX).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
build="${PARTITA_CI_BUILD:-build/ci}"
prefix="${PARTITA_CI_PREFIX:-$root/build/ci-install}"
consumer="${PARTITA_CI_CONSUMER:-build/consumer}"
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake --fresh -S examples/consumer -B "$consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$consumer" >/dev/null
consumer="$(cd "$consumer" && pwd)"
"$consumer/consumer"

models="$prefix/share/partita/models"
test -f "$models/arcnn-default.safetensors" || { echo "10-consumer: no model installed in $models" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# From the install data dir compiled into the library; no source tree, no env override.
(cd "$tmp" && env -u PARTITA_ARCNN_WEIGHTS PARTITA_NO_SOURCE_TREE_WEIGHTS=1 \
   "$consumer/consumer_arcnn" "$models")
# A prefix moved elsewhere: the app installed in it finds the model next to itself.
cmake --install "$consumer" --prefix "$tmp/moved" >/dev/null
mkdir -p "$tmp/moved/share/partita/models"
cp "$models/arcnn-default.safetensors" "$tmp/moved/share/partita/models/"
(cd "$tmp" && env -u PARTITA_ARCNN_WEIGHTS PARTITA_NO_SOURCE_TREE_WEIGHTS=1 \
   "$tmp/moved/bin/consumer_arcnn" "$tmp/moved/share/partita/models")
# A wrong $PARTITA_ARCNN_WEIGHTS is an error, not a silent fall-back to the installed copy.
if (cd "$tmp" && PARTITA_ARCNN_WEIGHTS="$tmp/missing.safetensors" "$consumer/consumer_arcnn" \
      2>"$tmp/err"); then
  echo "10-consumer: a missing \$PARTITA_ARCNN_WEIGHTS was ignored" >&2; exit 1
fi
grep -q 'PARTITA_ARCNN_WEIGHTS' "$tmp/err"

#!/usr/bin/env bash
# Install the C++ package from build/ci and build examples/consumer against it.
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix="$PWD/build/ci-install"
cmake --install build/ci --prefix "$prefix" >/dev/null
cmake -S examples/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/consumer >/dev/null
./build/consumer/consumer

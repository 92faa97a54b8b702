#!/usr/bin/env bash
# README's demo command: installs what is missing, builds the demo, runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh demo
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DLOWPREC_BUILD_TESTS=OFF \
      -DLOWPREC_INSTALL=OFF >/dev/null
cmake --build build/demo --target pi_demo -j2 >/dev/null
./build/demo/examples/pi_demo

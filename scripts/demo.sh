#!/usr/bin/env bash
# README's demo command: installs what is missing, builds the demo and the lowprec tool,
# then runs pi through every format and the end-to-end Fashion-MNIST run (about two
# minutes on two cores; it prints one table).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh demo
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DLOWPREC_BUILD_TESTS=OFF \
      -DLOWPREC_INSTALL=OFF >/dev/null
cmake --build build/demo --target pi_demo lowprec_cli fashion_mnist -j2 >/dev/null
./build/demo/examples/pi_demo
echo
echo "\$ lowprec show 3.14159265"
./build/demo/tools/lowprec show 3.14159265
echo "\$ fashion_mnist   # train, then store and compress the model every way lowprec offers"
./build/demo/examples/fashion_mnist

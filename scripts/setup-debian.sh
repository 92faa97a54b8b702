#!/usr/bin/env bash
# Installs the Debian 12 packages lowprec's build needs, only if any are missing.
# Usage: scripts/setup-debian.sh demo|test
set -euo pipefail

case "${1:-test}" in
  demo) pkgs=(g++ cmake make libeigen3-dev libhwy-dev libcli11-dev zlib1g-dev
              dataset-fashion-mnist) ;;
  test) pkgs=(g++ clang cmake make pkg-config libeigen3-dev libhwy-dev catch2 libmpfr-dev
              libgmp-dev libbenchmark-dev python3 libcli11-dev zlib1g-dev
              dataset-fashion-mnist) ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

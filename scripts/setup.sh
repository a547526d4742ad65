#!/usr/bin/env bash
# Installs every system dependency libmemberlist needs on a fresh Debian 12 machine.
# Idempotent: when everything is already present it does nothing (no apt-get update, no network).
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config git libgtest-dev
  libuv1-dev libmsgpack-cxx-dev libcmocka-dev libssl-dev zlib1g-dev
  clang libclang-rt-14-dev llvm
  swig valgrind python3 gnuplot-nox dpkg-dev
  iproute2 nftables
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"

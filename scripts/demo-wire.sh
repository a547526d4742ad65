#!/usr/bin/env bash
# The wire demo (formerly scripts/demo.sh; the cluster demo is scripts/demo.sh now): builds
# libmemberlist and shows its codec at work on real memberlist traffic.
# It decodes, layer by layer, the reference packets of WIRE.md (label, AES-GCM, CRC, LZW,
# compound, push/pull, reliable user messages), re-encodes each byte for byte, and then
# checks every vector captured from real hashicorp/memberlist v0.1.5 and v0.7.0 nodes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh" >/dev/null
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$root/build.configure.log" 2>&1 \
  || { cat "$root/build.configure.log"; exit 1; }
cmake --build "$root/build" --target mlwire > /dev/null
mlwire="$root/build/core/tools/mlwire"

echo "=== WIRE.md reference packets, decoded by libmemberlist ==="
echo
"$mlwire" explain "$root/tests/vectors/golden.tsv"
for v in v0.1.5 v0.7.0; do
  f="$root/tests/vectors/go-$v.tsv"
  [ -f "$f" ] || continue
  echo "=== traffic and encodings from hashicorp/memberlist $v ==="
  "$mlwire" check "$f"
done

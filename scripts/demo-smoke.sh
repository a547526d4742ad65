#!/usr/bin/env bash
# CTest demo.smoke: runs scripts/demo.sh non-interactively and checks that it ended well:
# exit status 0, every step reported, and no node of its cluster still running.
# Environment as for demo.sh (CTest sets ML_BUILD_DIR, DEMO_NO_BUILD, DEMO_NO_SETUP).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout --kill-after=5 100 bash "$root/scripts/demo.sh" > "$out" 2>&1
rc=$?
cat "$out"
fail() { echo "demo.smoke: FAILED: $*"; exit 1; }
[ $rc -eq 0 ] || fail "demo.sh exited with status $rc"
grep -q '^demo: OK: ' "$out" || fail "no final 'demo: OK' line"
grep -q 'declared .* dead after' "$out" || fail "no failure detection reported"
n=$(grep -c ' left in .* (exit 0)' "$out")
s=$(sed -n 's/.*detected by all \([0-9]*\) survivors.*/\1/p' "$out")
[ -n "$s" ] && [ "$n" -eq "$s" ] || fail "$n nodes left cleanly, expected ${s:-?}"
net=$(sed -n 's/^=== Starting the cluster on \(127\.[0-9]*\.[0-9]*\)\.0\/24 .*/\1/p' "$out")
[ -n "$net" ] || fail "no cluster address in the output"
if pgrep -f -- "--bind $net\.[0-9]*:" > /dev/null; then
  pgrep -af -- "--bind $net\.[0-9]*:"
  fail "nodes of the demo cluster are still running"
fi
echo "demo.smoke: OK ($n nodes left cleanly, exit 0, nothing left running)"

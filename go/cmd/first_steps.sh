#!/usr/bin/env bash
# Runs go/cmd/README.md's first steps (the block between <!-- first-steps --> markers) exactly
# as written, with a freshly built `memberlist` first on PATH, and checks that README.md shows
# the same lines. The members command in the block is itself the bounded wait (--wait-for, 30 s
# timeout); the agents are then stopped with SIGTERM and must leave and exit 0 within 20 s.
# The ports the block uses must be free: if one is taken (another run), the test is skipped
# (exit 77, CTest SKIP_RETURN_CODE).
# Env: GO (default: go), PKG_CONFIG_PATH for the library.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
GO=${GO:-go}

block=$(awk '/<!-- first-steps -->/ {on=1; next} /<!-- \/first-steps -->/ {on=0} on && !/^```/' "$here/README.md")
[ -n "$block" ] || { echo "FAIL: no first-steps block in go/cmd/README.md"; exit 1; }
echo "the block:"; printf '  %s\n' "$block"
while IFS= read -r line; do
  grep -qF -- "\`$line\`" "$root/README.md" || { echo "FAIL: README.md does not show: $line"; exit 1; }
done <<<"$block"

for port in 7946 7947 7980; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "SKIP: 127.0.0.1:$port is in use"; exit 77
  fi
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$here" && "$GO" build -o "$tmp/memberlist" ./memberlist)
export PATH="$tmp:$PATH" MEMBERLIST_AGENT=

# Run the block in this shell so its background agents are our jobs.
set +e
eval "$block" >"$tmp/out" 2>&1
rc=$?
set -e
pids=($(jobs -p))
echo "output:"; cat "$tmp/out"
if [ $rc -ne 0 ]; then echo "FAIL: the block's last command exited $rc"; exit 1; fi
grep -q '^2 members, seen by [ab] ' "$tmp/out" || { echo "FAIL: members did not list 2 members"; exit 1; }
[ ${#pids[@]} -eq 2 ] || { echo "FAIL: want 2 agents running, have ${#pids[@]}"; exit 1; }

kill -TERM "${pids[@]}"
deadline=$((SECONDS + 20))
for p in "${pids[@]}"; do
  while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then echo "FAIL: agent $p still running 20 s after SIGTERM"; exit 1; fi
  if ! wait "$p"; then echo "FAIL: agent $p exited non-zero"; cat "$tmp/out"; exit 1; fi
done
pids=()
echo "after SIGTERM:"; tail -4 "$tmp/out"
# Stopped together, the last one may find no one left to tell: "left   a (leave: timeout ...)".
grep -Eq 'left   a( |$)' "$tmp/out" && grep -Eq 'left   b( |$)' "$tmp/out" || { echo "FAIL: the agents did not both leave"; exit 1; }
echo "PASS: the first steps work as written"

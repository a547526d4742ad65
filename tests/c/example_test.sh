#!/usr/bin/env bash
# Two ml_example processes: b joins a; SIGINT to b: b leaves and exits 0, a prints b's LEAVE
# (state left); SIGINT to a: a exits 0. Every wait polls with a deadline (ML_TEST_TIMEOUT_SCALE
# stretches them under sanitizers/valgrind).
# Usage: example_test.sh <ml_example> <work dir>
set -u
exe=$1
dir=$2
scale=${ML_TEST_TIMEOUT_SCALE:-1}
mkdir -p "$dir"
rm -f "$dir"/a.out "$dir"/b.out "$dir"/a.err "$dir"/b.err
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; }
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in a.out a.err b.out b.err; do echo "--- $f" >&2; cat "$dir/$f" >&2 2>/dev/null; done
  exit 1
}
# wait_for <seconds> <file> <extended regex>
wait_for() {
  local deadline=$((SECONDS + $1 * scale))
  until grep -Eq "$3" "$2" 2>/dev/null; do
    ((SECONDS > deadline)) && fail "no line /$3/ in $2 within $(($1 * scale)) s"
    sleep 0.05
  done
}
# wait_exit <pid> <seconds>: the exit status, or fail on timeout
wait_exit() {
  local deadline=$((SECONDS + $2 * scale))
  while kill -0 "$1" 2>/dev/null; do
    if ((SECONDS > deadline)); then fail "process $1 did not exit within $(($2 * scale)) s"; fi
    sleep 0.05
  done
  wait "$1"
}

"$exe" --name ex-a --bind 127.0.0.30:0 --preset local >"$dir/a.out" 2>"$dir/a.err" &
a=$!
pids+=("$a")
wait_for 10 "$dir/a.out" '^LISTENING ex-a '
addr=$(awk '/^LISTENING/ {print $3; exit}' "$dir/a.out")

"$exe" --name ex-b --bind 127.0.0.31:0 --preset local --join "ex-a/$addr" >"$dir/b.out" 2>"$dir/b.err" &
b=$!
pids+=("$b")
wait_for 10 "$dir/b.out" '^JOINED 1$'
wait_for 10 "$dir/a.out" '^JOIN ex-b 127\.0\.0\.31:[0-9]+ alive$'
wait_for 10 "$dir/b.out" '^JOIN ex-a '

kill -INT "$b"
wait_exit "$b" 20
rc=$?
((rc == 0)) || fail "ex-b exited $rc"
grep -q '^STOPPED$' "$dir/b.out" || fail "ex-b did not stop cleanly"
wait_for 10 "$dir/a.out" '^LEAVE ex-b 127\.0\.0\.31:[0-9]+ left$'

kill -INT "$a"
wait_exit "$a" 20
rc=$?
((rc == 0)) || fail "ex-a exited $rc"
grep -q '^STOPPED$' "$dir/a.out" || fail "ex-a did not stop cleanly"
echo "ok: join, SIGINT -> leave seen as left, both exited 0"

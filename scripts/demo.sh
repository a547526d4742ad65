#!/usr/bin/env bash
# The demo: one gossip cluster on loopback made of three implementations of the protocol.
#
#   go-1, go-2               the memberlist CLI (go/cmd/memberlist) on libmemberlist's Go package
#   c-1                      the C example (ml_example) on libmemberlist's C API
#   hashicorp-1, hashicorp-2 the same CLI source built against the real hashicorp/memberlist v0.7.0
#
# It starts them, each joining through a node of another kind, shows the membership converge,
# SIGKILLs one node and shows how long each survivor took to declare it dead, then makes the
# others leave gracefully one by one. It exits 0 only if every step worked, and leaves no
# process behind. The former codec demo is scripts/demo-wire.sh.
#
# Environment:
#   ML_BUILD_DIR   CMake build directory (default: build-demo/, configured without tests, Java and
#                  benchmarks if it is not yet; any configured build directory works)
#   DEMO_NO_BUILD  1: do not run cmake (the library and ml_example must be built already)
#   DEMO_NO_SETUP  1: skip scripts/setup.sh
#   DEMO_KILL      the node to SIGKILL (default: go-2)
#   DEMO_PROFILE   timing profile of every node: lan (default), local or wan
#   DEMO_GO        the go command (default: go in PATH, else /usr/local/go/bin/go)
#   DEMO_GO_ON_HASHICORP  1: build go-1/go-2 on hashicorp/memberlist too (to debug the demo)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ML_BUILD_DIR:-$root/build-demo}
victim=${DEMO_KILL:-go-2}
profile=${DEMO_PROFILE:-lan}
port=7946

step() { printf '\n=== %s ===\n' "$*"; }
die() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs() { printf '%d.%02d s' $(($1 / 1000)) $(($1 % 1000 / 10)); } # ms -> "4.21 s"

[ "${DEMO_NO_SETUP:-}" = 1 ] || bash "$root/scripts/setup.sh" >/dev/null

go=${DEMO_GO:-$(command -v go || true)}
if [ -z "$go" ] && [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go; fi
[ -n "$go" ] || die "needs Go 1.25 or newer (https://go.dev/dl): not in PATH nor /usr/local/go/bin"
export GOTOOLCHAIN=local

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ml-demo.XXXXXX")
declare -A pid=() kind=() addr=()
order=()
cleanup() {
  local rc=$? n
  for n in "${!pid[@]}"; do
    if kill -0 "${pid[$n]}" 2>/dev/null; then
      kill -KILL -- "-${pid[$n]}" 2>/dev/null || true
      wait "${pid[$n]}" 2>/dev/null || true
    fi
  done
  if [ $rc -ne 0 ]; then
    for n in "${order[@]}"; do
      [ -f "$tmp/$n.log" ] && { echo "--- $n log (last 15 lines):"; tail -n 15 "$tmp/$n.log"; }
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------------------------
step "Building libmemberlist, the C example and the CLI (twice: on libmemberlist and on hashicorp/memberlist)"
if [ "${DEMO_NO_BUILD:-}" != 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DML_BUILD_TESTS=OFF \
      -DML_BUILD_BENCH=OFF -DML_BUILD_JAVA=OFF -DML_BUILD_FUZZERS=OFF > "$tmp/configure.log" 2>&1 \
      || { cat "$tmp/configure.log"; die "cmake configure"; }
  fi
  targets=(memberlist)
  if cmake --build "$build" --target help 2>/dev/null | grep -q '^ml_example:'; then targets+=(ml_example); fi
  cmake --build "$build" --target "${targets[@]}" > "$tmp/build.log" 2>&1 || { tail -n 40 "$tmp/build.log"; die "cmake --build"; }
fi
libdir=$(dirname "$(find "$build" -name 'libmemberlist.so' -not -path '*/CMakeFiles/*' | head -n 1)")
[ -f "$libdir/libmemberlist.so" ] || die "libmemberlist.so not found under $build"
mlex=$(find "$build" -name ml_example -type f -perm -u+x -not -path '*/CMakeFiles/*' | head -n 1)

# cgo finds the library through pkg-config: the build tree's memberlist.pc, or one made here.
pcdir=$build/pkgconfig
if [ ! -f "$pcdir/memberlist.pc" ]; then
  pcdir=$tmp/pkgconfig
  mkdir -p "$pcdir"
  printf 'Name: memberlist\nDescription: libmemberlist (build tree)\nVersion: 0\nCflags: -I%s\nLibs: -L%s -Wl,-rpath,%s -lmemberlist\n' \
    "$root/capi/include" "$libdir" "$libdir" > "$pcdir/memberlist.pc"
fi
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$tmp/bin"
if [ "${DEMO_GO_ON_HASHICORP:-}" = 1 ]; then # debugging the demo itself: go-* on hashicorp too
  (cd "$root/go/cmd" && "$go" build -modfile=go.real.mod -o "$tmp/bin/memberlist" ./memberlist)
else
  (cd "$root/go/cmd" && PKG_CONFIG_PATH="$pcdir" CGO_ENABLED=1 "$go" build -o "$tmp/bin/memberlist" ./memberlist) \
    || die "go build of the CLI on libmemberlist (go/cmd, go.mod)"
fi
(cd "$root/go/cmd" && "$go" build -modfile=go.real.mod -o "$tmp/bin/memberlist-hashicorp" ./memberlist) \
  || die "go build of the CLI on hashicorp/memberlist (go/cmd, go.real.mod)"
ours=$tmp/bin/memberlist
theirs=$tmp/bin/memberlist-hashicorp
echo "built: $ours, $theirs${mlex:+, $mlex}"

# --- start ---------------------------------------------------------------------------------
# Every node gets its own loopback address (all of 127/8 is lo on Linux) and the standard port.
net=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))

listening() { ss -Hlnu "sport = :$port" 2>/dev/null | grep -q "$1:$port"; }

start() { # name kind join-node command...
  local name=$1 k=$2 via=$3; shift 3
  order+=("$name")
  kind[$name]=$k
  addr[$name]=$net.$((10 + ${#order[@]}))
  [ -z "$via" ] || set -- "$@" --join "${addr[$via]}:$port"
  setsid "$@" > "$tmp/$name.log" 2>&1 &
  pid[$name]=$!
  local deadline=$(($(now_ms) + 10000))
  until listening "${addr[$name]}"; do
    kill -0 "${pid[$name]}" 2>/dev/null || die "$name exited at start"
    [ "$(now_ms)" -lt $deadline ] || die "$name is not listening on ${addr[$name]}:$port after 10 s"
    sleep 0.05
  done
  printf '  %-12s %-46s %s:%s%s\n' "$name" "$k" "${addr[$name]}" "$port" "${via:+  (joins via $via)}"
}
agent() { # name bin kind join-node
  local name=$1 bin=$2 k=$3 via=$4
  start "$name" "$k" "$via" "$bin" agent --name "$name" --bind "$net.$((11 + ${#order[@]})):$port" \
    --profile "$profile" --http "unix:$tmp/$name.sock" --join-timeout 10s --meta "$k"
}

step "Starting the cluster on $net.0/24 (timing profile: $profile)"
printf '  %-12s %-46s %s\n' NODE IMPLEMENTATION ADDRESS
agent go-1 "$ours" "libmemberlist (Go package, memberlist CLI)" ""
if [ -n "$mlex" ]; then
  start c-1 "libmemberlist (C API, ml_example)" go-1 "$mlex" --name c-1 --bind "$net.$((11 + ${#order[@]})):$port" --preset "$profile"
  via=c-1
else
  echo "  (ml_example is not built in $build: the C node is left out)"
  via=go-1
fi
agent hashicorp-1 "$theirs" "hashicorp/memberlist v0.7.0 (memberlist CLI)" "$via"
agent go-2 "$ours" "libmemberlist (Go package, memberlist CLI)" hashicorp-1
agent hashicorp-2 "$theirs" "hashicorp/memberlist v0.7.0 (memberlist CLI)" go-1
total=${#order[@]}
[ -n "${pid[$victim]:-}" ] || die "DEMO_KILL=$victim is not a node"

# How many members node $1 sees: agents answer "memberlist members"; the C example's view is
# replayed from the "JOIN|LEAVE|UPDATE <name> <addr> <state>" lines it prints.
view() {
  local n=$1
  if [ "$n" != c-1 ]; then
    # live members only: "departed" lists the dead and left ones, with those states
    "$ours" members --agent "unix:$tmp/$n.sock" --json 2>/dev/null | grep -Ec '"state": "(alive|suspect)"' || true
  else
    awk '$1 == "JOIN" || $1 == "UPDATE" { live[$2] = 1 } $1 == "LEAVE" { delete live[$2] }
         END { n = 0; for (k in live) n++; if (!("c-1" in live)) n++; print n }' "$tmp/c-1.log"
  fi
}

step "Watching the membership converge (each node's own count of live members)"
t0=$(now_ms)
# Gossip reaches every node in well under a second, except when an alive broadcast misses one
# node (each is sent only RetransmitMult·ceil(log10 N) = 4 times here, partly before its senders
# know every node); the periodic push/pull (every 30 s, LAN) repairs that, in ours and in
# memberlist alike. So the deadline is longer than one push/pull interval.
deadline=$((t0 + 45000))
prev=""
while :; do
  line="" done=1
  for n in "${order[@]}"; do
    c=$(view "$n")
    line+=$(printf '%s %s/%s   ' "$n" "$c" "$total")
    [ "$c" = "$total" ] || done=0
  done
  if [ "$line" != "$prev" ]; then
    printf '  +%-8s %s\n' "$(secs $(($(now_ms) - t0)))" "$line"
    prev=$line
  fi
  [ $done = 1 ] && break
  [ "$(now_ms)" -lt $deadline ] || die "the cluster did not converge within 45 s"
  sleep 0.25
done
echo
echo "  go-1's member table (memberlist members --agent unix:.../go-1.sock):"
"$ours" members --agent "unix:$tmp/go-1.sock" | sed 's/^/    /'

# --- failure -------------------------------------------------------------------------------
step "SIGKILL $victim (${kind[$victim]}): no leave message, the others must detect it"
tkill=$(now_ms)
kill -KILL -- "-${pid[$victim]}"
wait "${pid[$victim]}" 2>/dev/null || true
unset "pid[$victim]"
survivors=()
for n in "${order[@]}"; do [ "$n" = "$victim" ] || survivors+=("$n"); done

# When did node $1 declare the victim gone? Agents print a timestamped "leave <name>" line;
# the C example prints "LEAVE <name> <addr> dead", timed when this script first sees it.
declare -A seen=()
detected_at() {
  local n=$1 l
  if [ "$n" != c-1 ]; then
    l=$(grep -E "^[0-9T:.-]+Z leave +$victim " "$tmp/$n.log" | head -n 1 || true)
    [ -z "$l" ] || date -d "${l%% *}" +%s%3N
  else
    grep -q "^LEAVE $victim " "$tmp/c-1.log" && now_ms
  fi
  return 0
}
deadline=$((tkill + 40000))
while [ ${#seen[@]} -lt ${#survivors[@]} ]; do
  for n in "${survivors[@]}"; do
    [ -z "${seen[$n]:-}" ] || continue
    t=$(detected_at "$n")
    if [ -n "$t" ]; then
      seen[$n]=$t
      printf '  %-12s %-46s declared %s dead after %s\n' "$n" "${kind[$n]}" "$victim" "$(secs $((t - tkill)))"
    fi
  done
  [ ${#seen[@]} -lt ${#survivors[@]} ] || break
  [ "$(now_ms)" -lt $deadline ] || die "not every survivor detected $victim within 40 s"
  sleep 0.1
done

# --- leave ---------------------------------------------------------------------------------
step "The others leave gracefully (SIGINT), one by one"
left=()
for n in "${survivors[@]}"; do
  tl=$(now_ms)
  kill -INT "${pid[$n]}"
  rc=0
  # bounded: the agents' leave timeout is 5 s; a stuck node is killed by the trap on exit
  ( sleep 15; kill -KILL -- "-${pid[$n]}" 2>/dev/null ) & guard=$!
  wait "${pid[$n]}" || rc=$?
  kill "$guard" 2>/dev/null || true
  wait "$guard" 2>/dev/null || true
  unset "pid[$n]"
  [ $rc = 0 ] || die "$n exited with status $rc on SIGINT"
  left+=("$n")
  msg=$(printf '  %-12s left in %s (exit 0)' "$n" "$(secs $(($(now_ms) - tl)))")
  rest=()
  for m in "${survivors[@]}"; do [[ " ${left[*]} " == *" $m "* ]] || rest+=("$m"); done
  if [ ${#rest[@]} -gt 0 ]; then
    # A leave is gossip: with few nodes a peer can miss it (memberlist retransmits each message
    # a bounded number of times); it then finds out by probing. Reported, not fatal.
    deadline=$(($(now_ms) + 5000))
    missed=()
    for m in "${rest[@]}"; do
      pat="^[0-9T:.-]+Z leave +$n "
      [ "$m" != c-1 ] || pat="^LEAVE $n "
      until grep -Eq "$pat" "$tmp/$m.log"; do
        [ "$(now_ms)" -lt $deadline ] || { missed+=("$m"); break; }
        sleep 0.05
      done
    done
    if [ ${#missed[@]} -eq 0 ]; then
      msg+="; the remaining ${#rest[@]} saw it leave"
    else
      msg+="; $(( ${#rest[@]} - ${#missed[@]} )) of the remaining ${#rest[@]} saw it leave within 5 s (${missed[*]} missed the gossip)"
    fi
  fi
  echo "$msg"
done

step "Done"
echo "demo: OK: $total nodes (${order[*]}) formed one cluster; $victim was killed and detected by all ${#survivors[@]} survivors; they all left cleanly"

#!/usr/bin/env bash
# Wire codec benchmark: core/wire (bench/wire/wire_bench.cpp) against hashicorp/memberlist
# v0.7.0's own encoding path (bench/go), same workloads, same machine, one invocation.
#
#   bench/run_wire.sh                 build both, check the encodings are byte-identical, time,
#                                     print the table and update docs/bench/wire.md and the README table
#   MIN_TIME=0.5 REPS=5               per-repetition minimum time (s) and repetitions (best kept)
#   BUILD_DIR=/work/main/build-bench  CMake build directory (Release)
#   NO_DOC=1                          print only, leave docs/bench/wire.md and README.md alone
#
# Each workload is run Go-then-C++ back to back, so both see the same machine load.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
MIN_TIME=${MIN_TIME:-0.5}
REPS=${REPS:-5}
DOC=$ROOT/docs/bench/wire.md
export GOTOOLCHAIN=local

echo "== building (Release) in $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DML_BUILD_GO=OFF -DML_BUILD_JAVA=OFF \
  -DML_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target wire_bench >&2
CPP=$BUILD/bench/wire_bench
GOBIN=$BUILD/bench/wire_bench_go
(cd "$ROOT/bench/go" && go build -trimpath -o "$GOBIN" .)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== checking that both sides encode identical bytes" >&2
"$GOBIN" -dump "$tmp"
"$CPP" --dump "$tmp"
for f in alive ping ack compound pushpull; do
  if ! cmp -s "$tmp/go_$f.bin" "$tmp/cpp_$f.bin"; then
    echo "run_wire.sh: encodings differ for $f (go $(stat -c %s "$tmp/go_$f.bin") bytes," \
      "ours $(stat -c %s "$tmp/cpp_$f.bin") bytes)" >&2
    exit 1
  fi
  echo "   $f: $(stat -c %s "$tmp/go_$f.bin") bytes, identical" >&2
done

echo "== timing (min-time ${MIN_TIME}s x best of $REPS per op)" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for w in alive ping_ack compound20 pushpull1000; do
  "$GOBIN" -only "$w" -min-time "${MIN_TIME}s" -reps "$REPS" | tee -a "$tmp/go.tsv" >&2
  "$CPP" --only "$w" --min-time "$MIN_TIME" --reps "$REPS" | tee -a "$tmp/cpp.tsv" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Join on (workload, op) in the C++ file's order; ratio = Go time / our time.
table=$(awk -F'\t' '
  FNR == NR { go[$2 "\t" $3] = $4; allocs[$2 "\t" $3] = $8; next }
  {
    k = $2 "\t" $3
    if (!(k in go)) { printf "missing Go result for %s\n", k > "/dev/stderr"; exit 1 }
    r = go[k] / $4
    # One row per operation the brief names; the ping/ack parts are shown for detail only.
    primary = !($2 == "ping_ack" && $3 != "round")
    flag = (r >= 3) ? "" : " **below 3x**"
    printf "| %s | %s%s | %d | %.0f | %.0f | %.2fx%s | %s |\n", $2, $3, primary ? "" : " (part)", $6, go[k], $4, r, flag, allocs[k]
    sumall += log(r); nall++
    if (primary) { sum += log(r); n++ }
  }
  END {
    printf "| **geometric mean** | %d ops (round counted once) | | | | **%.2fx** | |\n", n, exp(sum / n)
    printf "| geometric mean | all %d rows | | | | %.2fx | |\n", nall, exp(sumall / nall)
  }' "$tmp/go.tsv" "$tmp/cpp.tsv")
header='| workload | op | bytes | Go ns/op | ours ns/op | ratio (Go/ours) | Go allocs/op |
|---|---|---:|---:|---:|---:|---:|'

cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
cxx_flags=$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
msgpack_v2=$(cd "$ROOT/bench/go" && go list -m -f '{{.Version}}' github.com/hashicorp/go-msgpack/v2)
env_block="- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- CPU: ${cpu} ($(nproc) CPUs online), load average before/after: ${load_before} / ${load_after}
- C++: $("$cxx" --version | head -1), flags \`${cxx_flags}\` (CMAKE_BUILD_TYPE=Release), msgpack-c headers, IntStyle::V2
- Go: $(go version | cut -d' ' -f3-), github.com/hashicorp/memberlist v0.7.0, github.com/hashicorp/go-msgpack/v2 ${msgpack_v2}
- method: each op repeated for >= ${MIN_TIME} s per repetition, best of ${REPS} repetitions (Go: testing.Benchmark with -test.benchtime=${MIN_TIME}s); Go and C++ run back to back per workload
- encodings compared before timing: alive, ping, ackResp, compound, push/pull are byte-identical"

results="$env_block

$header
$table"

echo
echo "$results"

if [[ -z "${NO_DOC:-}" ]]; then
  # The results section of docs/bench/wire.md, and the table alone in README.md.
  source "$ROOT/bench/lib/doc_section.sh"
  write_doc_section "$DOC" "run_wire.sh results" "$results" "Wire codec benchmark"
  write_doc_section "$ROOT/README.md" "run_wire.sh table" "$header
$table"
fi

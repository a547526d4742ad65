#!/usr/bin/env bash
# Side-by-side cluster benchmark: N real nodes in one process, ours against hashicorp/memberlist.
#
#   bash bench/run_cluster.sh           the full run (about an hour on 2 cores), then
#                                       docs/bench/cluster.md, its PNG plots and the README table
#   bash bench/run_cluster.sh --quick   a few minutes: small N, short windows (same output files
#                                       unless NO_DOC=1)
#
# Three implementations, each point interleaved (ours, real, c; the order rotates per repetition):
#   ours  bench/cluster/scenario built on libmemberlist's Go package (go.mod, a replace line);
#         one event-loop thread per node
#   real  the same source built on hashicorp/memberlist v0.7.0 (go.real.mod)
#   c     bench/cluster/c_cluster.c: the C API, every node on one shared ml_runtime_t (one thread)
#   pool  the `ours` binary with LIBMEMBERLIST_RUNTIMES=$POOL_RUNTIMES: the Go package's opt-in
#         pool, its nodes sharing that many event-loop threads (go/README.md)
# Each point: create N nodes on 127.A.x.y, join them (through node 0), wait until every node sees
# N alive, wait until every node's broadcast queue is empty, measure CPU and RSS over WINDOW,
# then kill one node (detection time) and let one leave (leave time). A size a side failed at
# (did not join or converge within DEADLINE) is not tried again for that side at larger N.
# The scale ceiling: per side, N doubles from the largest sweep size that side passed (at least
# CEIL_FROM); each N must hold HOLD seconds with no suspicion and no death.
#
# Settings (environment):
#   SIZES=32,128,256,512,1024,2048   sweep sizes          REPS=3  repetitions per point
#   REPS_LARGE=1  repetitions for N > 256                WINDOW=30  idle window, seconds
#   WORKLOAD_SIZES=32,128,256  sizes that also run the message workload (WINDOW s per path)
#   DEADLINE=180  seconds for join, convergence, drain, detection
#   HOLD=120  CEIL_FROM=256  CEIL_MAX=8192  the scale-ceiling phase (CEILING=0 skips it)
#   JOIN=seed  seed: node i joins node 0; random: a random earlier node (both programs)
#   IMPLS="ours real c pool"  POOL_RUNTIMES=2   BUILD_DIR=build-bench   OUT_DIR=$BUILD_DIR/bench/cluster-results
#   REUSE=1  redraw tables and plots from OUT_DIR       NO_DOC=1  print only
#   PREBUILT=1  use BUILD_DIR as it is (no cmake)       STRICT=1  exit 1 unless every run said ok
#   CEILING_ONLY=1  keep OUT_DIR's sweep and programs; run (again) only the scale-ceiling phase
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
if ((QUICK)); then
  : "${SIZES:=32,128,256}" "${REPS:=3}" "${REPS_LARGE:=1}" "${WINDOW:=8}" "${WORKLOAD_SIZES:=32}" "${DEADLINE:=60}"
  : "${HOLD:=20}" "${CEIL_FROM:=256}" "${CEIL_MAX:=512}"
fi
SIZES=${SIZES:-32,128,256,512,1024,2048}
REPS=${REPS:-3}
REPS_LARGE=${REPS_LARGE:-1}
WINDOW=${WINDOW:-30}
WORKLOAD_SIZES=${WORKLOAD_SIZES:-32,128,256}
DEADLINE=${DEADLINE:-180}
HOLD=${HOLD:-120}
CEIL_FROM=${CEIL_FROM:-256}
CEIL_MAX=${CEIL_MAX:-8192}
CEILING=${CEILING:-1}
IMPLS=${IMPLS:-ours real c pool}
POOL_RUNTIMES=${POOL_RUNTIMES:-2}
JOIN=${JOIN:-seed}
[[ $JOIN == seed || $JOIN == random ]] || { echo "run_cluster.sh: JOIN must be seed or random" >&2; exit 2; }
BUILD=${BUILD_DIR:-$ROOT/build-bench}
OUT=${OUT_DIR:-$BUILD/bench/cluster-results}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

if [[ -z "${REUSE:-}" ]]; then
  if [[ -n "${CEILING_ONLY:-}" ]]; then
    [[ -s "$OUT/results.tsv" ]] || { echo "run_cluster.sh: CEILING_ONLY needs a sweep in $OUT" >&2; exit 1; }
    : >"$OUT/ceiling.tsv"
    sed -i '/^load_after\t\|^elapsed_s\t/d' "$OUT/run.txt"
    printf 'ceiling_run\t%s, HOLD=%s CEIL_MAX=%s\n' "$(date -u '+%H:%M UTC')" "$HOLD" "$CEIL_MAX" >>"$OUT/run.txt"
  else
    if [[ -z "${PREBUILT:-}" ]]; then
      echo "== building libmemberlist and c_cluster (Release) in $BUILD" >&2
      cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DML_BUILD_GO=OFF -DML_BUILD_JAVA=OFF \
        -DML_BUILD_TESTS=OFF >/dev/null
      targets=(memberlist)
      [[ " $IMPLS " == *" c "* ]] && targets+=(c_cluster)
      cmake --build "$BUILD" --target "${targets[@]}" >&2
    fi
    mkdir -p "$OUT/bin" "$OUT/logs"
    echo "== building the scenario twice (ours: go.mod, real: go.real.mod)" >&2
    (cd "$ROOT/bench/cluster" &&
      export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=1 PKG_CONFIG_PATH="$BUILD/pkgconfig" &&
      "$GO" build -o "$OUT/bin/ours" ./scenario &&
      "$GO" build -modfile=go.real.mod -o "$OUT/bin/real" ./scenario)
    [[ " $IMPLS " == *" c "* ]] && cp "$BUILD/bench/c_cluster" "$OUT/bin/c"
    : >"$OUT/results.tsv"
    : >"$OUT/msgs.tsv"
    : >"$OUT/ceiling.tsv"
    {
      printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
      printf 'machine\t%s, %s cores, %s GiB\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" \
        "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)"
      printf 'load_before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
      printf 'settings\tSIZES=%s REPS=%s REPS_LARGE=%s WINDOW=%s WORKLOAD_SIZES=%s DEADLINE=%s HOLD=%s JOIN=%s POOL_RUNTIMES=%s quick=%s\n' \
        "$SIZES" "$REPS" "$REPS_LARGE" "$WINDOW" "$WORKLOAD_SIZES" "$DEADLINE" "$HOLD" "$JOIN" "$POOL_RUNTIMES" "$QUICK"
      printf 'pool_runtimes\t%s\n' "$POOL_RUNTIMES"
    } >"$OUT/run.txt"
  fi

  ulimit -n 65536 2>/dev/null || true
  net=30
  run_point() { # impl n rep extra-args... ; appends rows, returns 0 if the status was ok
    local impl=$1 n=$2 rep=$3
    shift 3
    net=$((net >= 230 ? 30 : net + 1)) # a fresh 127.A/16 per run: no TIME_WAIT or late packets
    local log="$OUT/logs/$impl-$n-$rep-$net.log" out
    local limit=$((DEADLINE * 5 + WINDOW * 4 + ${HOLD_NOW:-0} + 120))
    local args bin=$impl env=()
    [[ $impl == pool ]] && bin=ours env=(LIBMEMBERLIST_RUNTIMES="$POOL_RUNTIMES")
    if [[ $impl == c ]]; then
      args=(--nodes "$n" --rep "$rep" --net "$net" --window "$WINDOW" --deadline "$DEADLINE" --join "$JOIN" --header "$@")
    else
      args=(-impl "$impl" -n "$n" -rep "$rep" -net "$net" -window "${WINDOW}s" -deadline "${DEADLINE}s" -join "$JOIN" -header)
      for a in "$@"; do case $a in --hold) args+=(-hold) ;; --workload) args+=(-workload) ;; *) args+=("${a}s") ;; esac; done
    fi
    out=$(env "${env[@]}" timeout -k 10 "$limit" "$OUT/bin/$bin" "${args[@]}" 2>"$log") || {
      echo "   $impl n=$n rep=$rep: exited $? (log $log)" >&2
      printf 'impl\tn\trep\tstatus\n%s\t%d\t%d\tcrashed\n' "$impl" "$n" "$rep" >>"$OUT/${TARGET_TSV:-results.tsv}"
      return 1
    }
    # idle rows go to results.tsv (or the ceiling file), workload rows to msgs.tsv
    awk -v idle="$OUT/${TARGET_TSV:-results.tsv}" -v msgs="$OUT/msgs.tsv" '
      /^impl\t/ { kind = ($0 ~ /\tpath\t/) ? msgs : idle }
      { print >> kind }' <<<"$out"
    local status
    status=$(awk -F'\t' '/^impl\t/ { c = 0; for (i = 1; i <= NF; i++) if ($i == "status") c = i; next } c { s = $c } END { print s }' <<<"$out")
    printf '   %s n=%d rep %d: %s %s\n' "$impl" "$n" "$rep" "$status" "$(awk -F'\t' '
      /^impl\t/ { idle = ($0 !~ /\tpath\t/); if (idle) for (i = 1; i <= NF; i++) h[i] = $i; next }
      idle { for (i = 5; i < NF; i++) if (h[i] ~ /_s$|_node/) printf "%s=%s ", h[i], $i }' <<<"$out")" >&2
    [[ $status == ok ]]
  }

  declare -A failed_at
  IFS=, read -r -a sizes <<<"$SIZES"
  IFS=, read -r -a wsizes <<<"$WORKLOAD_SIZES"
  read -r -a impls <<<"$IMPLS"
  total=0
  [[ -n "${CEILING_ONLY:-}" ]] && sizes=()
  for n in "${sizes[@]}"; do total=$((total + (n > 256 ? REPS_LARGE : REPS) * ${#impls[@]})); done
  done_runs=0
  started=$(date +%s)
  for n in "${sizes[@]}"; do
    reps=$REPS
    ((n > 256)) && reps=$REPS_LARGE
    extra=()
    for w in "${wsizes[@]}"; do [[ $w == "$n" ]] && extra=(--workload); done
    for ((rep = 1; rep <= reps; rep++)); do
      order=("${impls[@]:rep % ${#impls[@]}}" "${impls[@]:0:rep % ${#impls[@]}}") # rotate per repetition
      for impl in "${order[@]}"; do
        done_runs=$((done_runs + 1))
        if [[ -n "${failed_at[$impl]:-}" ]]; then
          echo "== [$done_runs/$total] $impl n=$n: skipped (failed at n=${failed_at[$impl]})" >&2
          printf 'impl\tn\trep\tstatus\n%s\t%d\t%d\tskipped\n' "$impl" "$n" "$rep" >>"$OUT/results.tsv"
          continue
        fi
        echo "== [$done_runs/$total] $impl n=$n rep $rep ($(($(date +%s) - started)) s elapsed, load $(cut -d' ' -f1 /proc/loadavg))" >&2
        if ! run_point "$impl" "$n" "$rep" "${extra[@]}"; then
          status=$(tail -1 "$OUT/results.tsv" | awk -F'\t' '{ print $NF }')
          [[ $status == nojoin || $status == noconverge || $status == crashed || $status == createfail ]] &&
            [[ $rep -eq $reps ]] && failed_at[$impl]=$n
        fi
      done
    done
  done

  if ((CEILING)); then
    echo "== scale ceiling: each N holds ${HOLD} s with no suspicion and no death" >&2
    for impl in "${impls[@]}"; do
      # start at the largest sweep size this side passed (at least CEIL_FROM): the sizes below it
      # are known to converge, so the hold time goes where the ceiling is
      n=$(awk -F'\t' -v impl="$impl" -v from="$CEIL_FROM" '/^impl\t/ { next }
        $1 == impl && $NF == "ok" && $2 + 0 > from + 0 { from = $2 } END { print from }' "$OUT/results.tsv")
      start=$n down=0
      while ((n <= CEIL_MAX)); do
        echo "== ceiling $impl n=$n ($(($(date +%s) - started)) s elapsed)" >&2
        if HOLD_NOW=$HOLD TARGET_TSV=ceiling.tsv run_point "$impl" "$n" 1 --hold "$HOLD"; then
          ((down)) && break # coming down from a size that failed: this one is the answer
          n=$((n * 2))
        elif ((n == start || down)) && ((n / 2 >= 32)); then
          down=1 # passed the sweep's short window but not the hold: halve until one holds
          n=$((n / 2))
        else
          break
        fi
      done
    done
  fi
  printf 'load_after\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/run.txt"
  printf 'elapsed_s\t%s\n' "$(($(date +%s) - started))" >>"$OUT/run.txt"
fi

if [[ -n "${STRICT:-}" ]]; then
  bad=$(awk -F'\t' '/^impl\t/ { next } $NF != "ok" { print $1 " n=" $2 " rep " $3 ": " $NF }' "$OUT/results.tsv" "$OUT/ceiling.tsv")
  [[ -z "$bad" ]] || { echo "run_cluster.sh: runs that did not pass:" >&2; echo "$bad" >&2; exit 1; }
  [[ -s "$OUT/results.tsv" ]] || { echo "run_cluster.sh: no results" >&2; exit 1; }
  # every workload path delivered something
  bad=$(awk -F'\t' '/^impl\t/ { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $(c["delivered"]) + 0 == 0 { print $1 " n=" $2 " " $(c["path"]) ": nothing delivered" }' "$OUT/msgs.tsv")
  [[ -z "$bad" ]] || { echo "run_cluster.sh: $bad" >&2; exit 1; }
fi

args=(--out "$OUT")
[[ -z "${NO_DOC:-}" ]] && args+=(--doc "$ROOT/docs/bench/cluster.md" --readme "$ROOT/README.md" --png "$ROOT/docs/bench")
python3 "$ROOT/bench/cluster/report.py" "${args[@]}"

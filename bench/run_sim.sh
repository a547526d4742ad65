#!/usr/bin/env bash
# Simulated-cluster benchmark: join, rumor (UpdateNode) and failure convergence of N real
# protocol nodes in core/sim, with CPU time and memory per N (bench/sim/sim_bench.cpp).
#
#   bench/run_sim.sh                  build sim_bench (Release), run every N, print the tables,
#                                     update docs/bench/sim.md and docs/bench/sim-convergence.png
#   NODES=100,250,500,1000,2000       cluster sizes (each in its own child process)
#   SEED=1 SETTLE=10                  simulator seed; virtual seconds between join and rumor
#   BUILD_DIR=/work/main/build-bench  CMake build directory (Release)
#   OUT_DIR=$BUILD_DIR/bench/sim-results   where results.tsv and curves.tsv go
#   REUSE=1                           skip the run; redraw tables and plot from OUT_DIR
#   NO_DOC=1                          print only, leave docs/bench alone
#
# Needs gnuplot (Debian: gnuplot-nox) for the PNG. Memory is O(N^2) (every node holds the full
# member table), about 170-210 B per entry at the join peak: N=2000 needs ~0.7 GB, N=4000 ~3 GB,
# N=10000 ~17 GB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
NODES=${NODES:-100,250,500,1000,2000}
SEED=${SEED:-1}
SETTLE=${SETTLE:-10}
OUT=${OUT_DIR:-$BUILD/bench/sim-results}
DOC=$ROOT/docs/bench/sim.md
PNG=$ROOT/docs/bench/sim-convergence.png

if [[ -z "${REUSE:-}" ]]; then
  echo "== building (Release) in $BUILD" >&2
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DML_BUILD_GO=OFF -DML_BUILD_JAVA=OFF \
    -DML_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" --target sim_bench >&2
  mkdir -p "$OUT"
  echo "== running N = $NODES (seed $SEED)" >&2
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  "$BUILD/bench/sim_bench" --nodes "$NODES" --seed "$SEED" --settle "$SETTLE" \
    --out "$OUT/results.tsv" --curves "$OUT/curves.tsv" >&2
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  printf 'date\t%s\nload\t%s / %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$load_before" "$load_after" >"$OUT/run.txt"
fi
[[ -f "$OUT/results.tsv" && -f "$OUT/curves.tsv" ]] || { echo "run_sim.sh: no results in $OUT" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- tables (columns by header name, so sim_bench may add columns)
tables=$(awk -F'\t' '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  function v(name) { return $(c[name]) }
  function q(p) { return v(p "50") " / " v(p "99") " / " v(p "100") }
  {
    n = v("nodes"); nn = n * n
    # a run with --no-compression (column absent in older results: compressed) is marked, and
    # kept out of the CPU fit: LZW is a third of the join CPU, and nothing else (not a round)
    lzw = ("compression" in c) ? v("compression") != 0 : 1
    tag = lzw ? "" : " (no LZW)"
    cost[NR] = sprintf("| %d%s | %.1f | %.1f | %.1f | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |", n, tag, v("wall_s"),
      v("cpu_s"), v("join_cpu_s"), v("events"), v("peak_rss_kb") / 1024, v("bytes_per_node") / 1024,
      v("bytes_per_entry"), v("heap_joined_bytes") / nn, v("heap_settled_bytes") / nn, v("queued_settled") / n)
    conv[NR] = sprintf("| %d%s | %.2f | %s | %s | %s | %s | %s |%s", n, tag, v("bound_rounds"), q("join"), q("rumor"),
      q("suspect"), q("dead"), q("deadfirst"), v("ok") == 1 ? "" : " incomplete: " v("notes"))
    last = NR
    # extrapolation inputs: a least-squares power law of join CPU over the N >= 500 runs, and the
    # peak bytes per entry of the largest run
    if (n >= 500 && lzw && v("join_cpu_s") > 0) { x = log(n); y = log(v("join_cpu_s")); sx += x; sy += y; sxx += x * x; sxy += x * y; m++ }
    if (n >= 500 && lzw) { nfit = nfit (nfit == "" ? "" : ", ") n }
    if (lzw) { ln = n; lcpu = v("join_cpu_s"); lbpe = v("bytes_per_entry") }
    if (v("queued_settled") == 0) { lset = v("heap_settled_bytes") / nn; lsetn = n }
  }
  END {
    print "### Cost\n"
    print "| N | wall s | CPU s (all) | CPU s (join) | events | peak RSS MiB | peak KiB / node | peak B / entry (RSS/N²) | heap B / entry, joined | heap B / entry, settled | broadcasts still queued per node, settled |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 2; i <= last; i++) print cost[i]
    print "\n### Convergence, in gossip rounds (200 ms) for 50% / 99% / 100% of the nodes\n"
    print "| N | log4 N | join | rumor (UpdateNode) | suspect, from crash | dead, from crash | dead, from first declaration |"
    print "|---:|---:|---|---|---|---|---|"
    for (i = 2; i <= last; i++) print conv[i]
    if (m >= 2) {
      k = (m * sxy - sx * sy) / (m * sxx - sx * sx)
      c0 = exp((sy - k * sx) / m)
      print "\n### Extrapolation to 10,000 and 100,000 nodes (this implementation, one process)\n"
      printf "Join CPU fitted as %.3g s × N^%.2f (least squares over N = %s); memory as N² at the largest run'"'"'s peak bytes per entry (%.0f B) and at the settled heap bytes per entry of the largest run whose queues had drained (N = %d: %.0f B; its fixed per-node state still counts, so this is an upper bound).\n\n", c0, k, nfit, lbpe, lsetn, lset
      print "| N | peak memory (RSS/N² × N²) | settled heap (× N²) | join CPU (power law) |"
      print "|---:|---:|---:|---:|"
      split("10000 100000", xs, " ")
      for (j = 1; j <= 2; j++) {
        x = xs[j]
        cpu = c0 * x ^ k
        printf "| %d | %.0f GB | %.0f GB | %.1f CPU-hours (%.1f days) |\n", x, lbpe * x * x / 1e9, lset * x * x / 1e9, cpu / 3600, cpu / 86400
      }
    }
  }' "$OUT/results.tsv")

cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
results="- $(sed -n 's/^date\t//p' "$OUT/run.txt" 2>/dev/null || echo '?'), seed ${SEED}, N = $(cut -f1 "$OUT/results.tsv" | tail -n +2 | paste -sd, -)
- CPU: ${cpu} ($(nproc) CPUs online, shared), load average before / after: $(sed -n 's/^load\t//p' "$OUT/run.txt" 2>/dev/null || echo '?')
- C++: $([[ -n "$cxx" ]] && "$cxx" --version | head -1), CMAKE_BUILD_TYPE=Release
$(sed -n 's/^note\t/- /p' "$OUT/run.txt" 2>/dev/null)

$tables"

echo
echo "$results"

# ---- plot
if command -v gnuplot >/dev/null; then
  nodes=$(cut -f1 "$OUT/results.tsv" | tail -n +2 | paste -sd' ' -)
  awk -F'\t' -v dir="$tmp" 'NR > 1 { printf "%s\t%s\n", $3, $7 > (dir "/curve-" $1 "-" $2 ".dat") }' "$OUT/curves.tsv"
  awk -F'\t' -v dir="$tmp" 'NR > 1 { f = dir "/bound-" $1 ".dat"; printf "%s\t0\n%s\t1.02\n", $4, $4 > f }' "$OUT/results.tsv"
  for n in $nodes; do  # a scenario that did not run still needs a (empty) file
    for s in join rumor suspect dead dead_from_first; do touch "$tmp/curve-$n-$s.dat"; done
  done
  target=$PNG
  [[ -n "${NO_DOC:-}" ]] && target=$OUT/sim-convergence.png
  gnuplot -e "dir='$tmp'; nodes='$nodes'; out='$target'" "$ROOT/bench/sim/plot.gp"
  echo "== wrote $target" >&2
else
  echo "run_sim.sh: gnuplot not found (apt-get install gnuplot-nox); no PNG" >&2
fi

# ---- doc: replace what lies between the markers; everything else in the file is kept
if [[ -z "${NO_DOC:-}" ]]; then
  source "$ROOT/bench/lib/doc_section.sh"
  write_doc_section "$DOC" "run_sim.sh results" "$results" "Simulated-cluster benchmark"
fi

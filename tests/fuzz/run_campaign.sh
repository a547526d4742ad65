#!/usr/bin/env bash
# A fuzzing campaign (docs/fuzzing.md): seeds from the vector files, libFuzzer for SECONDS per
# target, one target after another (-jobs 1), then a -merge=1 minimization into the
# checked-in corpus tests/fuzz/corpus/<target>/ (files named regress-* are kept as they are).
# The merge counts edges only (-use_counters=0), which keeps the corpus to a few hundred small
# files per target; fuzz_lzw and fuzz_snappy, whose code is small, keep their hit-count features too.
#
#   tests/fuzz/run_campaign.sh BUILD_DIR [SECONDS [TARGET...]]
#
# BUILD_DIR is a clang build configured with -DML_BUILD_FUZZERS=ON. Work files, logs and crash
# artifacts go to BUILD_DIR/fuzz-campaign/ (the work corpus there is kept between runs).
# SECONDS=0 only merges. Set ML_FUZZ_NO_MERGE=1 to leave the checked-in corpus alone.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,12p' "$0"
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=${2:-600}
shift $(($# < 2 ? $# : 2))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_packet fuzz_stream fuzz_lzw fuzz_snappy fuzz_node fuzz_config)

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$build/fuzz-campaign
max_len=4096
mkdir -p "$work"

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(clang --version | head -1)"
seeds=$work/seeds.$$  # per run, so two runs (different targets) can go at once
rm -rf "$seeds"
"$build/tests/fuzz/fuzz_seedgen" "$seeds" "$src"/tests/vectors/*.tsv
python3 "$src/tests/fuzz/gen_seeds.py" "$seeds"  # fuzz_node, fuzz_config

for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  committed=$src/tests/fuzz/corpus/$t
  dir=$work/$t
  mkdir -p "$dir/corpus" "$dir/artifacts" "$committed"
  # Start from the committed corpus and the fresh seeds.
  cp -n "$committed"/* "$dir/corpus/" 2>/dev/null || true
  before=$(find "$committed" -type f | wc -l)
  echo "== $t: ${seconds}s, committed corpus $before files, seeds $(find "$seeds/$t" -type f | wc -l) files"
  if [[ $seconds -gt 0 ]]; then
    (
      set -x
      "$bin" -max_total_time="$seconds" -max_len=$max_len -timeout=5 -rss_limit_mb=2048 \
        -report_slow_units=1 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" "$seeds/$t"
    ) > "$dir/fuzz.log" 2>&1 || echo "== $t: the fuzzer stopped on a finding (exit $?)"
    grep -E '(INITED|DONE|Slow unit|ERROR|SUMMARY|FUZZ_CHECK|stat::|^\+)' "$dir/fuzz.log" || true
    ls "$dir/artifacts" | sed "s|^|== $t: artifact |"
  fi
  if [[ ${ML_FUZZ_NO_MERGE:-0} != 1 ]]; then
    rm -rf "$dir/merged"
    mkdir -p "$dir/merged"
    (
      set -x
      "$bin" -merge=1 $([[ $t == fuzz_lzw || $t == fuzz_snappy ]] || echo -use_counters=0) -max_len=$max_len -timeout=5 -rss_limit_mb=2048 "$dir/merged" "$committed" "$dir/corpus" "$seeds/$t"
    ) > "$dir/merge.log" 2>&1
    grep -E 'MERGE-OUTER: [0-9]+ new files' "$dir/merge.log" || true
    find "$committed" -type f ! -name 'regress-*' -delete
    cp "$dir/merged"/* "$committed/"
    echo "== $t: corpus $before -> $(find "$committed" -type f | wc -l) files, $(du -sh --apparent-size "$committed" | cut -f1)"
  fi
done

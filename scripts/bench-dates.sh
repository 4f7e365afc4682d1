#!/usr/bin/env bash
# What carrying dates costs `scan` (issue 15 item 5: at most 10 %). Builds this tree and a base
# commit from before dates (default: main's last commit before them, a669605) in release mode, scans
# the gen.py workloads of scripts/bench.sh (the mbox, the postfix log) with both, alternating
# base and head, and prints the median wall time and peak RSS of each with the ratio
# head/base and PASS/FAIL against 1.10 (on wall time, what scripts/bench.sh reports; the CPU
# time ratio beside it is less disturbed by other load on the machine). Also run by
# `scripts/bench.sh --only dates`.
#
# usage: scripts/bench-dates.sh [--quick] [--runs N] [--figure FILE]
#   --quick        50 MB workloads instead of 1 GB
#   --runs N       runs of each measurement (default 5)
#   --figure FILE  also write the table, with the date, machine and command, to FILE (none:
#                  nowhere, as in scripts/bench.sh)
#                  (docs/figures/bench-dates.md is where the docs take it from)
# environment: BENCH_DIR (workloads; default target/bench-cache of this tree),
#   BASE_REV (the base commit), REPUDIATE_BASE (a built base binary: no base build),
#   REPUDIATE (a built binary to measure instead of this tree's)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=bench-dates
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_dir "$REPO/target/bench-cache"
SIZE=1G
RUNS=5
FIGURE=
COMMAND="scripts/bench-dates.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) SIZE=50M ;;
    --runs) RUNS=$2; shift ;;
    --figure) FIGURE=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench-dates: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
bench_need_gen
bench_need /usr/bin/time:time

# --- the two binaries ------------------------------------------------------------------------
# The last commit of main before messages carried dates (issue 15): the base by default. (The
# merge base with main served while dates were on a branch; on main it is HEAD itself.)
BEFORE_DATES=a6696053d54154ca0b788f5a6b8bd55a0b406132
bench_binary
HEAD_BIN=$BIN
bench_commit
if [ -n "${REPUDIATE_BASE:-}" ]; then
  BASE_BIN=$REPUDIATE_BASE
  BASE_REV=${BASE_REV:-given}
else
  BASE_REV=$(git rev-parse --short "${BASE_REV:-$BEFORE_DATES}")
  BASE=$REPO/target/bench-base
  if [ "$(cat "$BASE/rev" 2>/dev/null)" != "$BASE_REV" ]; then
    log "building the base $BASE_REV in $BASE (its own target dir, kept for the next run)"
    rm -rf "$BASE/src"
    mkdir -p "$BASE/src"
    git archive "$BASE_REV" | tar -x -C "$BASE/src"
    (cd "$BASE/src" && CARGO_TARGET_DIR=$BASE/target cargo build --release --locked --quiet)
    echo "$BASE_REV" > "$BASE/rev"
  fi
  BASE_BIN=$BASE/target/release/repudiate
fi

# --- the workload (gen.py seed 1, as scripts/bench.sh makes it) ------------------------------
W=$BENCH_DIR/world-$SIZE
bench_world "$W" --seed 1 --mbox-bytes "$SIZE" --postfix-bytes "$SIZE" --what mbox,postfix,zone
perimeter=()
while read -r line; do
  case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
done < "$W/perimeter.txt"
WORK=$BENCH_DIR/dates-run
mkdir -p "$WORK"
cat "$W/mail.mbox" "$W/maillog" >/dev/null

# measure BIN INPUT -> "wall cpu rss_kb"
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" \
    "$1" scan -q -o "$WORK/scan.csv" "${perimeter[@]}" --jobs 2 "$2" 2>"$WORK/err" ||
    { log "scan of $2 with $1 failed:"; cat "$WORK/err" >&2; exit 1; }
  tail -n 1 "$WORK/time.out" | awk '{print $1, $2 + $3, $4}'
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

TABLE=$WORK/table.txt
row() { printf '%-6s %9s %9s %7s %9s %9s %7s %9s %9s  %s\n' "$@" | tee -a "$TABLE"; }
: > "$TABLE"
row input base_s head_s ratio base_cpu head_cpu ratio base_MB head_MB verdict
status=0
for input in mbox:mail.mbox log:maillog; do
  name=${input%%:*}
  file=$W/${input#*:}
  : > "$WORK/base.txt"; : > "$WORK/head.txt"
  for _ in $(seq "$RUNS"); do
    measure "$BASE_BIN" "$file" >> "$WORK/base.txt"
    measure "$HEAD_BIN" "$file" >> "$WORK/head.txt"
  done
  # Same pairs from both: dates must not change what is counted.
  "$BASE_BIN" scan -q -o "$WORK/base.csv" "${perimeter[@]}" "$file"
  "$HEAD_BIN" scan -q -o "$WORK/head.csv" "${perimeter[@]}" "$file"
  cmp -s "$WORK/base.csv" "$WORK/head.csv" || { log "$name: pairs differ"; status=1; }
  col() { cut -d' ' -f"$1" "$WORK/$2.txt" | median; }
  bw=$(col 1 base); hw=$(col 1 head); bc=$(col 2 base); hc=$(col 2 head)
  bm=$(col 3 base); hm=$(col 3 head)
  ratio=$(awk "BEGIN{printf \"%.3f\", $hw/$bw}")
  cpu_ratio=$(awk "BEGIN{printf \"%.3f\", ($bc > 0) ? $hc/$bc : 0}")
  verdict=$(awk "BEGIN{print ($ratio <= 1.10) ? \"PASS\" : \"FAIL\"}")
  [ "$verdict" = PASS ] || status=1
  mb() { awk "BEGIN{printf \"%.1f\", $1/1024}"; }
  row "$name" "$bw" "$hw" "$ratio" "$bc" "$hc" "$cpu_ratio" "$(mb "$bm")" "$(mb "$hm")" "$verdict"
done
ABOUT="base $BASE_REV, head $(git rev-parse --short HEAD), $SIZE workload, $RUNS runs each alternating, medians, --jobs 2"
echo "$ABOUT"
if [ -n "$FIGURE" ] && [ "$FIGURE" != none ]; then
  bench_stamp
  bench_figure "$FIGURE" "$COMMAND" "gen.py --seed 1 in $BENCH_DIR; $ABOUT; wall and CPU in seconds, peak RSS in MB; PASS when head/base wall <= 1.10" "$(cat "$TABLE")"
fi
exit $status

#!/usr/bin/env bash
# The merge of many hosts' pairs files (issue 16 items 3 and 5): `repudiate scan` over FILES
# pairs files (scripts/gen_pairs.py, seed 1) against its reference, a one-line mawk hash of
# the same files, in the same run; prints rows/s, peak RSS and the ratio, and PASS/FAIL for
# the targets (>= 10 M rows/s, <= 200 MB peak RSS for a million pairs). The two results are
# compared (as sorted sets of rows), so a fast wrong merge fails too. scripts/bench.sh runs
# this as its `merge` section (`scripts/bench.sh --only merge`).
#
# usage: scripts/bench-merge.sh [--binary PATH] [--runs N] [--quick] [--files N] [--rows N]
#                               [--distinct N]
#   defaults: 1,000 files, 6.4 M rows, 1 M distinct pairs, 3 runs; --quick: 100 files,
#   640,000 rows, 100,000 pairs (the rate target is not judged on it)
# environment: BENCH_DIR (where the files are generated and kept; default target/bench-cache),
#   REPUDIATE (a built binary to use instead of building; --binary says the same)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=bench-merge
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_dir "$REPO/target/bench-cache"
BIN=
RUNS=3
FILES=1000
ROWS=6400000
DISTINCT=1000000
QUICK=
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BIN=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --quick) QUICK=1; FILES=100; ROWS=640000; DISTINCT=100000 ;;
    --files) FILES=$2; shift ;;
    --rows) ROWS=$2; shift ;;
    --distinct) DISTINCT=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench-merge: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
bench_need mawk:mawk /usr/bin/time:time
if [ -n "$BIN" ]; then REPUDIATE=$BIN; fi
bench_binary

DATA=$BENCH_DIR/merge-$FILES-$ROWS-$DISTINCT
if [ ! -f "$DATA/.complete" ]; then
  log "generating $FILES pairs files, $ROWS rows, $DISTINCT distinct pairs in $DATA (seed 1)"
  rm -rf "$DATA"
  python3 scripts/gen_pairs.py "$DATA/files" --files "$FILES" --rows "$ROWS" \
    --distinct "$DISTINCT" --seed 1 >/dev/null
  touch "$DATA/.complete"
fi
WORK=$DATA/run
mkdir -p "$WORK"
mapfile -t INPUTS < <(find "$DATA/files" -name 'host-*.csv' | sort)
TOTAL_ROWS=$(( $(cat "${INPUTS[@]}" | wc -l) - ${#INPUTS[@]} ))

# measure NAME CMD...: one run; appends "NAME wall rss_kb cpu" to $WORK/times.
measure() {
  local name=$1 wall rss user sys
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.out" "$@" || { log "$name failed"; exit 1; }
  read -r wall rss user sys < <(tail -n 1 "$WORK/time.out")
  echo "$name $wall $rss $(awk "BEGIN{print $user + $sys}")" >> "$WORK/times"
  log "$(printf '%-10s %7.2f s %8.1f MB %7.2f s CPU' "$name" "$wall" "$(awk "BEGIN{print $rss/1024}")" \
    "$(awk "BEGIN{print $user + $sys}")")"
}
: > "$WORK/times"
cat "${INPUTS[@]}" >/dev/null
for _ in $(seq "$RUNS"); do
  measure repudiate "$BIN" scan -q --jobs 2 -o "$WORK/merged.csv" "${INPUTS[@]}"
  measure mawk sh -c 'mawk -F, '\''FNR > 1 { c[$1 "," $2] += $3 } END { for (k in c) print k "," c[k] }'\'' "$@" > "$0"' \
    "$WORK/mawk.csv" "${INPUTS[@]}"
done

# The same sums: repudiate's rows against mawk's, both sorted as text.
tail -n +2 "$WORK/merged.csv" | LC_ALL=C sort > "$WORK/merged.sorted"
LC_ALL=C sort "$WORK/mawk.csv" > "$WORK/mawk.sorted"
SAME=yes
cmp -s "$WORK/merged.sorted" "$WORK/mawk.sorted" || SAME=no
PAIRS=$(wc -l < "$WORK/merged.sorted")

awk -v rows="$TOTAL_ROWS" -v files="${#INPUTS[@]}" -v pairs="$PAIRS" -v same="$SAME" \
    -v judged="$([ -z "$QUICK" ] && echo 1 || echo 0)" '
  { wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " $4; rss[$1] = ($3 > rss[$1] ? $3 : rss[$1]) }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    r = median(wall["repudiate"]); m = median(wall["mawk"])
    printf "merge: %d files, %d rows, %d distinct pairs (median of the runs; peak RSS the highest)\n", files, rows, pairs
    printf "  %-22s %8s %14s %12s\n", "", "seconds", "rows/s", "peak RSS MB"
    printf "  %-22s %8.2f %14.0f %12.1f\n", "repudiate scan", r, rows / r, rss["repudiate"] / 1024
    printf "  %-22s %8.2f %14.0f %12.1f\n", "mawk hash (reference)", m, rows / m, rss["mawk"] / 1024
    printf "  repudiate / mawk: %.1fx the rate; same sums as mawk: %s\n", m / r, same
    # CPU (user + sys) says more than wall time on a machine shared with other work.
    printf "  CPU seconds (user + sys, median): repudiate %.2f (%.0f ns per row), mawk %.2f\n", median(cpu["repudiate"]), median(cpu["repudiate"]) * 1e9 / rows, median(cpu["mawk"])
    rate_ok = rows / r >= 10000000
    mem_ok = rss["repudiate"] / 1024 <= 200 * (pairs > 1000000 ? pairs / 1000000 : 1)
    if (judged) {
      printf "  target >= 10 M rows/s: %s; target <= 200 MB per million pairs: %s\n", rate_ok ? "PASS" : "FAIL", mem_ok ? "PASS" : "FAIL"
    } else {
      printf "  (--quick: targets not judged)\n"
    }
    exit (same == "yes" ? 0 : 1)
  }' "$WORK/times"

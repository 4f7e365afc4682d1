#!/usr/bin/env bash
# The evaluation stage on gen.py's postfix log (seed 1) with its zones served by nsd on
# loopback (issue 16 item 2): for each run, the audit's wall time, the resolution stage's
# time as the audit reports it, and peak RSS (/usr/bin/time), for `audit maillog` (scan and
# evaluation in one process) and for `audit pairs.csv` (evaluation alone). Also the same
# audit answered by the zone files with --offline: evaluation with no network at all. Ends
# with the median of each (peak RSS: the highest run) and the log's pairs and domains, the
# lines scripts/readme-figures.py quotes. Called by scripts/bench.sh --only domeval (and
# --only scale), or on its own.
#
# usage: scripts/bench-domeval.sh [--size SIZE] [--runs N] [--world DIR]
#   --size SIZE  the postfix log generated (default 1G)    --runs N  runs of each (default 3)
#   --world DIR  a gen.py world already made (maillog, zones/, perimeter.txt): bench.sh's
# environment: BENCH_DIR (default /work/bench-cache), BENCH_DNS_PORT (default 5391),
#   REPUDIATE (a built binary to use instead of building target/release/repudiate)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=bench-domeval
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_dir /work/bench-cache
DNS_PORT=${BENCH_DNS_PORT:-5391}
SIZE=1G
RUNS=3
WORLD=
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --world) WORLD=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench-domeval: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
bench_need nsd:nsd nsd-control:nsd /usr/bin/time:time
bench_need_gen
bench_binary

W=${WORLD:-$BENCH_DIR/domeval-$SIZE}
[ -n "$WORLD" ] || bench_world "$W" --seed 1 --postfix-bytes "$SIZE" --what postfix,zone
[ -f "$W/maillog" ] && [ -f "$W/zones/zones.txt" ] || { log "$W is not a gen.py world with a postfix log"; exit 1; }
WORK=$BENCH_DIR/domeval-run-$SIZE
mkdir -p "$WORK"
perimeter=()
while read -r line; do
  case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
done < "$W/perimeter.txt"
zones=()
while read -r _origin file; do zones+=(--zone "$W/zones/$file"); done < "$W/zones/zones.txt"

NSD_PID=
stop_nsd() {
  if [ -n "$NSD_PID" ]; then kill "$NSD_PID" 2>/dev/null || true; wait "$NSD_PID" 2>/dev/null || true; fi
  NSD_PID=
}
trap stop_nsd EXIT
run=$WORK/nsd
mkdir -p "$run"
{
  printf 'server:\n  ip-address: 127.0.0.1@%s\n  port: %s\n  username: ""\n  chroot: ""\n' "$DNS_PORT" "$DNS_PORT"
  printf '  zonesdir: "%s"\n  pidfile: "%s/nsd.pid"\n  logfile: "%s/nsd.log"\n' "$W/zones" "$run" "$run"
  printf '  xfrdfile: "%s/xfrd.state"\n  zonelistfile: "%s/zone.list"\n  xfrdir: "%s"\n' "$run" "$run" "$run"
  printf '  database: ""\n  server-count: 1\n  verbosity: 1\n  hide-version: yes\n  refuse-any: yes\n'
  printf '  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\nremote-control:\n  control-enable: no\n'
  while read -r origin file; do
    printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$origin" "$file"
  done < "$W/zones/zones.txt"
} > "$run/nsd.conf"
nsd -d -c "$run/nsd.conf" >"$run/nsd.out" 2>&1 &
NSD_PID=$!
python3 "$TOOLS" wait-dns "$DNS_PORT" 60 || { cat "$run/nsd.out" >&2; exit 1; }
# Another server already on the port would answer in its place: ours must still be running.
sleep 0.5
kill -0 "$NSD_PID" 2>/dev/null || { log "nsd did not start (port $DNS_PORT taken?)"; cat "$run/nsd.out" >&2; exit 1; }

# measure KEY CMD...: wall s, resolution-stage s (from the audit's own table), peak RSS MB.
ROWS=()
measure() {
  local key=$1 wall rss stage out
  shift
  out=$WORK/$(printf '%s' "$key" | tr -c 'a-z0-9' '-').csv
  /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" -o "$out" 2>"$WORK/err.txt" ||
    { log "$key failed:"; cat "$WORK/err.txt" >&2; exit 1; }
  read -r wall rss < <(tail -n 1 "$WORK/time.out")
  # The table gives the stage's time in seconds, or in milliseconds under a second.
  stage=$(awk '/sent to a server/ { for (i = 1; i < NF; i++) {
      if ($(i + 1) == "s") print $i
      if ($(i + 1) == "ms") printf "%.2f\n", $i / 1000 } }' "$WORK/err.txt")
  ROWS+=("$(printf '%-34s %8.2f s %10s s %8.1f MB' "$key" "$wall" "${stage:-?}" "$(awk "BEGIN{print $rss/1024}")")")
  printf '%s\t%s\t%s\t%s\n' "$key" "$wall" "${stage:-?}" "$rss" >> "$WORK/runs.tsv"
  log "${ROWS[-1]}"
}
"$BIN" scan -q "$W/maillog" "${perimeter[@]}" -o "$WORK/pairs.csv"
PAIRS_DOMAINS="$(($(wc -l <"$WORK/pairs.csv") - 1)) pairs, $(($(tail -n +2 "$WORK/pairs.csv" | cut -d, -f1 | sort -u | wc -l))) domains"
log "$PAIRS_DOMAINS"
: > "$WORK/runs.tsv"
NS=(--nameserver "127.0.0.1:$DNS_PORT")
for _ in $(seq "$RUNS"); do
  measure "audit maillog (nsd)" "$BIN" audit "$W/maillog" "${perimeter[@]}" "${NS[@]}"
  measure "audit pairs.csv (nsd)" "$BIN" audit "$WORK/pairs.csv" "${perimeter[@]}" "${NS[@]}"
  measure "audit pairs.csv (--zone --offline)" "$BIN" audit "$WORK/pairs.csv" "${perimeter[@]}" \
    "${zones[@]}" --offline --max-tempfail 100
done
# The log and its pairs file give the same rows (offline, SPF has no TXT answers: not compared).
cmp -s "$WORK/audit-maillog--nsd-.csv" "$WORK/audit-pairs-csv--nsd-.csv" ||
  { log "the audits of the log and of its pairs differ ($WORK)"; exit 1; }
echo "evaluation bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $SIZE postfix log (gen.py seed 1)"
if [ -n "${REPUDIATE:-}" ]; then echo "binary: $BIN (given as REPUDIATE)"
else echo "binary: $BIN (built from $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown))"; fi
printf '%-34s %10s %12s %11s\n' "run" "wall" "resolution" "peak RSS"
printf '%s\n' "${ROWS[@]}"
# The medians scripts/readme-figures.py quotes (peak RSS: the highest of the runs).
echo "median of $RUNS runs, peak RSS the highest; the log holds $PAIRS_DOMAINS:"
awk -F'\t' '
  { n[$1]++; wall[$1, n[$1]] = $2; stage[$1, n[$1]] = $3; if ($4 > rss[$1]) rss[$1] = $4
    if (!seen[$1]++) order[++keys] = $1 }
  function median(v, k, m,   a, i, j, t) {
    for (i = 1; i <= m; i++) a[i] = v[k, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    for (i = 1; i <= keys; i++) {
      k = order[i]
      printf "median %-34s %8.2f s %10s s %8.1f MB\n", k, median(wall, k, n[k]), median(stage, k, n[k]), rss[k] / 1024
    }
  }' "$WORK/runs.tsv"

#!/usr/bin/env bash
# Measures repudiate against fast and slow baselines on gen.py workloads (seed 1) and prints
# medians, throughput, peak memory and PASS/FAIL for the targets of issue 6
# (docs/performance.md), and writes the same table with the date, the machine, the commit
# and this command line to docs/figures/bench.md, the only place the docs take bench figures
# from. Not part of .ci/run: a full run reads 2 GB several times and takes a while.
#
# usage: scripts/bench.sh [--quick] [--runs N] [--slow-runs N] [--only LIST] [--figure FILE]
#   --quick        50 MB workloads (memory also at 10 MB) instead of 1 GB (and 100 MB)
#   --runs N       runs of each fast measurement, alternating (default 3)
#   --slow-runs N  runs of the Python baseline and pflogsumm (default: --runs)
#   --only LIST    comma list of: mbox,log,dns,spf,profile,mem,shapes,cores,merge,domeval
#                  (default: all), or scale (dns,domeval,merge: issue 16's figures, each
#                  beside its reference, in docs/figures/bench-scale.md); shapes is scripts/memory_check.py: peak RSS on the input
#                  shapes of docs/memory.md; profile counts the audit's instructions per DNS
#                  question under callgrind (independent of the machine's load); merge is
#                  scripts/bench-merge.sh: 1,000 pairs files against a mawk hash; domeval is
#                  scripts/bench-domeval.sh: the audit's evaluation time and peak RSS on the
#                  world's postfix log; dates (not in the default) is scripts/bench-dates.sh:
#                  scan with dates against a build of the commit before them
#   --figure FILE  where the Markdown figure goes (none: nowhere; default docs/figures/bench.md,
#                  or docs/figures/bench-LIST.md with --only, so a partial run never replaces
#                  the full table: `--only spf` writes docs/figures/bench-spf.md)
# environment: BENCH_DIR (workload cache, default /work/bench-cache), BENCH_DNS_PORT (5391;
#   the delaying proxy uses the next port), REPUDIATE (a built binary to use instead),
#   PROFILE_DOMAINS (domains of the profiled audit, default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=bench
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_dir /work/bench-cache
DNS_PORT=${BENCH_DNS_PORT:-5391}
PROXY_PORT=$((DNS_PORT + 1))
RUNS=3
SLOW_RUNS=
ALL=mbox,log,dns,spf,profile,mem,shapes,cores,merge,domeval
ONLY=$ALL
SIZE=1G
SMALL=100M
FIGURE=
COMMAND="scripts/bench.sh${*:+ $*}"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) SIZE=50M; SMALL=10M ;;
    --runs) RUNS=$2; shift ;;
    --slow-runs) SLOW_RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --figure) FIGURE=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
SLOW_RUNS=${SLOW_RUNS:-$RUNS}
if [ -z "$FIGURE" ]; then
  if [ "$ONLY" = "$ALL" ]; then FIGURE=$REPO/docs/figures/bench.md
  else FIGURE=$REPO/docs/figures/bench-${ONLY//,/-}.md; fi
fi
# scale: issue 16's figures in one run (scripts/readme-figures.py renders README's table
# from the figure it writes, docs/figures/bench-scale.md).
ONLY=$(echo ",$ONLY," | sed 's/,scale,/,dns,domeval,merge,/; s/^,//; s/,$//')
wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# --- prerequisites ---------------------------------------------------------------------------
bench_need nsd:nsd nsd-control:nsd dnsperf:dnsperf pflogsumm:pflogsumm /usr/bin/time:time \
  valgrind:valgrind callgrind_annotate:valgrind
bench_need_gen

log "cargo build --release --locked --example dnsdelay"
cargo build --release --locked --quiet --example dnsdelay
PROXY=$REPO/target/release/examples/dnsdelay
bench_binary
bench_commit

# --- merge: 1,000 hosts' pairs files against a one-line mawk hash (scripts/bench-merge.sh,
# files of its own under target/bench-cache) ------------------------------------------------
MERGE_STATUS=0
if wanted merge; then
  log "merge of pairs files (scripts/bench-merge.sh)"
  merge_args=(--binary "$BIN" --runs "$RUNS")
  if [ "$SIZE" = 50M ]; then merge_args+=(--quick); fi
  MERGE_TABLE=$("$REPO/scripts/bench-merge.sh" "${merge_args[@]}") || MERGE_STATUS=$?
fi
if [ "$ONLY" = merge ]; then
  echo "$MERGE_TABLE"
  exit "$MERGE_STATUS"
fi

# --- workloads (cached outside the repository) -----------------------------------------------
world() { # SIZE -> directory holding mail.mbox, maillog, zones/, perimeter.txt
  bench_world "$BENCH_DIR/world-$1" --seed 1 --mbox-bytes "$1" --postfix-bytes "$1" \
    --what mbox,postfix,zone
  echo "$BENCH_DIR/world-$1"
}
# The 20,000-domain world with SPF records (gen.py --spf): the same mail as world SIZE (SPF
# records come from a random stream of their own), its zones with TXT records added.
world_spf() {
  bench_world "$BENCH_DIR/world-spf-$1" --seed 1 --spf --mbox-bytes "$1" --postfix-bytes "$1" \
    --what mbox,postfix,zone
  echo "$BENCH_DIR/world-spf-$1"
}
W=$(world "$SIZE")
WS=$W
wanted mem && WS=$(world "$SMALL")
WORK=$BENCH_DIR/run-$SIZE
mkdir -p "$WORK"
RESULTS=$WORK/results.tsv
: > "$RESULTS"
perimeter=()
while read -r line; do
  case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
done < "$W/perimeter.txt"
size_of() { stat -c %s "$1"; }
# Read everything once so every tool starts from the page cache.
cat "$W/mail.mbox" "$W/maillog" "$WS/mail.mbox" "$WS/maillog" >/dev/null

# --- measuring -------------------------------------------------------------------------------
# measure KEY WORK CMD...: one run under /usr/bin/time; WORK is bytes (or DNS questions) done.
measure() {
  local key=$1 work=$2 wall user sys rss
  shift 2
  if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$@" >"$WORK/last.out" 2>"$WORK/last.err"; then
    # grep -c exits 1 when it counts nothing; anything else is a broken measurement.
    if [ "$1" != grep ]; then log "$key failed:"; cat "$WORK/last.err" >&2; exit 1; fi
  fi
  read -r wall user sys rss < <(tail -n 1 "$WORK/time.out")
  printf '%s\t%s\t%s\t%s\t%s\n' "$key" "$wall" "$(awk "BEGIN{print $user+$sys}")" "$rss" \
    "$work" >> "$RESULTS"
  log "$(printf '%-32s %7.2f s  %6.1f MB' "$key" "$wall" "$(awk "BEGIN{print $rss/1024}")")"
}
SCAN=("$BIN" scan -q -o "$WORK/scan.csv" "${perimeter[@]}")

if wanted mbox; then
  M=$W/mail.mbox; MB=$(size_of "$M")
  for run in $(seq "$RUNS"); do
    measure "mbox grep" "$MB" grep -c '^Received:' "$M"
    measure "mbox scan" "$MB" "${SCAN[@]}" "$M" --jobs 2
    cp "$WORK/scan.csv" "$WORK/mbox-scan.csv"
    if [ "$run" -le "$SLOW_RUNS" ]; then
      measure "mbox python-baseline" "$MB" \
        python3 scripts/baseline_scan.py "$M" "${perimeter[@]}" -o "$WORK/mbox-python.csv"
      if cmp -s "$WORK/mbox-scan.csv" "$WORK/mbox-python.csv"; then
        log "python baseline output is byte-identical to repudiate scan"
      else
        log "python baseline output DIFFERS from repudiate scan ($WORK/mbox-*.csv)"
      fi
    fi
  done
fi

if wanted log; then
  L=$W/maillog; LB=$(size_of "$L")
  for run in $(seq "$RUNS"); do
    measure "log grep" "$LB" grep -c ' client=' "$L"
    measure "log scan" "$LB" "${SCAN[@]}" "$L" --jobs 2
    if [ "$run" -le "$SLOW_RUNS" ]; then
      measure "log pflogsumm" "$LB" pflogsumm "$L"
    fi
  done
fi

if wanted cores; then
  for run in $(seq "$RUNS"); do
    for input in mbox:mail.mbox log:maillog; do
      for jobs in 1 2; do
        measure "${input%%:*} scan --jobs $jobs" "$(size_of "$W/${input#*:}")" \
          "${SCAN[@]}" "$W/${input#*:}" --jobs "$jobs"
      done
    done
  done
fi

# issue 15: what dates cost scan, against a base build (its own script and table; --only dates)
wanted dates && BENCH_DIR=$BENCH_DIR scripts/bench-dates.sh $([ "$SIZE" = 1G ] || echo --quick) --runs "$RUNS" >&2

if wanted mem; then
  for input in mbox:mail.mbox log:maillog; do
    measure "mem ${input%%:*} $SMALL" "$(size_of "$WS/${input#*:}")" "${SCAN[@]}" "$WS/${input#*:}"
    measure "mem ${input%%:*} $SIZE" "$(size_of "$W/${input#*:}")" "${SCAN[@]}" "$W/${input#*:}"
  done
fi

# --- memory per input shape (issue 14.3): 1 GB message, 500 MB lines, 100 MB header blocks,
# 5 million open queue ids; generated on the fly, measured by scripts/memory_check.py -------
SHAPES_STATUS=0
if wanted shapes; then
  log "memory per input shape (scripts/memory_check.py)"
  SHAPES_TABLE=$(python3 "$REPO/scripts/memory_check.py" --binary "$BIN" --dir "$WORK") ||
    SHAPES_STATUS=$?
fi

# --- DNS: nsd on loopback, the tool, dnsperf, and the same through a 20 ms delay -------------
NSD_PID=
PROXY_PID=
stop_daemons() {
  if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  if [ -n "$NSD_PID" ]; then kill "$NSD_PID" 2>/dev/null || true; wait "$NSD_PID" 2>/dev/null || true; fi
  PROXY_PID=''; NSD_PID=''
}
trap stop_daemons EXIT

start_nsd() { # [ZONEDIR] (default: the main world's)
  local run=$WORK/nsd zdir
  zdir=$(cd "${1:-$W/zones}" && pwd)
  mkdir -p "$run"
  {
    printf 'server:\n  ip-address: 127.0.0.1@%s\n  port: %s\n  username: ""\n  chroot: ""\n' "$DNS_PORT" "$DNS_PORT"
    printf '  zonesdir: "%s"\n  pidfile: "%s/nsd.pid"\n  logfile: "%s/nsd.log"\n' "$zdir" "$run" "$run"
    printf '  xfrdfile: "%s/xfrd.state"\n  zonelistfile: "%s/zone.list"\n  xfrdir: "%s"\n' "$run" "$run" "$run"
    printf '  database: ""\n  server-count: 1\n  verbosity: 1\n  hide-version: yes\n  refuse-any: yes\n'
    printf '  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n'
    printf 'remote-control:\n  control-enable: yes\n  control-interface: "%s/ctl.sock"\n' "$run"
    while read -r origin file; do
      printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$origin" "$file"
    done < "$zdir/zones.txt"
  } > "$run/nsd.conf"
  nsd-checkconf "$run/nsd.conf"
  nsd -d -c "$run/nsd.conf" >"$run/nsd.out" 2>&1 &
  NSD_PID=$!
  python3 "$TOOLS" wait-dns "$DNS_PORT" 60 || { cat "$run/nsd.out" "$run/nsd.log" >&2; exit 1; }
  NSD_CONF=$run/nsd.conf
}
# Questions nsd answered since the last call (stats resets the counters).
nsd_questions() {
  nsd-control -c "$NSD_CONF" stats | awk -F= '$1 == "num.queries" { print $2 }'
}
# dnsperf KEY PORT OUTSTANDING: one pass of every MAIL-FROM question, looped for 5 seconds.
dnsperf_run() {
  local key=$1 port=$2 outstanding=$3 completed runtime
  dnsperf -s 127.0.0.1 -p "$port" -d "$W/zones/queries.txt" -l 5 -q "$outstanding" -c 4 \
    > "$WORK/dnsperf.out" 2>&1
  completed=$(awk '/Queries completed:/ { print $3 }' "$WORK/dnsperf.out")
  runtime=$(awk '/Run time \(s\):/ { print $4 }' "$WORK/dnsperf.out")
  printf '%s\t%s\t0\t0\t%s\n' "$key" "$runtime" "$completed" >> "$RESULTS"
  log "$key: $(grep 'Queries per second' "$WORK/dnsperf.out")"
}
# The delaying proxy is examples/dnsdelay.rs: the Python one in bench_tools.py tops out near
# 12,000 answers/s here, a quarter of what --concurrency 1024 at 20 ms asks for.
start_proxy() {
  rm -f "$WORK/proxy.stats"
  "$PROXY" "$PROXY_PORT" "$DNS_PORT" 20 "$WORK/proxy.stats" &
  PROXY_PID=$!
  python3 "$TOOLS" wait-dns "$PROXY_PORT" 10
}
# Stops the proxy and sets PROXY_QUESTIONS to what it forwarded (the probe included); its
# stats file is rewritten every 50 ms, so it is given 0.2 s to catch up first.
stop_proxy() {
  sleep 0.2
  kill "$PROXY_PID"; wait "$PROXY_PID" || true; PROXY_PID=''
  PROXY_QUESTIONS=$(awk '$1 == "questions" { print $2 }' "$WORK/proxy.stats")
}
# The measured run's own questions (rows: KEY WALL CPU RSS QUESTIONS), replacing WORK=0.
set_questions() { sed -i "\$s/\t0\$/\t$1/" "$RESULTS"; }

if wanted dns; then
  python3 "$TOOLS" pairs "$W/zones/queries.txt" "$WORK/domains.csv"
  start_nsd
  dnsperf_run "dns dnsperf (nsd ceiling)" "$DNS_PORT" 200
  for run in $(seq "$RUNS"); do
    nsd_questions >/dev/null
    measure "dns audit" 0 "$BIN" audit "$WORK/domains.csv" --nameserver "127.0.0.1:$DNS_PORT" \
      -q -o "$WORK/audit.csv"
    set_questions "$(nsd_questions)"
  done
  for conc in 64 256 1024; do
    start_proxy
    dnsperf_run "dns dnsperf delayed c$conc" "$PROXY_PORT" "$conc"
    stop_proxy
    for run in $(seq "$RUNS"); do
      start_proxy
      measure "dns audit delayed c$conc" 0 "$BIN" audit "$WORK/domains.csv" \
        --nameserver "127.0.0.1:$PROXY_PORT" --concurrency "$conc" -q -o "$WORK/audit-delayed.csv"
      stop_proxy
      set_questions "$PROXY_QUESTIONS"
    done
  done
  stop_daemons
fi

# --- SPF: the same audits with and without SPF, over nsd serving the SPF world -------------
# "spf mail": the audit of the world's mbox and postfix log (the target: SPF at most 1.5x);
# "spf every domain": one pair per domain with an address no record lists, so each of the
# 20,000 evaluations walks its whole SPF record too (the worst case: SPF's TXT question alone
# is one more question per domain, and the run prints both question counts).
if wanted spf; then
  WSPF=$(world_spf "$SIZE")
  python3 "$TOOLS" pairs "$WSPF/zones/queries.txt" "$WORK/spf-domains.csv"
  start_nsd "$WSPF/zones"
  MAIL=("$WSPF/mail.mbox" "$WSPF/maillog" "${perimeter[@]}")
  for run in $(seq "$RUNS"); do
    for spf in "" "--no-spf"; do
      nsd_questions >/dev/null
      measure "spf mail audit${spf:+ $spf}" 0 "$BIN" audit "${MAIL[@]}" $spf \
        --nameserver "127.0.0.1:$DNS_PORT" -q -o "$WORK/spf-mail${spf:+-off}.csv"
      set_questions "$(nsd_questions)"
      nsd_questions >/dev/null
      measure "spf every domain${spf:+ $spf}" 0 "$BIN" audit "$WORK/spf-domains.csv" $spf \
        --nameserver "127.0.0.1:$DNS_PORT" -q -o "$WORK/spf-audit${spf:+-off}.csv"
      set_questions "$(nsd_questions)"
    done
  done
  # One query per (name, type) per run: an untimed run that keeps its answers (all of this
  # world's are definite) says how many distinct questions there were; nsd says how many
  # it answered (a truncated UDP answer asked again over TCP counts twice there).
  rm -f "$WORK/spf.cache"
  nsd_questions >/dev/null
  "$BIN" audit "$WORK/spf-domains.csv" --nameserver "127.0.0.1:$DNS_PORT" -q \
    -o "$WORK/spf-audit.csv" --cache "$WORK/spf.cache"
  log "spf every domain: $(nsd_questions) questions at nsd for $(awk '$1 == "end" { print $2 }' \
    "$WORK/spf.cache") distinct (name, type) questions"
  python3 - "$WORK/spf-audit.csv" "$WORK/spf-mail.csv" <<'PY' >&2
import csv, sys
for what, path in (("every domain", sys.argv[1]), ("mail", sys.argv[2])):
    counts = {}
    for r in csv.DictReader(open(path)):
        counts[r["spf"]] = counts.get(r["spf"], 0) + 1
    print(f"bench: spf results, {what} (pairs):", ", ".join(f"{k or '(empty)'} {v}" for k, v in sorted(counts.items())))
PY
  stop_daemons
fi

# --- profile: instructions per DNS question, counted by callgrind ------------------------
# Wall and CPU times on a shared 2-core machine also measure the neighbours; instructions do
# not. The audit of the first PROFILE_DOMAINS domains of the SPF world (one pair each, as
# "spf every domain"), with and without SPF, over nsd; user-space instructions only (the
# kernel's share of send and recv is not counted). The functions listed are the crate's
# largest by inclusive count: where a question's instructions go.
PROFILE_TABLE=
if wanted profile; then
  WSPF=$(world_spf "$SIZE")
  python3 "$TOOLS" pairs "$WSPF/zones/queries.txt" "$WORK/spf-domains.csv"
  head -n "$((${PROFILE_DOMAINS:-5000} + 1))" "$WORK/spf-domains.csv" > "$WORK/profile-domains.csv"
  start_nsd "$WSPF/zones"
  for spf in "" "--no-spf"; do
    out=$WORK/callgrind${spf:+-off}.out
    nsd_questions >/dev/null
    log "callgrind: audit of ${PROFILE_DOMAINS:-5000} domains${spf:+ $spf}"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" audit \
      "$WORK/profile-domains.csv" $spf --nameserver "127.0.0.1:$DNS_PORT" -q \
      -o "$WORK/profile-audit.csv" 2>"$WORK/callgrind.err" ||
      { cat "$WORK/callgrind.err" >&2; exit 1; }
    questions=$(nsd_questions)
    total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    PROFILE_TABLE+="$(awk -v what="audit${spf:+ $spf}" -v n="$total" -v q="$questions" 'BEGIN {
      printf "%-16s %6.1f M instructions, %6d questions at nsd, %6.1f k per question", what, n / 1e6, q, n / q / 1e3 }')"$'\n'
    eval "PROFILE_TOTAL${spf:+_OFF}=$total"
    if [ -z "$spf" ]; then
      PROFILE_TOP=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
        awk '/:repudiate::(dns|policy)/ { match($0, /[0-9.]+%/); pct=substr($0, RSTART, RLENGTH); name=$0; sub(/^.*:repudiate::/, "", name);
               sub(/ \[.*$/, "", name); sub(/::\{\{closure\}\}.*$/, "", name);
               if (!seen[name]++ && n++ < 14) printf "  %7s %s\n", pct, name }' || true)
    fi
  done
  PROFILE_TABLE+="$(printf 'SPF / --no-spf instructions: %.2fx' "$(awk "BEGIN{print $PROFILE_TOTAL/$PROFILE_TOTAL_OFF}")")"$'\n'
  PROFILE_TABLE+="largest parts of the audit with SPF (inclusive share of its instructions):"$'\n'"$PROFILE_TOP"
  stop_daemons
fi

# --- one evaluation per domain (issue 16.2): the audit of the world's log over nsd ----------
if wanted domeval; then
  log "evaluation per domain (scripts/bench-domeval.sh)"
  DOMEVAL_TABLE=$(BENCH_DIR=$BENCH_DIR BENCH_DNS_PORT=$DNS_PORT REPUDIATE=$BIN \
    "$REPO/scripts/bench-domeval.sh" --world "$W" --size "$SIZE" --runs "$RUNS")
fi

# --- the report, on standard output and as the docs' figure -------------------------------
bench_stamp
REPORT=
[ -s "$RESULTS" ] && REPORT=$(python3 "$TOOLS" report "$RESULTS")
echo
if wanted profile; then
  REPORT="$REPORT

instructions per DNS question (callgrind, audit of ${PROFILE_DOMAINS:-5000} domains of the SPF world):
$PROFILE_TABLE"
fi
if wanted shapes; then
  REPORT="$REPORT

peak RSS of scan per input shape (limit 200 MB, docs/memory.md):
$SHAPES_TABLE"
fi
if wanted merge; then
  REPORT="${REPORT:+$REPORT

}$MERGE_TABLE"
fi
if wanted domeval; then
  REPORT="${REPORT:+$REPORT

}$DOMEVAL_TABLE"
fi
echo "repudiate bench: $WHEN, $(nproc) cores, workloads $SIZE (memory also $SMALL), $RUNS runs ($SLOW_RUNS for slow baselines)"
echo "load average at the end: $LOAD"
echo "$REPORT"
if [ "$FIGURE" != none ]; then
  bench_figure "$FIGURE" "$COMMAND" "gen.py --seed 1, $SIZE (memory also $SMALL), in $BENCH_DIR; $RUNS runs of each fast measurement, $SLOW_RUNS of the slow baselines; measured: $ONLY" "$REPORT"
fi
if wanted shapes; then
  [ "$SHAPES_STATUS" -eq 0 ] || { echo "memory per input shape: FAIL" >&2; exit 1; }
fi

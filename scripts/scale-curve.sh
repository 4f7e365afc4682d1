#!/usr/bin/env bash
# The scale model's measured curve (docs/scale.md): what the built binary costs per GB scanned
# (postfix log and mbox, gen.py --seed 1), per million pair rows merged and per pairs file
# merged (synthetic pairs files, seeded), and per domain audited against a local nsd (gen.py
# worlds of several sizes). Each series is measured at several sizes; the report gives each
# point and the least-squares line through them (a fixed cost plus a cost per unit), and
# writes the same report with the date, machine, commit and this command line to
# docs/figures/scale.md, the only place docs/scale.md takes figures from. Not part of
# .ci/run: wall times depend on the machine and its load. It measures whatever the binary
# does: rerun it after a change to scan, the merge or the DNS client, and commit the figure.
#
# usage: scripts/scale-curve.sh [--runs N] [--only LIST] [--figure FILE|none]
#   --runs N       runs of each point; the median is kept (default 3)
#   --only LIST    comma list of: scan,merge,dns (default: all; a partial run writes
#                  docs/figures/scale-LIST.md, never the full figure)
# environment: BENCH_DIR (workloads, default target/bench-cache), SCALE_DNS_PORT (nsd takes
#   the first free port from there; 5395), REPUDIATE (a built binary to use instead of
#   building), SCAN_SIZES ("64M 256M 512M"), MERGE_ROWS ("1000000 2000000 4000000" rows in 64
#   files), MERGE_FILES ("8 64 256 1024" files of 1,000,000 rows in all: at least 5 rows per
#   distinct pair, so the merged output is nearly the same 200,000 pairs whatever the split),
#   DNS_DOMAINS ("2000 20000")
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=scale-curve
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
bench_dir "$REPO/target/bench-cache"
DNS_PORT=${SCALE_DNS_PORT:-5395}
SCAN_SIZES=${SCAN_SIZES:-64M 256M 512M}
MERGE_ROWS=${MERGE_ROWS:-1000000 2000000 4000000}
MERGE_FILES=${MERGE_FILES:-8 64 256 1024}
DNS_DOMAINS=${DNS_DOMAINS:-2000 20000}
RUNS=3
ALL=scan,merge,dns
ONLY=$ALL
FIGURE=
COMMAND="scripts/scale-curve.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --figure) FIGURE=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "scale-curve: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
if [ -z "$FIGURE" ]; then
  if [ "$ONLY" = "$ALL" ]; then FIGURE=$REPO/docs/figures/scale.md
  else FIGURE=$REPO/docs/figures/scale-${ONLY//,/-}.md; fi
fi
wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

bench_need /usr/bin/time:time
bench_need_gen
bench_binary
bench_commit

WORK=$BENCH_DIR/scale-run
mkdir -p "$WORK"
RESULTS=$WORK/results.tsv
: > "$RESULTS"

# measure SERIES X OUTPUT CMD...: RUNS runs under /usr/bin/time; one row per run (series, x,
# wall s, CPU s, peak RSS KB, rows of the CSV the command wrote to OUTPUT).
measure() {
  local series=$1 x=$2 output=$3 run wall user sys rss rows
  shift 3
  for run in $(seq "$RUNS"); do
    rm -f "$output"
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$@" >"$WORK/last.out" 2>"$WORK/last.err" ||
      { log "$series $x failed:"; cat "$WORK/last.err" >&2; exit 1; }
    read -r wall user sys rss < <(tail -n 1 "$WORK/time.out")
    rows=$(($(wc -l < "$output") - 1))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$series" "$x" "$wall" "$(awk "BEGIN{print $user+$sys}")" "$rss" "$rows" >> "$RESULTS"
    log "$(printf '%-14s %-10s %7.2f s  %6.1f MB' "$series" "$x" "$wall" "$(awk "BEGIN{print $rss/1024}")")"
  done
}

# --- scan: seconds per GB of postfix log and of mbox ------------------------------------------
world() { # SIZE -> folder with mail.mbox, maillog, perimeter.txt (gen.py --seed 1)
  bench_world "$BENCH_DIR/scale-world-$1" --seed 1 --mbox-bytes "$1" --postfix-bytes "$1" \
    --what mbox,postfix
  echo "$BENCH_DIR/scale-world-$1"
}
if wanted scan; then
  for size in $SCAN_SIZES; do
    W=$(world "$size")
    perimeter=()
    while read -r line; do
      case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
    done < "$W/perimeter.txt"
    cat "$W/maillog" "$W/mail.mbox" >/dev/null   # from the page cache, like the bench
    for input in log:maillog mbox:mail.mbox; do
      gb=$(awk "BEGIN{printf \"%.4f\", $(stat -c %s "$W/${input#*:}") / 1e9}")
      measure "scan ${input%%:*}" "$gb" "$WORK/scan.csv" "$BIN" scan -q "${perimeter[@]}" "$W/${input#*:}" -o "$WORK/scan.csv"
    done
  done
fi

# --- merge: seconds per million rows and per file ---------------------------------------------
# pairs_files DIR FILES ROWS: FILES pairs files of ROWS/FILES distinct pairs each, drawn from
# 200,000 pairs (seeded), so the merged output is the same size whatever the split.
pairs_files() {
  local dir=$1 files=$2 rows=$3
  if [ ! -f "$dir/.complete" ]; then
    log "writing $files pairs files, $rows rows in all, in $dir"
    rm -rf "$dir"; mkdir -p "$dir"
    python3 - "$dir" "$files" "$rows" <<'PY'
import random, sys
out, files, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
universe = 200_000
rng = random.Random(f"scale-curve {files} {rows}")
domains = [f"d{i}.example" for i in range(universe // 4)]
pairs = [(domains[i % len(domains)], f"198.{18 + (i >> 16) % 2}.{(i >> 8) & 255}.{i & 255}")
         for i in range(universe)]
per_file = rows // files
assert per_file <= universe, "a pairs file holds each pair once"
for f in range(files):
    with open(f"{out}/host{f:04d}.csv", "w") as o:
        o.write("domain,ip,messages\n")
        for i in rng.sample(range(universe), per_file):
            d, ip = pairs[i]
            o.write(f"{d},{ip},{rng.randint(1, 50)}\n")
PY
    touch "$dir/.complete"
  fi
}
merge() { # SERIES X DIR: the merge a site's audit host runs, without DNS
  measure "$1" "$2" "$WORK/merged.csv" "$BIN" scan -q --format pairs "$3"/host*.csv -o "$WORK/merged.csv"
}
if wanted merge; then
  for rows in $MERGE_ROWS; do
    dir=$BENCH_DIR/scale-pairs-64x$rows
    pairs_files "$dir" 64 "$rows"
    merge "merge rows" "$(awk "BEGIN{print $rows / 1e6}")" "$dir"
  done
  for files in $MERGE_FILES; do
    dir=$BENCH_DIR/scale-pairs-${files}x1000000
    pairs_files "$dir" "$files" 1000000
    merge "merge files" "$files" "$dir"
  done
fi

# --- DNS: seconds per domain audited against nsd on loopback ----------------------------------
NSD_TAG=scale-curve
# shellcheck source=lib/nsd.sh
. "$REPO/scripts/lib/nsd.sh"
trap nsd_stop EXIT
if wanted dns; then
  nsd_need_tools
  DNS_PORT=$(nsd_free_port "$DNS_PORT" $((DNS_PORT + 100)))
  for domains in $DNS_DOMAINS; do
    dir=$BENCH_DIR/scale-zones-$domains
    bench_world "$dir" --seed 1 --domains "$domains" --ips $((domains * 3)) --what zone
    # One pair per domain with an address no policy lists: each evaluation walks its whole
    # delegation tree, the most DNS work a domain can cost.
    python3 "$TOOLS" pairs "$dir/zones/queries.txt" "$WORK/domains.csv" 2>/dev/null
    n=$(($(wc -l < "$WORK/domains.csv") - 1))
    nsd_start "$domains domains" "$dir/zones" "$WORK/nsd" "$DNS_PORT" >/dev/null
    measure "dns audit" "$n" "$WORK/audit.csv" "$BIN" audit "$WORK/domains.csv" --nameserver "127.0.0.1:$DNS_PORT" \
      --max-tempfail 100 -q -o "$WORK/audit.csv"
    nsd_stop
  done
fi

# --- the report ----------------------------------------------------------------------------------
REPORT=$(python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    series, x, wall, cpu, rss, out = line.rstrip("\n").split("\t")
    rows.setdefault(series, {}).setdefault(float(x), []).append(
        (float(wall), float(cpu), int(rss), int(out)))
SERIES = {  # series: (what x counts, the unit of the slope, factor from seconds per x)
    "scan log": ("GB of postfix log", "s per GB", 1),
    "scan mbox": ("GB of mbox", "s per GB", 1),
    "merge rows": ("million pair rows, in 64 files", "s per million rows", 1),
    "merge files": ("pairs files holding 1 million rows in all", "ms per file", 1e3),
    "dns audit": ("domains, one pair each, nsd on loopback", "ms per domain", 1e3),
}
def fit(points):
    """Least squares: y = fixed + slope * x."""
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - slope * mx, slope
out, lines, cpu_lines, points = [], {}, {}, {}
for series, (xname, unit, factor) in SERIES.items():
    if series not in rows:
        continue
    runs = len(next(iter(rows[series].values())))
    out.append(f"{series}: x = {xname} (median of {runs} runs)")
    out.append(f"  {'x':>10} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'rows out':>9}")
    walls, cpus = [], []
    for x in sorted(rows[series]):
        r = rows[series][x]
        wall = statistics.median(v[0] for v in r)
        cpu = statistics.median(v[1] for v in r)
        rss = max(v[2] for v in r) / 1024
        walls.append((x, wall)); cpus.append((x, cpu))
        points[series, x] = (wall, r[0][3])
        out.append(f"  {x:>10g} {wall:>8.2f} {cpu:>8.2f} {rss:>8.1f} {r[0][3]:>9}")
    if len(walls) > 1:
        (fw, sw), (fc, sc) = fit(walls), fit(cpus)
        lines[series] = (fw, sw)
        cpu_lines[series] = (fc, sc)
        out.append(f"  line through the points: wall {fw:.2f} s + {sw * factor:.3f} {unit};"
                   f" CPU {fc:.2f} s + {sc * factor:.3f} {unit}")
    out.append("")
# The model of docs/scale.md, from the lines above: H hosts each scanning 1 GB of postfix log
# (in parallel, so the site waits for one), shipping its pairs file, one merge of them all.
# It uses the CPU lines: on a shared machine the wall time says more about the neighbours
# than about the tool, and scan and merge wait for nothing but the CPU and the page cache.
if {"scan log", "merge rows", "merge files"} <= cpu_lines.keys():
    big = max(x for s, x in points if s == "scan log")
    pairs_per_gb = points["scan log", big][1] / big
    scan = cpu_lines["scan log"][0] + cpu_lines["scan log"][1]
    out.append("model (arithmetic on the CPU lines above, not a measurement): H hosts each scan")
    out.append(f"1 GB of postfix log ({pairs_per_gb:,.0f} pair rows per GB, from the largest scan")
    out.append("above), ship the pairs files, and one host merges them")
    out.append(f"  {'hosts':>6} {'scan CPU s':>11} {'rows merged':>12} {'merge CPU s':>12}")
    for hosts in (1, 100, 1000):
        mrows = hosts * pairs_per_gb / 1e6
        merge = (cpu_lines["merge rows"][0] + cpu_lines["merge rows"][1] * mrows
                 + cpu_lines["merge files"][1] * hosts)
        out.append(f"  {hosts:>6} {scan:>11.2f} {mrows * 1e6:>12,.0f} {merge:>12.1f}")
    if "dns audit" in lines:
        top = max(x for s, x in points if s == "dns audit")
        out.append("  plus the DNS of the audit, once per distinct domain whatever the number of hosts:")
        out.append(f"  {points['dns audit', top][0]:.2f} s wall measured for {top:,.0f} domains")
print("\n".join(out).rstrip())
PY
)
bench_stamp
echo "repudiate scale curve: $WHEN, $(nproc) cores, $RUNS runs per point, load average at the end $LOAD"
echo "$REPORT"
if [ "$FIGURE" != none ]; then
  bench_figure "$FIGURE" "$COMMAND" "scan: gen.py --seed 1 mbox and postfix log of $SCAN_SIZES; merge: seeded pairs files from 200,000 distinct pairs, $MERGE_ROWS rows in 64 files and 1,000,000 rows in $MERGE_FILES files; dns: gen.py --seed 1 worlds of $DNS_DOMAINS domains served by nsd on 127.0.0.1, one pair per domain; in $BENCH_DIR; measured: $ONLY" "$REPORT"
fi

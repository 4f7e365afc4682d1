#!/usr/bin/env bash
# Runs repudiate on a world from ../shared/bench/gen.py (mbox + postfix log + zone files, offline,
# with the world's perimeter) and compares pairs, message counts and verdicts with gen.py's truth
# files. Prints the agreement and the known, deliberate differences; fails on any difference
# it cannot explain.
#
# The same figures are a Markdown table, the one docs/checks.md quotes:
# docs/figures/world-check.md. `--markdown` writes that file; without it (as .ci/run runs the
# script) the committed file must equal what this run prints, below its first line (which says
# who wrote it and when): the world is generated from a fixed seed, so any difference is a
# change of behaviour to read and commit (rerun with --markdown).
# usage: scripts/world-check.sh [--markdown] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=check
if [ "${1:-}" = --markdown ]; then MODE=write; shift; fi
FIGURE=docs/figures/world-check.md
GEN=${REPUDIATE_SHARED:-../shared}/bench/gen.py
[ -f "$GEN" ] || { echo "world-check: $GEN not found" >&2; exit 1; }
WORK=${1:-target/world-check}
BIN=${REPUDIATE:-target/release/repudiate}
[ -x "$BIN" ] || cargo build --release --locked --quiet
mkdir -p "$WORK"
if [ ! -f "$WORK/world/truth/summary.json" ]; then
  python3 "$GEN" -o "$WORK/world" --seed 1 --domains 3000 --ips 8000 -M 3000 --log-messages 3000 \
    --what mbox,postfix,zone >/dev/null
fi
W=$WORK/world
perimeter=()
while read -r line; do
  case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
done < "$W/perimeter.txt"
zones=(--zone "$W/zones/test.zone" --zone "$W/zones/example.zone")
for artifact in mbox:mail.mbox postfix:maillog; do
  name=${artifact%%:*}; file=${artifact#*:}
  "$BIN" audit "$W/$file" "${zones[@]}" --offline "${perimeter[@]}" -q -o "$WORK/$name-audit.csv"
done
python3 - "$W" "$WORK" "$MODE" "$FIGURE" <<'PY'
import csv, ipaddress, os, sys
world, work, mode, figure = sys.argv[1:5]
summary, differences = [], []   # rows of the Markdown figure
perimeter = [ipaddress.ip_network(l.strip()) for l in open(f"{world}/perimeter.txt")
             if l.strip() and not l.startswith("#")]
def in_perimeter(ip):
    return any(ipaddress.ip_address(ip) in n for n in perimeter)
failed = False
for name in ("mbox", "postfix"):
    truth = {(r["domain"], r["ip"]): r for r in csv.DictReader(open(f"{world}/truth/{name}-pairs.csv"))}
    ours = {(r["domain"], r["ip"]): r for r in csv.DictReader(open(f"{work}/{name}-audit.csv"))}
    total = sum(int(r["messages"]) for r in truth.values())
    agree = 0
    groups = {}
    for key, t in truth.items():
        n, o = int(t["messages"]), ours.get(key)
        if o is not None and int(o["messages"]) == n and o["verdict"] == t["verdict"]:
            agree += n
            continue
        if o is None and name == "postfix" and in_perimeter(key[1]):
            why = "explained: perimeter client, internal in logs (docs/design.md §3); gen.py counts it"
        elif o is not None and o["verdict"] == "tempfail" and ": offline" in o["reason"]:
            why = "explained: policy target not in the zones, offline gives tempfail (docs/design.md §4)"
        else:
            why = f"UNEXPLAINED: truth {t['verdict']}/{n}, ours {o and o['verdict']}/{o and o['messages']}"
        groups.setdefault(why, []).append((key, n))
    extra = [k for k in ours if k not in truth and ours[k]["verdict"] not in ("null-sender", "unknown")]
    if extra:
        groups.setdefault("UNEXPLAINED: pairs only in our output", []).extend((k, 0) for k in extra)
    explained = sum(n for why, ks in groups.items() if why.startswith("explained") for _, n in ks)
    print(f"world-check {name}: {total} truth messages in {len(truth)} pairs: {agree} agree exactly "
          f"({100.0*agree/total:.2f}%), {explained} differ for documented reasons, "
          f"{100.0*agree/max(total-explained,1):.2f}% of the comparable ones agree")
    summary.append(f"| {name} | {total:,} | {len(truth):,} | {agree:,} ({100.0*agree/total:.2f} %) "
                   f"| {explained:,} | {100.0*agree/max(total-explained,1):.2f} % |")
    for why, ks in sorted(groups.items()):
        print(f"  {len(ks):5d} pairs, {sum(n for _, n in ks):5d} messages  {why}  e.g. {ks[0][0]}")
        failed |= why.startswith("UNEXPLAINED")
        differences.append(f"| {name} | {len(ks):,} | {sum(n for _, n in ks):,} | {why} "
                           f"| `{ks[0][0][0]}` from `{ks[0][0][1]}` |")

body = "\n".join([
    "| input | truth messages | truth pairs | agree exactly | differ for documented reasons "
    "| agreement of the comparable ones |",
    "|---|---:|---:|---:|---:|---:|", *summary, "",
    "| input | pairs | messages | why they differ | e.g. |", "|---|---:|---:|---|---|",
    *(differences or ["| – | 0 | 0 | no differences | |"])]) + "\n"
sys.path.insert(0, "scripts")
from figures import write_or_check
if not write_or_check(figure, body, "scripts/world-check.sh", mode == "write"):
    failed = True
sys.exit(1 if failed else 0)
PY

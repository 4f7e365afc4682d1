#!/usr/bin/env bash
# SPF against the reference implementation: a gen.py world made with --spf (SPF records of
# every shape the generator knows: include chains, redirect, exists with macros, ptr, mx,
# records split into strings, syntax errors, several records, void lookups), pyspf's result
# for every pair computed offline from the zone files (../shared/bench/spf_truth.py), and
# the `spf` column of `repudiate audit` over Debian's nsd serving the same zones on a
# loopback port. Every pair of the audit with an SPF result must agree: 100 %.
#
# Prints the agreement per artifact, the results by kind, and any pair that differs.
# Prerequisites are installed here (nsd and dig from Debian, pyspf and dnspython from PyPI
# into a virtualenv under WORKDIR) or are an error, never a skip.
# usage: scripts/spf-world-check.sh [WORKDIR]   (WORKDIR caches the world and the venv)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-target/spf-world-check}
BIN=${REPUDIATE:-target/release/repudiate}
SHARED=${REPUDIATE_SHARED:-../shared}
GEN=$SHARED/bench/gen.py
TRUTH=$SHARED/bench/spf_truth.py

for need in "$GEN" "$TRUTH"; do
  [ -f "$need" ] || { echo "spf-world-check: missing prerequisite $need" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "spf-world-check: python3 is required" >&2; exit 1; }
NSD_TAG=spf-world-check
. scripts/lib/nsd.sh
nsd_need_tools
[ -x "$BIN" ] || cargo build --release --locked --quiet
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# pyspf as spf_truth.py's usage says, in a virtualenv of our own.
VENV=$WORK/venv
if ! "$VENV/bin/python" -c 'import spf, dns.zone' 2>/dev/null; then
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "spf-world-check: python3 -m venv fails and I am not root to install python3-venv" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"; python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q pyspf==2.0.14 dnspython
fi

W=$WORK/world
if [ ! -f "$W/truth/spf-pairs.csv" ]; then
  rm -rf "$W"
  python3 "$GEN" -o "$W" --seed 1 --domains 3000 --ips 8000 -M 2000 --log-messages 2000 \
    --spf --what mbox,postfix,zone >/dev/null
  "$VENV/bin/python" "$TRUTH" "$W"
fi

RUN=$(mktemp -d -t spf-world.XXXXXX)
cleanup() { nsd_stop; rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

PORT=$(nsd_free_port 53600 53699)
nsd_start world "$W/zones" "$RUN" "$PORT"

perimeter=()
while read -r line; do
  case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
done < "$W/perimeter.txt"
for artifact in mbox:mail.mbox postfix:maillog; do
  name=${artifact%%:*}; file=${artifact#*:}
  "$BIN" audit "$W/$file" --nameserver "127.0.0.1:$PORT" --timeout 2 --attempts 3 \
    "${perimeter[@]}" -q -o "$WORK/$name-audit.csv"
done

python3 - "$W" "$WORK" <<'PY'
import csv, sys
world, work = sys.argv[1], sys.argv[2]
truth = {(r["domain"], r["ip"]): r["spf"] for r in csv.DictReader(open(f"{world}/truth/spf-pairs.csv"))}
failed = False
for name in ("mbox", "postfix"):
    ours = list(csv.DictReader(open(f"{work}/{name}-audit.csv")))
    with_spf = [r for r in ours if r["spf"]]
    without = [r for r in ours if not r["spf"] and r["verdict"] not in ("null-sender", "unknown")]
    differ, unknown, by_result = [], [], {}
    for r in with_spf:
        key = (r["domain"], r["ip"])
        if key not in truth:
            unknown.append(key)
            continue
        by_result[truth[key]] = by_result.get(truth[key], 0) + 1
        if r["spf"] != truth[key]:
            differ.append((key, truth[key], r["spf"], r["reason"]))
    agree = len(with_spf) - len(differ) - len(unknown)
    print(f"spf-world-check {name}: {len(with_spf)} pairs with an SPF result, {agree} agree with pyspf "
          f"({100.0 * agree / max(len(with_spf), 1):.2f}%); by pyspf's result: "
          + ", ".join(f"{k} {v}" for k, v in sorted(by_result.items())))
    for key, want, got, reason in differ[:20]:
        print(f"  DIFFERS {key[0]} {key[1]}: pyspf {want}, repudiate {got} ({reason})")
    for key in unknown[:20]:
        print(f"  NOT IN THE TRUTH {key[0]} {key[1]}")
    for r in without[:20]:
        print(f"  NO SPF RESULT {r['domain']} {r['ip']} ({r['verdict']})")
    if differ or unknown or without or not with_spf:
        failed = True
sys.exit(1 if failed else 0)
PY

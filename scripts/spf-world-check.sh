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
if ! command -v nsd >/dev/null || ! command -v dig >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "spf-world-check: nsd and dig are missing and I am not root to install them" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq nsd dnsutils python3-venv >/dev/null
fi
command -v nsd >/dev/null && command -v dig >/dev/null ||
  { echo "spf-world-check: nsd or dig still missing" >&2; exit 1; }
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
NSD_PID=""
cleanup() {
  if [ -n "$NSD_PID" ]; then kill "$NSD_PID" 2>/dev/null || true; wait "$NSD_PID" 2>/dev/null || true; fi
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PORT=$(python3 - <<'PY'
import socket, sys
for port in range(53600, 53700):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
             socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            u.bind(("127.0.0.1", port)); t.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port); sys.exit(0)
sys.exit("no free port in 127.0.0.1:53600-53699")
PY
)
ZDIR=$W/zones
{
  printf 'server:\n  ip-address: 127.0.0.1@%s\n  port: %s\n  username: ""\n  chroot: ""\n' "$PORT" "$PORT"
  printf '  zonesdir: "%s"\n  pidfile: "%s/nsd.pid"\n  logfile: "%s/nsd.log"\n' "$ZDIR" "$RUN" "$RUN"
  printf '  xfrdfile: "%s/xfrd.state"\n  zonelistfile: "%s/zone.list"\n  xfrdir: "%s"\n' "$RUN" "$RUN" "$RUN"
  # rrl off: nsd's default of 200 answers/s per /24 would drop or truncate bulk answers.
  printf '  server-count: 1\n  verbosity: 1\n  hide-version: yes\n  refuse-any: yes\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n'
  printf 'remote-control:\n  control-enable: no\n'
  while read -r origin file; do
    printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$origin" "$file"
  done < "$ZDIR/zones.txt"
} > "$RUN/nsd.conf"
nsd-checkconf "$RUN/nsd.conf"
nsd -d -c "$RUN/nsd.conf" >"$RUN/nsd.out" 2>&1 &
NSD_PID=$!
first=$(awk 'NR==1 {print $1}' "$ZDIR/zones.txt")
for _ in $(seq 100); do
  kill -0 "$NSD_PID" 2>/dev/null || { cat "$RUN/nsd.out" "$RUN/nsd.log" >&2 2>/dev/null || true; echo "spf-world-check: nsd exited at start" >&2; exit 1; }
  [ "$(dig -p "$PORT" @127.0.0.1 +short +time=1 +tries=1 "$first" SOA 2>/dev/null)" != "" ] && break
  sleep 0.2
done
echo "nsd pid $NSD_PID on 127.0.0.1:$PORT"

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

#!/usr/bin/env bash
# Interop with an independent DNS server: Debian's nsd (not this project's code, not
# hickory) serves zone fixtures on a loopback port, and `repudiate audit --nameserver` (and
# `check`, pair by pair) must
# reach the verdicts written down beside the zones.
#
#  1. fixtures/dns/interop/: delegation chains, loops, null MX, CNAMEs, an IPv6-only relay,
#     RRsets over 512 and over 1232 bytes, NXDOMAIN versus NODATA, REFUSED for a zone nsd
#     does not serve. `dig` first proves the fixture means what it says (sizes, rcodes),
#     then the audit's CSV must equal expected.csv byte for byte.
#  2. The gen.py world (20,000 domains, seed 1) served by nsd: the mbox and postfix audits
#     must agree with gen.py's truth, and one pair per domain (plus a foreign client per
#     policy) must give the truth's verdict for every domain; the time of that run is
#     printed (the perf issue sets targets; nothing is asserted about it).
#
# Our own nsd: own config, pid, log and zones under a mktemp directory, rrl off, stopped by
# its PID on exit; the system service is never used. Missing prerequisites are installed
# (as root) or are an error.
# usage: scripts/nsd-interop.sh [WORKDIR]   (WORKDIR caches the generated world)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-target/nsd-interop}
BIN=${REPUDIATE:-target/release/repudiate}
GEN=${REPUDIATE_SHARED:-../shared}/bench/gen.py
FIX=fixtures/dns/interop

NSD_TAG=nsd-interop
. scripts/lib/nsd.sh
nsd_need_tools
[ -f "$GEN" ] || { echo "nsd-interop: missing prerequisite $GEN" >&2; exit 1; }
command -v python3 >/dev/null || { echo "nsd-interop: python3 is required" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release --locked --quiet

RUN=$(mktemp -d -t nsd-interop.XXXXXX)
cleanup() { nsd_stop; rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_nsd NAME ZONEDIR: nsd_start on a free port of a range nothing else here uses; sets PORT.
start_nsd() {
  PORT=$(nsd_free_port 53530 53599)
  nsd_start "$1" "$2" "$RUN/$1" "$PORT"
}

ask() { dig -p "$PORT" @127.0.0.1 +time=2 +tries=1 "$@"; }

# expect_dig WHAT PATTERN DIG-ARGS...: the dig output must match PATTERN (extended regex).
expect_dig() {
  local what=$1 pattern=$2 out; shift 2
  out=$(ask "$@")
  if ! grep -Eq "$pattern" <<<"$out"; then
    printf 'nsd-interop: %s: dig %s does not match /%s/:\n%s\n' "$what" "$*" "$pattern" "$out" >&2
    exit 1
  fi
}

msg_size() { ask +tcp "$@" | sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\).*/\1/p'; }

# ---------------------------------------------------------------------------------------
echo "== fixtures: $FIX served by nsd"
start_nsd fixtures "$FIX"
TC='^;; flags: [a-z ]*\btc\b'
NO_TC='^;; flags: (qr|aa|rd| )*;'
# The sizes that force EDNS, then TCP (nsd sets TC only when the answer RRset does not fit).
expect_dig "mid needs EDNS" "$TC" +noedns +ignore MAIL-FROM.mid.interop.test MX
expect_dig "mid fits EDNS 1232" "$NO_TC" +bufsize=1232 +ignore MAIL-FROM.mid.interop.test MX
expect_dig "huge needs TCP" "$TC" +bufsize=1232 +ignore MAIL-FROM.huge.interop.test MX
expect_dig "pool needs TCP" "$TC" +bufsize=1232 +ignore pool.interop.test A
expect_dig "huge over TCP" 'ANSWER: 40,' +tcp MAIL-FROM.huge.interop.test MX
expect_dig "pool over TCP" 'ANSWER: 100,' +tcp pool.interop.test A
echo "reply sizes over TCP: mid MX $(msg_size MAIL-FROM.mid.interop.test MX) B, huge MX $(msg_size MAIL-FROM.huge.interop.test MX) B, pool A $(msg_size pool.interop.test A) B"
# NXDOMAIN versus NODATA, and REFUSED outside the served zones.
expect_dig "absent is NXDOMAIN" 'status: NXDOMAIN' MAIL-FROM.absent.interop.test MX
expect_dig "txtonly is NODATA" 'status: NOERROR' MAIL-FROM.txtonly.interop.test MX
expect_dig "txtonly is NODATA" 'ANSWER: 0,' MAIL-FROM.txtonly.interop.test MX
expect_dig "ent is NODATA" 'status: NOERROR' MAIL-FROM.ent.interop.test MX
expect_dig "ent is NODATA" 'ANSWER: 0,' MAIL-FROM.ent.interop.test MX
expect_dig "elsewhere is REFUSED" 'status: REFUSED' MAIL-FROM.elsewhere.example MX
expect_dig "the cross-zone alias" 'CNAME[[:space:]]+relay\.other\.example\.' mail.xalias.interop.test A

"$BIN" audit "$FIX/pairs.csv" --nameserver "127.0.0.1:$PORT" --forwarder 198.51.100.250 \
  --timeout 2 --attempts 2 -q -o "$RUN/interop.csv"
if ! diff -u "$FIX/expected.csv" "$RUN/interop.csv"; then
  echo "nsd-interop: the audit against nsd differs from $FIX/expected.csv" >&2; exit 1
fi
echo "nsd-interop fixtures: $(($(wc -l < "$FIX/expected.csv") - 1)) pairs agree with expected.csv"

# `check` against the same server: for every pair its verdict, matched relay and reason must
# be the audit's (one explanation per verdict), and the explanation must show the questions
# really went to nsd, with the deciding rule and the lookup count.
python3 - "$BIN" "$PORT" "$FIX/expected.csv" "$RUN" <<'PY'
import csv, subprocess, sys
binary, port, expected, run = sys.argv[1:]
bad = 0
rows = list(csv.DictReader(open(expected)))
for row in rows:
    args = [binary, "check", row["domain"], row["ip"], "--nameserver", f"127.0.0.1:{port}",
            "--forwarder", "198.51.100.250", "--timeout", "2", "--attempts", "2"]
    out = subprocess.run(args + ["--format", "csv"], capture_output=True, text=True)
    steps = list(csv.DictReader(out.stdout.splitlines()))
    if out.returncode != 0 or not steps:
        print(f"check {row['domain']} {row['ip']}: exit {out.returncode}: {out.stderr.strip()}"); bad += 1; continue
    first = steps[0]
    for col in ("verdict", "matched", "reason"):
        if first[col] != row[col]:
            print(f"check {row['domain']} {row['ip']}: {col} {first[col]!r}, audit says {row[col]!r}"); bad += 1
    sources = {s["source"] for s in steps if s["name"]}
    if row["verdict"] != "nonrepudiated" or not row["matched"].startswith("forwarder:"):
        if "dns" not in sources:
            print(f"check {row['domain']} {row['ip']}: no question answered by DNS ({sources})"); bad += 1
    if any(int(s["step"]) > int(first["max_lookups"]) for s in steps):
        print(f"check {row['domain']} {row['ip']}: more steps than --max-lookups"); bad += 1
# The person's view: the five-level chain as a tree, deepest question at depth 5.
text = subprocess.run([binary, "check", "someone@chain.interop.test", "192.0.2.46",
                       "--nameserver", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
open(f"{run}/check-chain.txt", "w").write(text)
for needle in ("nonrepudiated", "relay.l5.chain.interop.test", "mail-from.l5.chain.interop.test", "DNS", "rule"):
    if needle not in text:
        print(f"check text for chain.interop.test lacks {needle!r}:\n{text}"); bad += 1
if bad:
    sys.exit(f"nsd-interop check: {bad} disagreement(s)")
print(f"nsd-interop check: {len(rows)} pairs explained by `check` with the audit's verdicts")
PY
nsd_stop

# ---------------------------------------------------------------------------------------
echo "== gen.py world (seed 1, 20000 domains) served by nsd"
mkdir -p "$WORK"
W=$WORK/world
if [ ! -f "$W/truth/summary.json" ]; then
  python3 "$GEN" -o "$W" --seed 1 -M 3000 --log-messages 3000 --what mbox,postfix,zone >/dev/null
fi
start_nsd world "$W/zones"
NS=(--nameserver "127.0.0.1:$PORT" --timeout 2 --attempts 2)
perimeter=()
while read -r line; do
  case "$line" in ''|'#'*) ;; *) perimeter+=(--perimeter "$line") ;; esac
done < "$W/perimeter.txt"
for artifact in mbox:mail.mbox postfix:maillog; do
  name=${artifact%%:*}; file=${artifact#*:}
  "$BIN" audit "$W/$file" "${NS[@]}" "${perimeter[@]}" -q -o "$WORK/$name-audit.csv"
done

# One pair per domain with an address its truth allows, and one foreign client per policy.
python3 - "$W" "$WORK/all-domains.csv" <<'PY'
import csv, sys
world, out = sys.argv[1], sys.argv[2]
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["domain", "ip", "messages"])
    for r in csv.DictReader(open(f"{world}/truth/domains.csv")):
        allowed = r["allowed_ips"].split()
        if allowed:
            w.writerow([r["domain"], allowed[len(allowed) // 2], 1])
        w.writerow([r["domain"], "192.0.2.1", 1])   # documentation range: never a relay
PY
start=$(date +%s.%N)
"$BIN" audit "$WORK/all-domains.csv" "${NS[@]}" -q -o "$WORK/all-domains-audit.csv"
end=$(date +%s.%N)
nsd_stop

python3 - "$W" "$WORK" "$start" "$end" <<'PY'
import csv, ipaddress, sys
world, work, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
perimeter = [ipaddress.ip_network(l.strip()) for l in open(f"{world}/perimeter.txt")
             if l.strip() and not l.startswith("#")]
failed = False

def report(label, bad, total):
    global failed
    print(f"nsd-interop {label}: {total - len(bad)} of {total} agree")
    for line in bad[:10]:
        print("  DIFFERS", line)
    failed |= bool(bad)

# The mail artifacts: every truth pair must come out with its verdict and count. The one
# documented difference is the postfix backup-MX client (perimeter, internal in logs, docs/design.md §3).
for name in ("mbox", "postfix"):
    truth = {(r["domain"], r["ip"]): r for r in csv.DictReader(open(f"{world}/truth/{name}-pairs.csv"))}
    ours = {(r["domain"], r["ip"]): r for r in csv.DictReader(open(f"{work}/{name}-audit.csv"))}
    bad, skipped = [], 0
    for key, t in truth.items():
        o = ours.get(key)
        if o is None and name == "postfix" and any(ipaddress.ip_address(key[1]) in n for n in perimeter):
            skipped += 1
            continue
        if o is None or o["verdict"] != t["verdict"] or o["messages"] != t["messages"]:
            bad.append(f"{key}: truth {t['verdict']}/{t['messages']}, ours {o and o['verdict']}/{o and o['messages']} {o and o['reason']}")
    extra = [k for k, o in ours.items() if k not in truth and o["verdict"] not in ("null-sender", "unknown")]
    bad += [f"{k}: only in our output" for k in extra]
    note = f" (backup-MX perimeter clients, internal in logs, left out: {skipped})" if skipped else ""
    report(f"{name}{note}", bad, len(truth) - skipped)

# Every domain of the world: allowed address -> nonrepudiated, foreign -> repudiated,
# no policy -> no-policy.
domains = {r["domain"]: r for r in csv.DictReader(open(f"{world}/truth/domains.csv"))}
ours = list(csv.DictReader(open(f"{work}/all-domains-audit.csv")))
bad = []
for o in ours:
    t = domains[o["domain"]]
    if t["policy"] == "none":
        want = "no-policy"
    elif o["ip"] in t["allowed_ips"].split():
        want = "nonrepudiated"
    else:
        want = "repudiated"
    if o["verdict"] != want:
        bad.append(f"{o['domain']} {o['ip']} ({t['policy']}): want {want}, got {o['verdict']} {o['reason']}")
asked = sum(1 for _ in open(f"{work}/all-domains.csv")) - 1
if len(ours) != asked:
    bad.append(f"{asked} pairs in, {len(ours)} rows out")
report(f"all {len(domains)} domains ({len(ours)} pairs)", bad, len(ours))
print(f"nsd-interop timing: {len(domains)} domains, {len(ours)} pairs resolved against nsd in "
      f"{end - start:.2f} s (audit wall time, default --concurrency)")
sys.exit(1 if failed else 0)
PY

#!/usr/bin/env bash
# Scans data nobody here wrote (../shared/corpora: SpamAssassin's public corpus, the pixelpark
# postfix log) and prints, per set, how many records became pairs and how many were skipped, by
# reason. Fails on a panic, on a fatal exit, or when a set yields no pairs at all.
# usage: scripts/corpus-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=../shared/corpora
[ -d "$CORPORA" ] || { echo "corpus-check: $CORPORA not found" >&2; exit 1; }
BIN=${REPUDIATE:-target/release/repudiate}
[ -x "$BIN" ] || cargo build --release --locked --quiet
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
status=0

check() {
  local name=$1; shift
  local rc=0
  "$BIN" scan "$@" -o "$OUT/$name.csv" 2> "$OUT/$name.err" || rc=$?
  if grep -q "panicked" "$OUT/$name.err" || [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
    echo "corpus-check $name: FAIL (exit $rc)"; cat "$OUT/$name.err"; status=1; return
  fi
  python3 - "$name" "$OUT/$name.csv" "$OUT/$name.err" "$rc" <<'PY'
import csv, sys
name, path, err, rc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
kinds = {"pairs": 0, "null sender": 0, "no external hop": 0, "no envelope sender": 0, "malformed sender": 0}
rows = 0
for r in csv.DictReader(open(path)):
    n, rows = int(r["messages"]), rows + 1
    if r["domain"] == "<>": kinds["null sender"] += n
    elif r["domain"] == "": kinds["no envelope sender"] += n
    elif r["ip"] == "": kinds["no external hop"] += n
    else: kinds["pairs"] += n
lines = open(err).read().splitlines()
skipped = [l.split() for l in lines if l.startswith("    ")]
failed = [l for l in lines if l.startswith("repudiate: ")]
print(f"corpus-check {name}: {sum(kinds.values())} messages -> " + ", ".join(f"{v} {k}" for k, v in kinds.items())
      + f" ({rows} distinct rows)")
print(f"  skipped: " + (", ".join(f"{n} {r}" for r, n in skipped) or "none")
      + f"; inputs not read (exit {rc}): {len(failed)}")
for l in failed[:5]:
    print("   ", l)
if kinds["pairs"] == 0:
    print(f"corpus-check {name}: FAIL no pairs"); sys.exit(1)
PY
}

check spamassassin "$CORPORA/spamassassin-public-corpus" || status=1
check pixelpark-postfix "$CORPORA/mtalog-pixelpark-postfix/mail.log" || status=1
exit $status

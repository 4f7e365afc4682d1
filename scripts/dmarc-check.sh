#!/usr/bin/env bash
# DMARC aggregate reports nobody here wrote (parsedmarc's samples: both schemas, gzip,
# zip, reports inside messages, malformed ones): the pairs and authenticated counts
# `repudiate audit --offline` writes must equal those scripts/dmarc-expect.py computes with
# Python's standard library alone, and the inputs repudiate refuses must be exactly the
# ones Python cannot read. Needs python3 (CI has it); a missing prerequisite fails.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${REPUDIATE_SHARED:-../shared}
CORPUS="$SHARED/corpora/dmarc-parsedmarc-samples"
[ -d "$CORPUS" ] || { echo "missing prerequisite: $CORPUS (set REPUDIATE_SHARED)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "missing prerequisite: python3" >&2; exit 1; }
BIN=${REPUDIATE_BIN:-target/release/repudiate}
[ -x "$BIN" ] || { echo "missing prerequisite: $BIN (cargo build --release)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/dmarc-expect.py "$CORPUS" "$work"
[ -s "$work/report-files" ] || { echo "dmarc-check: Python found no report files in $CORPUS" >&2; exit 1; }

# 1. The pairs of every file holding reports, with their authenticated counts.
mapfile -t reports <"$work/report-files"
# Offline, every verdict is tempfail by design (only the pairs are compared), so the
# unreliable-DNS alert (exit 4) is turned off.
"$BIN" audit --offline --quiet --max-tempfail 100 -o "$work/audit.csv" "${reports[@]}"
python3 - "$work/audit.csv" >"$work/got.csv" <<'PY'
import csv, sys
rows = csv.DictReader(open(sys.argv[1], newline=""))
print("domain,ip,messages,authenticated")
for r in rows:
    print("%s,%s,%s,%s" % (r["domain"], r["ip"], r["messages"], r["authenticated"]))
PY
if ! diff -u "$work/expected.csv" "$work/got.csv" >"$work/diff"; then
  head -40 "$work/diff" >&2
  echo "dmarc-check: repudiate's pairs differ from the independent expectation" >&2
  exit 1
fi
pairs=$(($(wc -l <"$work/expected.csv") - 1))
messages=$(awk -F, 'NR>1 {m+=$3; a+=$4} END {print m" messages, "a" authenticated"}' "$work/expected.csv")

# 2. The whole corpus: the inputs that fail are exactly those Python could not read.
set +e
"$BIN" scan --quiet -o "$work/scan.csv" "$CORPUS" 2>"$work/scan.err"
rc=$?
set -e
[ "$rc" = 2 ] || { cat "$work/scan.err" >&2; echo "dmarc-check: scan exit code $rc, expected 2 (some inputs failed)" >&2; exit 1; }
python3 - "$CORPUS" "$work/scan.err" >"$work/failed" <<'PY'
import sys
corpus, lines = sys.argv[1], open(sys.argv[2]).read().splitlines()
prefix = "repudiate: " + corpus.rstrip("/") + "/"
names = [l[len("repudiate: "):].split(": ", 1)[0] for l in lines if l.startswith(prefix)]
print("".join(sorted(n + "\n" for n in names)), end="")
PY
if ! diff -u "$work/bad-files" "$work/failed"; then
  cat "$work/scan.err" >&2
  echo "dmarc-check: the failing inputs differ from the unreadable ones" >&2
  exit 1
fi
echo "dmarc-check: ${#reports[@]} report files, $pairs pairs, $messages: as expected;" \
  "$(wc -l <"$work/failed") unreadable files refused by name"

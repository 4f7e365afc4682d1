#!/usr/bin/env bash
# The worked example of docs/dmarc.md, run on the shipped fixtures: every figure the page
# quotes is printed here. Offline, so it gives the same output anywhere.
#   scripts/dmarc-example.sh            (uses target/release/repudiate, else target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${REPUDIATE_BIN:-target/release/repudiate}
[ -x "$BIN" ] || BIN=target/debug/repudiate
[ -x "$BIN" ] || { echo "build repudiate first (cargo build --release)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/dmarc/owner "$work/reports"
cp fixtures/dmarc/owner-hand-written.zone "$work/hand-written.zone"
cd "$work"

show() { printf '\n$ repudiate %s\n' "$*"; "$OLDPWD/$BIN" "$@"; }

show scan reports/
show audit reports/ --zone hand-written.zone --offline -o before.csv
show propose reports/ --domain owner.example --offline -o proposal.zone
printf '\n$ cat proposal.zone\n'; cat proposal.zone
show audit reports/ --zone proposal.zone --offline -o after.csv
printf '\n$ cut -d, -f1-4,8 after.csv\n'; cut -d, -f1-4,8 after.csv
show propose reports/ --domain owner.example --offline --min-messages 5 -o wider.zone

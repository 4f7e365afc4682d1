#!/usr/bin/env bash
# Progress bars in a real terminal: runs repudiate inside tmux, reads the screen with
# capture-pane while it runs and after it ends, and requires that the bars were drawn
# (docs/design.md §5). The opposite case, standard error redirected, is a cargo test (tests/integration/cli.rs).
# usage: scripts/tty-check.sh   (installs tmux with apt when it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${REPUDIATE:-target/release/repudiate}
[ -x "$BIN" ] || cargo build --release --locked --quiet
BIN=$(realpath "$BIN")
if ! command -v tmux >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq install -y tmux >/dev/null
fi
WORK=$(mktemp -d)
SESSION="repudiate-tty-$$"
cleanup() { tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# A producer that writes an mbox to standard input over about three seconds, so the bar is
# on screen while the run is still going.
cat > "$WORK/slow-mbox.py" <<'PY'
import sys, time
msg = ("From a{i}@sender{d}.example Tue Jun  4 10:00:00 2024\n"
       "Received: from mx (mx [192.0.2.{o}]) by mx.site.example (Postfix) with ESMTP id {i}; Tue, 4 Jun 2024 10:00:00 +0000\n"
       "Subject: x\n\n" + "body line\n" * 40 + "\n")
for chunk in range(30):
    sys.stdout.write("".join(msg.format(i=i, d=i % 7, o=1 + i % 200) for i in range(chunk * 200, chunk * 200 + 200)))
    sys.stdout.flush()
    time.sleep(0.1)
PY

fail() { echo "tty-check: FAIL: $*" >&2; for f in "$WORK"/*.screen; do echo "--- $f"; cat "$f"; done >&2; exit 1; }

# The scrollback too (-S -): the end-of-run table is taller than the window, and the last
# state of the bars drawn above it must still be seen.
screen() { tmux capture-pane -p -S - -t "$SESSION" > "$WORK/$1.screen"; }

wait_for() {  # wait_for PATTERN SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do
    tmux capture-pane -p -t "$SESSION" | grep -q -- "$1" && return 0
    sleep 0.1
  done
  return 1
}

tmux new-session -d -s "$SESSION" -x 150 -y 40
tmux send-keys -t "$SESSION" "python3 $WORK/slow-mbox.py | $BIN scan - -o $WORK/pairs.csv; echo RC\"\"=\$?" Enter
wait_for 'reading' 5 || { screen early; fail "no reading bar within 5 s"; }
sleep 1  # let the bar count what the producer has written so far
screen during
grep -q 'RC=' "$WORK/during.screen" && fail "the run ended before the screen was read"
# Standard input has no known length: the bar counts bytes (more than zero) with a rate.
grep -Eq 'reading .*\[[=> ]*\] [1-9][0-9.]* [KMG]i?B/[0-9.]+ [KMG]i?B [0-9.]+ [KMG]?i?B/s' "$WORK/during.screen" \
  || fail "reading bar not drawn while running"
wait_for 'RC=' 30 || { screen late; fail "scan did not end"; }
screen scan-end
grep -q 'RC=0' "$WORK/scan-end.screen" || fail "scan exit status"
grep -q 'repudiate scan: 6000 messages' "$WORK/scan-end.screen" || fail "summary missing after the bar"

# Nothing of the scan may reach the audit's screens through the scrollback.
tmux send-keys -t "$SESSION" "clear" Enter
sleep 0.5
tmux clear-history -t "$SESSION"
tmux send-keys -t "$SESSION" "clear; $BIN audit fixtures/demo/mail.mbox fixtures/demo/maillog --zone fixtures/demo/what-if.zone --offline --perimeter 198.51.100.0/28 -o $WORK/audit.csv; echo RC\"\"=\$?" Enter
wait_for 'RC=' 30 || { screen audit-late; fail "audit did not end"; }
screen audit-end
# The demo's pair count as its golden file states it, not as this run wrote it.
pairs=$(($(wc -l < fixtures/demo/expected.csv) - 1))
grep -Eq "resolving \[=+\] $pairs/$pairs pairs" "$WORK/audit-end.screen" || fail "resolving bar not drawn to $pairs/$pairs"
grep -q 'RC=0' "$WORK/audit-end.screen" || fail "audit exit status"
echo "tty-check: bars drawn in a terminal (reading while running, resolving $pairs/$pairs pairs)"

#!/usr/bin/env bash
# Looks at the HTML report as a person would: renders the demo's `--html` page in headless
# Chromium to a PNG (kept in target/html-check/report.png for a human to open) and dumps the
# DOM Chromium built, whose text must hold the totals, a repudiated domain and relay, and
# the cross-table (the demo's no-policy message is an SPF fail: nopolicy.example), and
# the settings of the run. Chromium is Debian's package, installed here when missing; a
# missing browser is a failure, never a skip.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
root=$PWD
bin=${REPUDIATE_BIN:-$root/target/release/repudiate}
[ -x "$bin" ] || cargo build --locked --release --quiet

if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium
fi
chromium --version

out=$root/target/html-check
rm -rf "$out"
mkdir -p "$out"
(cd fixtures/demo && "$bin" audit mail.mbox maillog --zone what-if.zone --offline \
  --perimeter 198.51.100.0/28 -q -o "$out/pairs.csv" --html "$out/report.html")

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chrome() {
  # no network: --headless loads only the file; the page itself forbids fetches (CSP)
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@" 2>>"$out/chromium.log"
}
# tall enough that the whole demo page, settings included, is in the picture
chrome --screenshot="$out/report.png" --window-size=1200,2800 "file://$out/report.html" >/dev/null
chrome --dump-dom "file://$out/report.html" >"$out/dom.html"

fail() { echo "html check: $*" >&2; exit 1; }
python3 - "$out/report.png" <<'PY' || fail "no usable screenshot"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1200, 2800), (w, h)
assert len(data) > 20_000, f"suspiciously small ({len(data)} bytes): a blank page?"
print(f"screenshot {w}x{h}, {len(data)} bytes")
PY

dom=$out/dom.html
[ -s "$dom" ] || fail "Chromium dumped no DOM"
expect() { grep -qF -- "$1" "$dom" || fail "the rendered page lacks: $1"; }
# totals (the demo: 18 messages, 4 repudiated = 22.2 %, 5 skipped)
expect "18 messages in 12 pairs from 2 inputs"
expect '<span class="n">22.2 %</span>repudiated (4 messages)'
expect '<td>authenticated</td><td class="num">2</td>'
expect '<h2>MAIL-FROM verdict × SPF result</h2>'
expect '<tr><td>no-policy</td><td class="num">0</td><td class="num">1</td>'
# the chart: one bar per verdict (the chart by day below has bars of its own)
verdict_chart=$(awk '/aria-label="Messages by verdict"/,/<\/svg>/' "$dom")
[ "$(grep -o '<rect ' <<<"$verdict_chart" | wc -l)" -eq 7 ] || fail "the chart does not have 7 bars"
# the period (issue 15): the mbox's first date; the maillog's year is its file's (a checkout's)
expect 'Mail from 2024-06-04T10:00:00Z to '
expect 'and verdict" font-family='
grep -qE '<h2>Messages by (day|week) \(UTC\)</h2>' "$dom" || fail "no chart by day"
# domains and relays that would be repudiated
expect '<td class="name">shop.example</td><td class="num">2</td><td class="num">7</td>'
expect '<td class="name">203.0.113.66</td>'
# the settings of the run
expect '<th>perimeter</th><td class="name">198.51.100.0/28</td>'
expect '<th>nameservers</th><td class="name">offline (zone files only)</td>'
expect '<th>zone files</th><td class="name">what-if.zone</td>'
# nothing to run
if grep -qi '<script' "$dom"; then fail "the page has a script"; fi
echo "html check: passed ($out/report.png)"

#!/usr/bin/env bash
# journald check (issue 13): real journal files, made by Debian's systemd-journal-remote from
# the project's postfix (and sendmail/exim) fixture logs, exported with `journalctl --file`
# in every output form repudiate reads; each export must give exactly the pairs and skipped
# counts of the plain log. `-o cat` must be refused with a message naming a usable `-o`.
#
# usage: scripts/journald-check.sh     (as root; CI runs it from .ci/run)
# env:   REPUDIATE=path/to/binary      (default: target/release/repudiate, built if missing)
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."
die() { echo "journald-check: $*" >&2; exit 1; }

REMOTE=/lib/systemd/systemd-journal-remote
if [ ! -x "$REMOTE" ] || ! command -v journalctl >/dev/null; then
  [ "$(id -u)" = 0 ] || die "systemd-journal-remote is missing and only root can install it"
  install() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q systemd-journal-remote >/dev/null; }
  install || { apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null && install; } ||
    die "cannot install systemd-journal-remote"
fi
[ -x "$REMOTE" ] || die "missing prerequisite: $REMOTE"
command -v python3 >/dev/null || die "missing prerequisite: python3"

BIN=${REPUDIATE:-target/release/repudiate}
[ -x "$BIN" ] || cargo build --locked --release --quiet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

FORMS="short short-iso short-precise short-iso-precise short-full short-unix with-unit json json-seq"
checked=0
# Each case: a name and its plain log (rotation sets concatenated oldest first).
zcat -f fixtures/golden/rotation-straddle/mail.log.2.gz fixtures/golden/rotation-straddle/mail.log.1 \
  fixtures/golden/rotation-straddle/mail.log >"$T/rotation.log"
# The demo is stamped in RFC 3339; the exports are built from traditional syslog lines.
sed -E 's/^2024-06-0([1-9])T([0-9:]{8})[^ ]* /Jun  \1 \2 /' fixtures/demo/maillog >"$T/demo.log"
grep -q '^2024' "$T/demo.log" && die "the demo log has a stamp this script cannot convert"
cp fixtures/golden/sendmail-exim-logs/maillog "$T/sendmail.log"
for name in demo rotation sendmail; do
  plain=$T/$name.log
  # The export dates the lines in 2024; yearless stamps take their year from the file's
  # time (docs/inputs.md#dates), so every file read here carries a time in 2024 too.
  touch -d '2024-12-31 12:00 UTC' "$plain"
  python3 scripts/journald-check.py 2024 <"$plain" >"$T/$name.export"
  "$REMOTE" --output="$T/$name.journal" "$T/$name.export" 2>"$T/remote.err" ||
    die "systemd-journal-remote failed on $name: $(cat "$T/remote.err")"
  "$BIN" scan "$plain" -o "$T/$name.want.csv" 2>"$T/$name.want.err" || die "scan of plain $name failed"
  [ "$(wc -l <"$T/$name.want.csv")" -gt 1 ] || die "$name: the plain log gives no pairs"
  for form in $FORMS; do
    # -a: text forms print a field with control characters as "[N blob data]" otherwise.
    TZ=UTC journalctl --file="$T/$name.journal" --no-pager -a -o "$form" >"$T/$name.$form" ||
      die "journalctl -o $form failed on $name"
    touch -r "$plain" "$T/$name.$form"
    "$BIN" scan "$T/$name.$form" -o "$T/$name.$form.csv" 2>"$T/$name.$form.err" ||
      die "$name -o $form: scan failed: $(cat "$T/$name.$form.err")"
    cmp -s "$T/$name.want.csv" "$T/$name.$form.csv" ||
      die "$name -o $form: pairs differ from the plain log: $(diff "$T/$name.want.csv" "$T/$name.$form.csv")"
    # The skipped table (every line but the input count) must agree too.
    diff <(grep -v '^inputs' "$T/$name.want.err") <(grep -v '^inputs' "$T/$name.$form.err") >/dev/null ||
      die "$name -o $form: summary differs: $(diff "$T/$name.want.err" "$T/$name.$form.err")"
    checked=$((checked + 1))
  done
done
grep -q '"MESSAGE":\[' "$T/demo.json" || die "no MESSAGE as a byte array in the json export"

# -o cat: refused, naming a usable form.
TZ=UTC journalctl --file="$T/demo.journal" --no-pager -a -o cat >"$T/demo.cat"
if "$BIN" scan "$T/demo.cat" -o "$T/cat.csv" 2>"$T/cat.err"; then
  die "-o cat was accepted"
fi
grep -q -- '-o short-iso' "$T/cat.err" || die "-o cat refusal names no usable form: $(cat "$T/cat.err")"

echo "journald-check: $checked exports (3 logs x $(echo $FORMS | wc -w) forms) give the plain logs' pairs; -o cat refused"

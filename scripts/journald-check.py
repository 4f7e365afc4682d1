#!/usr/bin/env python3
"""Turns syslog mail-log lines into systemd's journal export format, as postfix, sendmail
and exim write into the journal on a systemd host (SYSLOG_IDENTIFIER, _PID, _HOSTNAME,
_SYSTEMD_UNIT), for systemd-journal-remote to make a real journal file of.

usage: journald-check.py YEAR < mail.log > entries.export

The time of a traditional syslog line has no year; YEAR supplies it, in UTC. The first
qmgr `from=` line gets a trailing BEL byte, written as a binary field, so that
`journalctl -o json` prints its MESSAGE as an array of bytes, as it does for any field
holding control characters or invalid UTF-8.
"""
import calendar
import re
import struct
import sys

LINE = re.compile(
    r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<clock>\d\d:\d\d:\d\d) "
    r"(?P<host>\S+) (?P<ident>[^\[: ]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$"
)
MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
UNITS = {"sendmail": "sendmail.service", "sm-mta": "sendmail.service",
         "exim": "exim4.service", "exim4": "exim4.service"}


def field(out, name, value):
    if b"\n" in value or any(c < 0x20 and c != 0x09 for c in value):
        out.write(name.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n")
    else:
        out.write(name.encode() + b"=" + value + b"\n")


def main():
    year = int(sys.argv[1])
    out = sys.stdout.buffer
    binary_done = False
    n = 0
    for raw in sys.stdin.buffer:
        text = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        m = LINE.match(text)
        if not m:
            sys.exit(f"journald-check.py: not a syslog line: {text!r}")
        h, mi, s = (int(x) for x in m["clock"].split(":"))
        when = calendar.timegm((year, MONTHS[m["mon"]], int(m["day"]), h, mi, s))
        n += 1
        msg = m["msg"].encode("utf-8", "surrogateescape")
        if not binary_done and "qmgr" in m["ident"] and ": from=<" in m["msg"]:
            msg += b"\x07"
            binary_done = True
        field(out, "__REALTIME_TIMESTAMP", str(when * 1_000_000 + n).encode())
        field(out, "__MONOTONIC_TIMESTAMP", str(n * 1000).encode())
        field(out, "_BOOT_ID", b"0123456789abcdef0123456789abcdef")
        field(out, "_HOSTNAME", m["host"].encode())
        field(out, "SYSLOG_IDENTIFIER", m["ident"].encode())
        if m["pid"]:
            field(out, "_PID", m["pid"].encode())
        # Debian runs every postfix instance's daemons under postfix@INSTANCE.service.
        unit = "postfix@-.service" if m["ident"].startswith("postfix") else UNITS.get(m["ident"], "")
        if unit:
            field(out, "_SYSTEMD_UNIT", unit.encode())
        field(out, "PRIORITY", b"6")
        field(out, "MESSAGE", msg)
        out.write(b"\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Peak memory of `repudiate scan` on the input shapes that used to take memory without
bound (issue 14.3, docs/memory.md), through the release binary: each input is generated
on the fly in a temporary directory (written in blocks, never held, deleted after its
run), scanned, and the child's peak RSS (wait4's ru_maxrss, the kernel's VmHWM) must stay
under the limit. The counts on standard error are checked too, so a shape that skips more
than it should fails as well.

Shapes: a 1 GB single message in an mbox; a 500 MB log line, plain and gzipped; a 100 MB
header block, in an mbox and as a single message; a postfix log of 5 million queue ids
without `removed` lines; the merge of 1,000 hosts' pairs files holding about a million
distinct pairs (scripts/gen_pairs.py, issue 16 item 3). Each run is bounded (--timeout
seconds).

Usage: scripts/memory_check.py [--binary PATH] [--limit-mb N] [--only a,b] [--timeout S]
Prints one row per shape (shape, input MB, peak RSS MB, seconds, PASS/FAIL); exit 1 on any
FAIL. scripts/bench.sh prints the same table in its memory section.
"""

import argparse
import gzip
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
MB = 1 << 20
BLOCK = 4 * MB

RECEIVED = (
    b"Received: from m.example.org (m.example.org [192.0.2.10]) by mx.example.net "
    b"with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\n"
)


def message(domain, body_bytes=0, filler_bytes=0, out=None):
    """Writes one mbox message to `out` (a binary file) in blocks."""
    out.write(b"From a@%s Tue Jun  4 10:00:00 2024\n" % domain)
    out.write(b"Return-Path: <a@%s>\n" % domain)
    out.write(RECEIVED)
    line = b"X-Filler: " + b"f" * 100 + b"\n"
    written = 0
    block = line * (BLOCK // len(line))
    while written < filler_bytes:
        out.write(block)
        written += len(block)
    out.write(b"Subject: memory\n\n")
    body_line = b"b" * 99 + b"\n"
    block = body_line * (BLOCK // len(body_line))
    written = 0
    while written < body_bytes:
        out.write(block)
        written += len(block)
    out.write(b"\n")


def repeat(out, byte, total):
    chunk = byte * BLOCK
    written = 0
    while written < total:
        n = min(BLOCK, total - written)
        out.write(chunk[:n])
        written += n


def postfix_record(qid, stamp, ip, domain, removed=True):
    lines = (
        f"{stamp} mx postfix/smtpd[10]: {qid}: client=c.example[{ip}]\n"
        f"{stamp} mx postfix/qmgr[12]: {qid}: from=<a@{domain}>, size=1, nrcpt=1 (queue active)\n"
    )
    if removed:
        lines += f"{stamp} mx postfix/qmgr[12]: {qid}: removed\n"
    return lines.encode()


def long_line_log(path, compressed):
    out = gzip.open(path, "wb", compresslevel=1) if compressed else open(path, "wb")
    with out:
        out.write(postfix_record("AAAAA00001", "Jun  1 10:00:00", "192.0.2.1", "a.example"))
        out.write(b"Jun  1 10:00:01 mx postfix/smtpd[10]: ")
        repeat(out, b"x", 500 * MB)
        out.write(b"\n")
        out.write(postfix_record("AAAAA00002", "Jun  1 10:00:02", "192.0.2.2", "b.example"))


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def stamp(seconds):
    day, rest = divmod(seconds, 86400)
    month = 0
    while day >= MONTH_DAYS[month]:
        day -= MONTH_DAYS[month]
        month += 1
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{MONTHS[month]} {day + 1:2d} {h:02d}:{m:02d}:{s:02d}"


def many_queue_ids(path, count, days):
    """`count` messages spread over `days` of log time, none with a `removed` line; every
    tenth never gets its qmgr line (incomplete)."""
    step = days * 86400 / count
    with open(path, "wb") as out:
        batch = []
        for i in range(count):
            ts = stamp(int(i * step))
            qid = f"{0x10000000 + i:08X}"
            ip = f"192.0.2.{i % 200 + 1}"
            domain = f"d{i % 100}.example"
            if i % 10 == 9:
                batch.append(f"{ts} mx postfix/smtpd[10]: {qid}: client=c.example[{ip}]\n")
            else:
                batch.append(postfix_record(qid, ts, ip, domain, removed=False).decode())
            if len(batch) >= 50_000:
                out.write("".join(batch).encode())
                batch.clear()
        out.write("".join(batch).encode())


def gen_mbox_1g(path):
    with open(path, "wb") as out:
        message(b"before.example", out=out)
        message(b"huge.example", body_bytes=1024 * MB, out=out)
        message(b"after.example", out=out)


def gen_header_mbox(path):
    with open(path, "wb") as out:
        message(b"before.example", out=out)
        message(b"huge.example", filler_bytes=100 * MB, out=out)
        message(b"after.example", out=out)


def gen_header_eml(path):
    with open(path, "wb") as out:
        out.write(b"Return-Path: <a@huge.example>\n")
        out.write(RECEIVED)
        line = b"X-Filler: " + b"f" * 100 + b"\n"
        block = line * (BLOCK // len(line))
        for _ in range(100 * MB // len(block) + 1):
            out.write(block)
        out.write(b"\nbody\n")


def merge_of_hosts(path):
    """1,000 pairs files of 2,500 rows from a pool of 1.1 million pairs (about 990,000
    distinct in all) in the folder `path`; returns the messages they hold."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_pairs.py"), str(path), "--files", "1000",
         "--rows", "2500000", "--distinct", "1100000", "--seed", "1"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    total = 0
    for f in path.iterdir():
        with open(f) as rows:
            next(rows)
            total += sum(int(line.rsplit(",", 1)[1]) for line in rows)
    return total


# name: (file name, generator, expected messages, expected skipped counts); a generator
# that returns a number returns the messages expected (None in the table).
SHAPES = {
    "mbox-1g-message": ("big.mbox", gen_mbox_1g, 3, {}),
    "log-500m-line": ("long.log", lambda p: long_line_log(p, False), 2, {"oversized": 1}),
    "log-500m-line-gz": ("long.log.gz", lambda p: long_line_log(p, True), 2, {"oversized": 1}),
    "mbox-100m-header": ("header.mbox", gen_header_mbox, 2, {"oversized": 1}),
    "eml-100m-header": ("header.eml", gen_header_eml, 0, {"oversized": 1}),
    "postfix-5m-queue-ids": (
        "queue.log",
        lambda p: many_queue_ids(p, 5_000_000, 50),
        4_500_000,
        {"incomplete": 500_000},
    ),
    "merge-1000-pairs-files": ("hosts", merge_of_hosts, None, {}),
}


def size_of(path):
    if path.is_dir():
        return sum(f.stat().st_size for f in path.iterdir())
    return path.stat().st_size


def remove(path):
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def run(binary, path, out_csv, timeout, extra):
    """Runs scan; returns (exit code, peak RSS bytes, seconds, stderr)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [binary, "scan", str(path), "-o", str(out_csv), *extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                status = None
                break
            time.sleep(0.05)
        proc.returncode = 0
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status) if status is not None else "timeout"
    # Linux reports ru_maxrss in kilobytes.
    return code, usage.ru_maxrss * 1024, time.monotonic() - start, stderr


def counts(stderr):
    found = {}
    m = re.search(r"repudiate scan: (\d+) messages", stderr)
    if m:
        found["messages"] = int(m.group(1))
    for name, n in re.findall(r"^\s+([a-z-]+)\s+(\d+)$", stderr, re.M):
        found[name] = int(n)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "repudiate"))
    ap.add_argument("--limit-mb", type=int, default=200)
    ap.add_argument("--only", default=",".join(SHAPES))
    ap.add_argument("--timeout", type=int, default=300, help="seconds per run")
    ap.add_argument("--dir", default=None, help="where to generate (default: a temp dir)")
    ap.add_argument("extra", nargs="*", help="more arguments for scan (after --)")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"missing binary {args.binary} (cargo build --release)")
    failures = 0
    print(f"{'shape':<22} {'input MB':>9} {'peak RSS MB':>12} {'seconds':>8}  result")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = pathlib.Path(tmp)
        for name in args.only.split(","):
            file_name, generate, messages, skipped = SHAPES[name]
            path = tmp / file_name
            generated = generate(path)
            if messages is None:
                messages = generated
            size = size_of(path)
            code, rss, secs, stderr = run(
                args.binary, path, tmp / "out.csv", args.timeout, args.extra
            )
            remove(path)
            got = counts(stderr)
            want = {"messages": messages, **skipped}
            problems = []
            if code != 0:
                problems.append(f"exit {code}")
            if rss >= args.limit_mb * MB:
                problems.append(f"peak RSS over {args.limit_mb} MB")
            for key, n in want.items():
                if got.get(key, 0) != n:
                    problems.append(f"{key} {got.get(key, 0)}, expected {n}")
            result = "PASS" if not problems else "FAIL: " + "; ".join(problems)
            failures += bool(problems)
            print(f"{name:<22} {size / MB:>9.0f} {rss / MB:>12.1f} {secs:>8.1f}  {result}")
            if problems:
                print(stderr, file=sys.stderr)
            sys.stdout.flush()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

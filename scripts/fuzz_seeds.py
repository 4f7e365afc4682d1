#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets (fuzz/fuzz_targets/) from fixtures/.

Each target reads its input its own way (some take leading flag bytes), so each gets the
fixture files of its format in that shape. The corpora are written under fuzz/corpus/
(ignored by git): they are rebuilt from the fixtures, never committed. The regression
inputs of fixtures/fuzz/<target>/ (crashes found earlier) are seeds too.

Usage: scripts/fuzz_seeds.py [OUT_DIR]   (default: fuzz/corpus)
"""

import gzip
import hashlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# The cache file as persist.rs documents it: the block between ```text and ``` in its
# module comment.
PERSIST = ROOT / "src" / "dns" / "persist.rs"


def files(*patterns):
    found = set()
    for pattern in patterns:
        found.update(p for p in FIXTURES.rglob(pattern) if p.is_file())
    return sorted(found)


def is_log(path):
    head = path.read_bytes()[:200]
    if head.startswith(b"\x1f\x8b"):
        return False
    name = path.name
    return "log" in name or name == "stdin"


def header_block(data):
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in data:
            return data[: data.index(sep) + len(sep)]
    return data


def documented_cache():
    lines, inside = [], False
    for line in PERSIST.read_text().splitlines():
        if line == "//! ```text":
            inside = True
        elif inside and line == "//! ```":
            break
        elif inside:
            lines.append(line.removeprefix("//! ").removeprefix("//!"))
    return ("\n".join(lines) + "\n").encode()


def seeds():
    """(target, bytes) for every seed."""
    mboxes = files("*.mbox")
    messages = files("*.eml") + [p for p in files("*") if "Maildir" in p.parts]
    logs = [p for p in files("*") if is_log(p)]
    pairs = files("*.csv")
    zones = files("*.zone")
    received = files("*.tsv")
    everything = [p for p in files("*") if p.stat().st_size < 256 * 1024]

    for p in mboxes:
        data = p.read_bytes()
        for window in (0, 7, 63):
            yield "mbox_split", bytes([window]) + data
    for p in mboxes + messages:
        data = p.read_bytes()
        if p in mboxes:
            # Each message of an mbox: its separator line as the envelope, then its header.
            for chunk in data.split(b"\n\nFrom ")[:20]:
                sep, _, rest = chunk.partition(b"\n")
                yield "message_headers", b"\x01" + sep + b"\x00" + header_block(rest)
        else:
            yield "message_headers", b"\x00" + header_block(data)
            yield "message_headers", b"\x04" + header_block(data)
    for p in received:
        for line in p.read_bytes().splitlines():
            _, _, value = line.partition(b"\t")
            if value:
                yield "received_walk", value
    for p in logs:
        data = p.read_bytes()
        yield "log_lines", b"\x00\x00" + data
        yield "log_lines", b"\x03\x40" + data
        for line in data.splitlines()[:40]:
            yield "syslog_prefix", line
    for p in pairs:
        data = p.read_bytes()
        # The target writes the header itself.
        yield "pairs_file", data.partition(b"\n")[2]
    for p in zones:
        yield "zone_file", p.read_bytes()
    cache = documented_cache()
    yield "cache_file", b"\x00" + cache
    body = cache.partition(b"\n")[2].rpartition(b"end ")[0]
    yield "cache_file", b"\x01" + body
    # The policy target decodes its answers from bytes: a few shapes it knows.
    yield "policy_answers", bytes([0, 3, 20, 4, 2, 0, 0, 0, 1, 4, 1, 0])
    yield "policy_answers", bytes([1, 10, 39, 5, 3, 0, 0, 1, 1, 2, 4, 4, 1, 1, 1, 2, 0])
    yield "policy_answers", bytes([4, 1, 2, 6, 1, 0, 3, 2, 2, 1])
    yield "policy_answers", bytes([0, 5, 30, 4, 4] + [1, 0, 2, 1, 4, 6, 6, 2] * 8)
    for p in everything:
        data = p.read_bytes()
        yield "input_file", b"\x00" + data
        yield "input_file", b"\x06" + data
        if not data.startswith(b"\x1f\x8b"):
            yield "input_file", b"\x00" + gzip.compress(data, mtime=0)
    regressions = FIXTURES / "fuzz"
    if regressions.is_dir():
        for p in sorted(regressions.rglob("*")):
            if p.is_file() and p.parent.name != "fuzz":
                yield p.parent.name, p.read_bytes()


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz" / "corpus"
    counts = {}
    for target, data in seeds():
        d = out / target
        d.mkdir(parents=True, exist_ok=True)
        # Named by content, as libFuzzer names what it adds, so seeds never pile up twice.
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
        counts[target] = counts.get(target, 0) + 1
    for target in sorted(counts):
        print(f"{target}: {counts[target]} seeds")


if __name__ == "__main__":
    main()

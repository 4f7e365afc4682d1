#!/usr/bin/env python3
"""Seeded pair files, as `repudiate scan` writes them on many hosts: for the merge bench
(scripts/bench-merge.sh) and the merge's memory shape (scripts/memory_check.py).

FILES files of ROWS/FILES rows each, every row a pair drawn from a pool of DISTINCT pairs
(so the merge of all files holds at most DISTINCT pairs, and about that many when the files
hold several times the pool); within a file each pair appears once, rows are sorted the way
scan sorts them (messages descending, then domain, then IP), and domains come from a pool of
DOMAINS names. About 1 pair in 20 has an IPv6 client, 1 in 50 the null sender `<>`.

usage: scripts/gen_pairs.py DIR [--files N] [--rows N] [--distinct N] [--domains N] [--seed S]
Writes DIR/host-0000.csv ... and prints the total rows written.
"""

import argparse
import ipaddress
import os
import random


def pair(j, domains):
    """The j-th pair of the pool: (domain column, ip column, sort key of the ip)."""
    h = (j * 2654435761) & 0xFFFFFFFF
    domain = "<>" if j % 50 == 7 else f"d{h % domains}.example"
    if j % 20 == 3:
        ip = ipaddress.IPv6Address((0x20010DB8 << 96) | j)
        return domain, str(ip), (6, int(ip))
    ip = ipaddress.IPv4Address(0x0A000000 + j)
    return domain, str(ip), (4, int(ip))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=6_400_000)
    ap.add_argument("--distinct", type=int, default=1_000_000)
    ap.add_argument("--domains", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    per_file = args.rows // args.files
    if per_file > args.distinct:
        raise SystemExit("more rows per file than distinct pairs")
    total = 0
    for f in range(args.files):
        rows = []
        for j in rng.sample(range(args.distinct), per_file):
            domain, ip, ip_key = pair(j, args.domains)
            messages = 1 + int(rng.paretovariate(1.2)) % 5000
            rows.append((-messages, domain, ip_key, ip))
        rows.sort()
        path = os.path.join(args.dir, f"host-{f:04d}.csv")
        with open(path + ".tmp", "w", newline="\n") as out:
            out.write("domain,ip,messages\n")
            out.write("".join(f"{d},{ip},{-m}\n" for m, d, _, ip in rows))
        os.replace(path + ".tmp", path)
        total += len(rows)
    print(total)


if __name__ == "__main__":
    main()

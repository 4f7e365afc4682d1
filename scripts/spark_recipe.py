#!/usr/bin/env python3
"""The Spark recipe of docs/scale.md: `repudiate scan -` per mail host as the map step
(RDD.pipe over one partition per host), repudiate's own merge of the small pair files as
the reduce.

A site copies this file and changes `host_lines` (where a host's log lines come from: local
files here; object storage, HDFS or a Kafka dump elsewhere) and the master URL. What it must
keep is the partitioning: every line of one host goes, in the order the host wrote it, to one
partition, because a postfix record is joined across lines by its queue id (`client=` on one
line, `from=` on a later one). A partition cut by byte offset gives each half a piece of some
records, and neither half can count them. scripts/spark-check.sh shows that too.

usage:
  spark_recipe.py --repudiate BIN --out DIR [--master local[2]] [--scan-arg ARG]...
                  [--split-host-at N] HOST=FILE[,FILE...]...

Writes DIR/pairs/part-NNNNN (one pairs CSV per host, in the order the hosts were given),
then DIR/merged.csv: `repudiate scan` over those files, the file one `repudiate audit`
(or `scan`) over all the hosts' logs would start from. --split-host-at N is the wrong way on
purpose, for the check only: the first host's lines are cut into two partitions after line N.
"""

import argparse
import glob
import os
import shlex
import subprocess
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repudiate", required=True, help="the repudiate binary, on every worker")
    p.add_argument("--out", required=True, help="output folder (must not exist)")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--scan-arg", action="append", default=[],
                   help="an argument for every scan (repeatable): --scan-arg=--perimeter=192.0.2.1")
    p.add_argument("--split-host-at", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("hosts", nargs="+", metavar="HOST=FILE[,FILE...]")
    args = p.parse_args(argv)
    hosts = []
    for spec in args.hosts:
        name, sep, files = spec.partition("=")
        if not sep or not name or not files:
            p.error(f"{spec!r} is not HOST=FILE[,FILE...]")
        hosts.append((name, files.split(",")))
    return args, hosts


def host_lines(host):
    """Every log line of one host, in the order written (its files oldest first).

    RDD.pipe hands the command text as UTF-8, so a byte that is not UTF-8 arrives as U+FFFD;
    repudiate then treats it as any other odd byte (a malformed domain stays malformed).
    Compressed logs are undone here (gzip.open and the like): a pipe carries text only.
    """
    _name, files = host
    for path in files:
        with open(path, "rb") as f:
            for raw in f:
                yield raw.decode("utf-8", errors="replace").rstrip("\n")


def partitions(hosts, split_at):
    """One element per partition: a host, or (the wrong way, for the check) half a host."""
    if not split_at:
        return [(lambda h=h: host_lines(h)) for h in hosts]
    first = hosts[0]

    def head():
        for i, line in enumerate(host_lines(first)):
            if i >= split_at:
                return
            yield line

    def tail():
        for i, line in enumerate(host_lines(first)):
            if i >= split_at:
                yield line

    return [head, tail] + [(lambda h=h: host_lines(h)) for h in hosts[1:]]


def main(argv):
    args, hosts = parse_args(argv)
    from pyspark import SparkConf, SparkContext  # after argument errors, which need no JVM

    binary = os.path.abspath(args.repudiate)
    scan = shlex.join([binary, "scan", "-q", *args.scan_arg, "-"])
    pairs_dir = os.path.join(args.out, "pairs")
    conf = SparkConf().setMaster(args.master).setAppName("repudiate-scan")
    conf.set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    try:
        readers = partitions(hosts, args.split_host_at)
        # parallelize gives each of len(readers) slices exactly one element: one partition
        # per host, and flatMap keeps the partitioning and the order of the host's lines.
        per_host = sc.parallelize(readers, len(readers)).flatMap(lambda read: read())
        # Map: one `repudiate scan -` per partition; checkCode makes a failed scan fail the
        # job instead of leaving a short pairs file. Each partition's output is a pairs CSV.
        per_host.pipe(scan, checkCode=True).saveAsTextFile(pairs_dir)
    finally:
        sc.stop()

    # Reduce: repudiate's own merge of the small files (equal pairs' counts added). A real
    # site would run `repudiate audit` over them here, with its DNS settings.
    parts = sorted(glob.glob(os.path.join(pairs_dir, "part-*")))
    if len(parts) != len(readers):
        sys.exit(f"spark_recipe: {len(parts)} pairs files for {len(readers)} partitions")
    merged = os.path.join(args.out, "merged.csv")
    subprocess.run([binary, "scan", "-q", *args.scan_arg, "--format", "pairs", *parts,
                    "-o", merged], check=True)
    print(f"spark_recipe: {len(parts)} partitions scanned, merged into {merged}")


if __name__ == "__main__":
    main(sys.argv[1:])

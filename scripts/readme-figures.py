#!/usr/bin/env python3
"""Renders the figures README.md quotes from the committed figure files in docs/figures/, so
no number in the README is copied by hand (docs/performance.md, "The README's figures").

README.md holds marked blocks, `<!-- figures:NAME begin -->` ... `<!-- figures:NAME end -->`;
this script rewrites what is between the markers of each block it knows from the figure
files (the command that wrote each, its date, commit and load are quoted with it). With
`--check` (as .ci/run runs it) it writes nothing and exits 1 with a diff when README.md
differs from what the committed figures render: a figure rerun and committed without
rerunning this script, or a hand edit inside a block. It measures nothing and reads only
docs/figures/, so it takes a fraction of a second. A figure file missing, or missing a
line this script reads, is an error naming the file and the line, never a silent gap.

usage: scripts/readme-figures.py [--check] [--readme FILE] [--figures DIR]
"""

import argparse
import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


class FigureError(Exception):
    """A figure file that is missing or lacks a line the README quotes."""


class Figure:
    """One committed figure: its stamp (command, date, commit, load) and its text block."""

    def __init__(self, path: pathlib.Path, link: str):
        self.path, self.link = path, link
        try:
            self.text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise FigureError(f"{path}: cannot read it ({e.strerror}): run the script that "
                              "writes it, or remove its row from scripts/readme-figures.py")
        self.command, self.when = self.find(r"^Written by `([^`]+)` on ([^;]+);",
                                            "the 'Written by' line")
        # Figures written before scripts/lib/bench.sh name the commit as "head X".
        commit = (re.search(r"^\* commit: ([^;]+);", self.text, re.M)
                  or re.search(r"\bhead ([0-9a-f]{7,40})\b", self.text))
        if not commit:
            raise FigureError(f"{path}: no '* commit:' line")
        self.commit = commit.group(1)
        self.cores, self.load = self.find(
            r"^\* machine: (\d+) cores.*load average at the end ([\d.]+ [\d.]+ [\d.]+)",
            "'* machine:' line with the load average")

    def find(self, pattern: str, what: str) -> tuple:
        """The groups of the first match of `pattern` (multiline), or FigureError."""
        m = re.search(pattern, self.text, re.M)
        if not m:
            raise FigureError(f"{self.path}: no {what} (pattern {pattern!r}): was the "
                              "figure written by an older or newer script? rerun it")
        return m.groups()

    def row(self, name: str) -> dict:
        """A row of bench_tools.py's results table: wall, cpu, throughput, rss."""
        wall, cpu, tput, rss = self.find(
            rf"^{re.escape(name)}\s{{2,}}\d+\s+(\S+ s)\s+(\S+ s|-)\s+([\d,]+ \S+/s|-)\s+([\d.]+ MB|-)$",
            f"row '{name}' in its results table")
        return {"wall": wall, "cpu": cpu, "tput": tput, "rss": rss}

    def source(self) -> str:
        return f"[{self.path.stem}]({self.link})"

    def stamp(self) -> str:
        return (f"[{self.link}]({self.link}): `{self.command}` on {self.when}, commit "
                f"{self.commit}, {self.cores} cores, load average {self.load}")


def ge(text: str) -> str:
    """The figure's ASCII bounds as the README prints them: >= 2x as ≥ 2×."""
    return re.sub(r"(\d)x\b", "\\1×", text.replace(">=", "≥").replace("<=", "≤"))


def dns_rows(fig: Figure) -> list:
    """Issue 16.1: the audit's question rate against dnsperf's, both on the same nsd, and
    with 20 ms answers against dnsperf through the same delaying proxy."""
    audit, perf, share, want, result = fig.find(
        r"^dns: audit q/s / dnsperf q/s \(same nsd\)\s+([\d,]+) / ([\d,]+) = (\d+%)\s+(\S+ \d+%)\s+(PASS|FAIL)$",
        "'dns: audit q/s / dnsperf q/s' target line")
    rows = [("DNS: audit of every domain, nsd on loopback", f"{audit} q/s = {share} of dnsperf",
             f"dnsperf: {perf} q/s", f"{ge(want)} of dnsperf: {result}")]
    for conc in (256, 1024):
        got, want, result = fig.find(
            rf"^dns: 20 ms answers, --concurrency {conc}\s+([\d,]+ q/s = \d+%)\s+(\S+ \d+% of [\d,]+ q/s)\s+(PASS|FAIL)$",
            f"'dns: 20 ms answers, --concurrency {conc}' target line")
        ref, = fig.find(rf"^dns dnsperf delayed c{conc}: ([\d,]+ q/s = \d+%) of ",
                        f"'dns dnsperf delayed c{conc}' line")
        rows.append((f"DNS: 20 ms answers, `--concurrency {conc}`", got,
                     f"dnsperf through the same proxy: {ref}", f"{ge(want)}: {result}"))
    return rows


def domeval_rows(fig: Figure) -> list:
    """Issue 16.2: the audit of the world's postfix log over nsd (evaluation once per domain),
    and the same pairs answered from the zone files with no network."""
    size, = fig.find(r"^evaluation bench: .*, (\S+) postfix log", "'evaluation bench:' line")
    runs, pairs, domains = fig.find(r"^median of (\d+) runs, .*the log holds (\d+) pairs, (\d+) domains:",
                                    "'median of N runs' line of bench-domeval.sh")
    rows = []
    for key, what in (("audit maillog (nsd)", f"Audit of a {size} postfix log ({int(pairs):,} pairs, "
                                               f"{int(domains):,} domains), nsd on loopback"),
                      ("audit pairs.csv (--zone --offline)", "The same pairs evaluated from zone "
                                                             "files (`--offline`, no network)")):
        wall, stage, rss = fig.find(rf"^median {re.escape(key)}\s+([\d.]+) s\s+(\S+) s\s+([\d.]+) MB$",
                                    f"'median {key}' line")
        rows.append((what, f"{wall} s wall ({stage} s resolving), {rss} MB peak RSS",
                     "—", "—"))
    rows[0] = rows[0][:3] + ("peak RSS ≤ 100 MB on the 1 GB log",)
    return rows


def merge_rows(fig: Figure) -> list:
    """Issue 16.3: merging pairs files against a one-line mawk hash of the same files."""
    files, rows, pairs = fig.find(r"^merge: (\d+) files, (\d+) rows, (\d+) distinct pairs",
                                  "'merge: N files' line of bench-merge.sh")
    got = {}
    for key in ("repudiate scan", "mawk hash (reference)"):
        _, rate, rss = fig.find(rf"^\s+{re.escape(key)}\s+([\d.]+)\s+(\d+)\s+([\d.]+)$",
                                f"'{key}' row of the merge table")
        got[key] = f"{int(rate):,} rows/s, {rss} MB peak RSS"
    judged = re.search(r"target >= 10 M rows/s: (PASS|FAIL); target <= 200 MB per million pairs: (PASS|FAIL)",
                       fig.text)
    if judged:
        result = f"≥ 10 M rows/s: {judged[1]}; ≤ 200 MB per million pairs: {judged[2]}"
    else:
        fig.find(r"(\(--quick: targets not judged\))", "merge target line")
        result = "≥ 10 M rows/s, ≤ 200 MB per million pairs: not judged on --quick"
    return [(f"Merge of {int(files):,} pairs files ({int(rows):,} rows, {int(pairs):,} pairs)",
             got["repudiate scan"], f"mawk hash: {got['mawk hash (reference)']}", result)]


def scan_rows(fig: Figure) -> list:
    """Issue 6: scan against grep over the same file."""
    size, = fig.find(r"^\* workloads: gen.py --seed 1, (\S+)", "'* workloads:' line")
    rows = []
    for name, what, target in (("log", "postfix log", "scan / grep -c ' client='"),
                               ("mbox", "mbox", "scan / grep -c '^Received:'")):
        scan, grep = fig.row(f"{name} scan"), fig.row(f"{name} grep")
        ratio, want, result = fig.find(rf"^{re.escape(name + ': ' + target)}\s+(\S+x) \(cpu \S+\)\s+(\S+ \S+x)\s+(PASS|FAIL)$",
                                       f"'{name}: {target}' target line")
        rows.append((f"Scan of a {size} {what}", f"{scan['tput']}, {scan['rss']} peak RSS",
                     f"`{target.split(' / ')[1]}`: {grep['tput']}",
                     f"time {ge(want)} grep's ({ge(ratio)}): {result}"))
    return rows


def spf_ratio(fig: Figure) -> tuple:
    """Issue 11: the audit of the SPF world's mail with SPF against --no-spf."""
    return fig.find(r"^spf mail audit \(the target below\): SPF / --no-spf ([\d.]+)x wall, ([\d.]+)x cpu, "
                    r".*; peak RSS (\d+) MB$", "'spf mail audit (the target below)' line")


def spf_rows(fig: Figure) -> list:
    wall, cpu, rss = spf_ratio(fig)
    want, result = fig.find(r"^spf: mail audit, SPF / --no-spf\s+\S+ \(cpu \S+\)\s+(\S+ \S+x)\s+(PASS|FAIL)$",
                            "'spf: mail audit' target line")
    return [("SPF: audit of the SPF world's mail", f"{wall}× the wall time ({cpu}× CPU), {rss} MB peak RSS",
             "the same audit with `--no-spf`", f"{ge(want)}: {result}")]


def dates_rows(fig: Figure) -> list:
    """Issue 15: scan with dates against a build of the commit before them."""
    base, = fig.find(r"\bbase ([0-9a-f]{7,40}|given)\b", "base commit")
    size, = fig.find(r"\b(\S+) workload\b", "workload size")
    cells, verdicts = [], []
    for name in ("log", "mbox"):
        ratio, cpu, verdict = fig.find(rf"^{name}\s+\S+\s+\S+\s+([\d.]+)\s+\S+\s+\S+\s+([\d.]+)\s+\S+\s+\S+\s+(PASS|FAIL)$",
                                       f"'{name}' row of the dates table")
        cells.append(f"{name} {ratio}× ({cpu}× CPU)")
        verdicts.append(f"{name} {verdict}")
    return [(f"Dates: scan of the {size} workloads, time with dates", "; ".join(cells),
             f"the build before dates ({base})", f"≤ 1.10×: {', '.join(verdicts)}")]


# The table's rows, in order: (figure file, the function reading its rows).
TABLE = (
    ("bench-scale.md", dns_rows),
    ("bench-scale.md", domeval_rows),
    ("bench-scale.md", merge_rows),
    ("bench.md", scan_rows),
    ("bench-dns-spf.md", spf_rows),
    ("bench-dates.md", dates_rows),
)


def render_scale(figures) -> str:
    """The table of README's Performance section, then where each figure came from."""
    out = ["| Measured | repudiate | Reference, same run | Target: result | Figure |",
           "|---|---|---|---|---|"]
    used = []
    for name, rows in TABLE:
        fig = figures(name)
        if fig not in used:
            used.append(fig)
        for what, got, ref, target in rows(fig):
            out.append(f"| {what} | {got} | {ref} | {target} | {fig.source()} |")
    out.append("")
    out += [f"* {fig.stamp()}" for fig in used]
    return "\n".join(out)


def render_spf(figures) -> str:
    """The sentence of README's SPF paragraph that quotes the cost of SPF."""
    fig = figures("bench-dns-spf.md")
    wall, cpu, rss = spf_ratio(fig)
    return (f"{wall}× the wall time ({cpu}× the CPU) of `--no-spf` at {rss} MB peak, as "
            f"`{fig.command}` printed on {fig.when} ([{fig.link}]({fig.link}))")


BLOCKS = {"scale": render_scale, "spf": render_spf}
MARKERS = re.compile(r"(<!-- figures:(\w+) begin -->)(.*?)(<!-- figures:\2 end -->)", re.S)


def render(readme: str, figures) -> str:
    """README's text with every known block re-rendered; an unknown block name is an error.
    A block that starts with a new line is a paragraph (the table), else it is inline."""
    found = set()

    def block(m):
        name = m.group(2)
        if name not in BLOCKS:
            raise FigureError(f"README: unknown block 'figures:{name}' (known: {', '.join(BLOCKS)})")
        found.add(name)
        body = BLOCKS[name](figures)
        if m.group(3).startswith("\n"):
            body = f"\n{body}\n"
        return f"{m.group(1)}{body}{m.group(4)}"

    text = MARKERS.sub(block, readme)
    for name in BLOCKS:
        if name not in found:
            raise FigureError(f"README: no '<!-- figures:{name} begin -->' ... end block")
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 with a diff when README.md is stale")
    ap.add_argument("--readme", type=pathlib.Path, default=ROOT / "README.md")
    ap.add_argument("--figures", type=pathlib.Path, default=ROOT / "docs" / "figures")
    args = ap.parse_args()
    readme_dir = args.readme.resolve().parent
    cache = {}

    def figures(name):
        if name not in cache:
            path = (args.figures / name).resolve()
            link = (path.relative_to(readme_dir).as_posix() if path.is_relative_to(readme_dir)
                    else path.as_posix())
            cache[name] = Figure(path, link)
        return cache[name]

    try:
        old = args.readme.read_text(encoding="utf-8")
        new = render(old, figures)
    except (FigureError, OSError) as e:
        print(f"readme-figures: {e}", file=sys.stderr)
        return 1
    if new == old:
        print(f"readme-figures: {args.readme.name} matches the committed figures")
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                   f"{args.readme.name} (committed)",
                                                   "rendered from docs/figures/"))
        print(f"readme-figures: {args.readme.name} is stale: run scripts/readme-figures.py and "
              "commit the result", file=sys.stderr)
        return 1
    tmp = args.readme.with_suffix(".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(args.readme)
    print(f"readme-figures: rewrote {args.readme.name}'s figure blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())

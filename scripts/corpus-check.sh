#!/usr/bin/env bash
# Scans every set in ../shared/corpora that carries envelope senders and client IPs (mail
# archives and MTA logs nobody here wrote; SOURCES.md there describes them), reading the data
# by path and never copying it into the repository.
#
# Per set it prints how many records became pairs, were skipped (by reason, as `repudiate
# scan` reports them) or were unparseable (`malformed`). It fails on a panic, on an exit code
# other than 0 or 2, or when a set that should yield pairs yields none.
#
# It then enforces "a line a mail administrator would read as an accepted delivery must never
# be unparseable" with its own reading of the data, independent of the tool's extractors:
# per log set it selects the accepted deliveries with its own regexes (exim `<=` arrivals,
# sendmail `from=..., size=` lines, postfix messages: `client=`, qmgr `from=<...>, size=`,
# `removed`), writes those whose client is a valid IP (or that have no client: local) to a
# temporary file and runs `scan --strict` on it: the exit must be 0 and the tool must account
# for exactly as many records as the script selected. Accepted deliveries whose address is no
# IP (anonymised logs write `[ip4.ip4.ip4.ip4]`, `[123.456.789.1]`) must come out `malformed`,
# one each. For stored mail, every message with a Return-Path or a From_ sender and a Received
# header holding a public IP literal goes through `scan --strict` the same way.
#
# The per-set figures are also a Markdown table, the one docs/checks.md quotes:
# docs/figures/corpus-check.md. `--markdown` writes that file; without it (as .ci/run runs
# the script) the committed file must equal what this run prints, below its first line (which
# says who wrote it and when), so the documented figures cannot go stale: when the tool or
# the corpora change the counts, rerun with --markdown, read the diff, commit it.
#
# usage: scripts/corpus-check.sh [--markdown]   (REPUDIATE=path/to/binary to test another build)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=check
case "${1:-}" in
  --markdown) MODE=write ;;
  '') ;;
  *) echo "usage: scripts/corpus-check.sh [--markdown]" >&2; exit 1 ;;
esac
FIGURE=docs/figures/corpus-check.md
CORPORA=${REPUDIATE_SHARED:-../shared}/corpora
[ -d "$CORPORA" ] || { echo "corpus-check: $CORPORA not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "corpus-check: python3 is required" >&2; exit 1; }
BIN=${REPUDIATE:-target/release/repudiate}
[ -x "$BIN" ] || cargo build --release --locked --quiet
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

python3 - "$BIN" "$CORPORA" "$OUT" "$MODE" "$FIGURE" <<'PY'
import csv, glob, ipaddress, json, os, re, subprocess, sys

BIN, CORPORA, OUT, MODE, FIGURE = sys.argv[1:6]
failures = []
table = {}   # set name -> its row of the Markdown figure, filled as the checks run


def fail(msg):
    failures.append(msg)
    print(f"  FAIL {msg}")


# ---------------------------------------------------------------- running the tool

REASONS = ["local", "authenticated", "internal", "rejected", "incomplete", "malformed", "oversized"]


class Run:
    """One `repudiate scan`: CSV totals, skip counts and failed inputs from its stderr."""

    def __init__(self, tag, inputs, flags=()):
        self.csv = os.path.join(OUT, tag + ".csv")
        cmd = [BIN, "scan", "-o", self.csv, *flags, "--", *inputs]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
        self.rc = p.returncode
        self.stderr = p.stderr.decode("utf-8", "replace")
        self.kinds = {"pairs": 0, "null sender": 0, "no external hop": 0,
                      "no envelope sender": 0, "malformed sender": 0}
        self.rows = 0
        if os.path.exists(self.csv):
            with open(self.csv, newline="") as f:
                for r in csv.DictReader(f):
                    n, self.rows = int(r["messages"]), self.rows + 1
                    if r["domain"] == "<>": self.kinds["null sender"] += n
                    elif r["domain"] == "": self.kinds["no envelope sender"] += n
                    elif r["ip"] == "": self.kinds["no external hop"] += n
                    elif not re.fullmatch(r"[a-z0-9.-]+", r["domain"]): self.kinds["malformed sender"] += n
                    else: self.kinds["pairs"] += n
            os.unlink(self.csv)
        lines = self.stderr.splitlines()
        self.skipped = {}
        for l in lines:
            m = re.fullmatch(r"    (\S+) +(\d+)", l)
            if m and m.group(1) in REASONS:
                self.skipped[m.group(1)] = int(m.group(2))
        self.errors = [l for l in lines if l.startswith("repudiate: ")]
        self.panicked = "panicked" in self.stderr or self.rc == 101
        # Counted once (docs/design.md §3): log records found in another file of the run, and files
        # that are byte-identical copies of another input (named with -v).
        m = re.search(r"^repudiate: (\d+) log records found in more than one file", self.stderr, re.M)
        self.repeated = int(m.group(1)) if m else 0
        self.copies = re.findall(r"^repudiate: (.*) is a byte-identical copy of .*; read once$",
                                 self.stderr, re.M)
        self.errors = [l for l in self.errors if not re.match(
            r"repudiate: (not mail|excluded|not regular files|reached twice|outgoing mail"
            r"|warning: |symlink loop: |  "
            r"|and \d+ more byte|\d+ log records found|.* is a byte-identical copy of)", l)]

    def messages(self):
        return sum(self.kinds.values())

    def records(self):
        return self.messages() + sum(self.skipped.values())

    def breakdown(self):
        parts = [(v, k) for k, v in self.kinds.items()] + [(v, k) for k, v in self.skipped.items()]
        return ", ".join(f"{v} {k}" for v, k in parts if v)

    def healthy(self, what, also_ok=()):
        if self.panicked or self.rc not in (0, 2, *also_ok):
            fail(f"{what}: exit {self.rc}" + (" (panic)" if self.panicked else ""))
            print("\n".join("    " + l for l in self.stderr.splitlines()[-10:]))
            return False
        return True


class Runs(Run):
    """One `repudiate scan` per file, added up: the script's selections are written one file
    per source file, and the exim test suite's logs repeat the same normalised lines
    (times, message ids) from file to file, which one run over them all counts once (a
    record read from two files of one run, docs/design.md §3). Each file on its own is what the
    script's count of that file's records describes."""

    def __init__(self, tag, inputs, flags=()):
        runs = [Run(f"{tag}.{i}", [p], flags) for i, p in enumerate(inputs)]
        self.rc = max([r.rc for r in runs] or [0])
        if any(r.rc == 0 for r in runs) and self.rc == 1 and len(runs) > 1:
            self.rc = 2
        self.stderr = "".join(r.stderr for r in runs)
        self.kinds = {k: sum(r.kinds[k] for r in runs) for k in (runs[0].kinds if runs else {})}
        self.rows = sum(r.rows for r in runs)
        self.skipped = {}
        for r in runs:
            for k, v in r.skipped.items():
                self.skipped[k] = self.skipped.get(k, 0) + v
        self.errors = [e for r in runs for e in r.errors]
        self.panicked = any(r.panicked for r in runs)
        self.repeated = sum(r.repeated for r in runs)
        self.copies = [c for r in runs for c in r.copies]


def report_set(name, inputs, expect_pairs, flags=()):
    """The whole set through the tool: pairs, skips by reason, unreadable inputs.
    `expect_pairs` is True, or the reason the set cannot yield any."""
    run = Run(name, inputs, flags)
    label = name + (f" ({' '.join(flags)})" if flags else "")
    print(f"corpus-check {label}: {run.records()} records -> "
          + ", ".join(f"{v} {k}" for k, v in run.kinds.items() if v or k == "pairs")
          + f" ({run.rows} distinct rows)")
    skipped = ", ".join(f"{run.skipped[r]} {r}" for r in REASONS if run.skipped.get(r))
    print(f"  skipped: {skipped or 'none'}; unparseable (malformed): {run.skipped.get('malformed', 0)};"
          f" inputs not read (exit {run.rc}): {len(run.errors)}")
    for l in run.errors[:5]:
        print("   ", l)
    table[name] = {"flags": flags, "run": run, "accepted": "–", "no_ip": "–"}
    if run.healthy(name) and expect_pairs is True and run.kinds["pairs"] == 0:
        fail(f"{name}: no pairs")
    elif expect_pairs is not True:
        print(f"  no pairs expected: {expect_pairs}")


def strict_check(name, good, bad, what):
    """`good` must go through --strict with every record accounted for; `bad` (no IP where
    one belongs) must come out malformed, one record each."""
    n_good, n_bad = len(good.records), len(bad.records)
    print(f"  {what}: {n_good} with an IP client or none (local), {n_bad} whose address is no IP")
    table[name].update(accepted=n_good, no_ip=n_bad)
    if n_good:
        run = Runs(name + ".strict", good.paths(), ["--strict"])
        # --strict stops at the first malformed record: exit 2, or 1 when it was the only input.
        if run.healthy(name + " --strict", also_ok=(1,)):
            if run.rc != 0:
                fail(f"{name}: scan --strict exit {run.rc} on {what}")
                for e in run.errors[:3]:
                    print("   ", e)
                    m = re.match(r"repudiate: (.*): line (\d+): ", e)
                    if m:
                        print("    the line:", good.line(m.group(1), int(m.group(2))))
            elif run.records() != n_good:
                fail(f"{name}: the tool accounts for {run.records()} records, the script selected {n_good}")
            else:
                print(f"    --strict: exit 0, all {n_good} accounted for: {run.breakdown()}")
    if n_bad:
        run = Runs(name + ".noip", bad.paths())
        got = run.skipped.get("malformed", 0)
        if run.healthy(name + " (no-IP lines)") and (got != n_bad or run.records() != n_bad):
            fail(f"{name}: {n_bad} accepted deliveries with no IP, the tool calls {got} of "
                 f"{run.records()} records malformed")
        for r in bad.records[:3]:
            print("    e.g.", r[-1][2][:200])


# ---------------------------------------------------------------- log lines, read here

# Syslog as a mail admin reads it, with the `<facility.level>` some syslogds write after the
# time (fail2ban's sendmail-reject has such lines).
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
SYSLOG = re.compile(
    r"(?:<\d{1,3}>)?(?:" + MONTH + r" +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:?\d\d)?)"
    r" +(?:<\w+\.\w+> +)?(?:(\S+) +)?([^\s\[:]+)(?:\[(\d*)\])?: ?(.*)")
EXIM_MAINLOG = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})?(?: \[\d+\])? (.*)")
EXIM_ID = r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}"
EXIM_ARRIVAL = re.compile(EXIM_ID + r" <= .*")
EXIM_HOST = re.compile(r" H=(?:[^\s(\[]+ )?(?:\([^)]*\) )?\[([^\]]*)\]")
SENDMAIL_FROM = re.compile(r"([0-9A-Za-z]{8,}): from=.*?, size=")
POSTFIX_CLIENT = re.compile(r"([0-9A-Za-z]{5,}): client=[^\[\s]*\[([^\]]*)\]")
POSTFIX_QMGR = re.compile(r"([0-9A-Za-z]{5,}): from=<.*>, size=\d")
POSTFIX_REMOVED = re.compile(r"([0-9A-Za-z]{5,}): removed")


def is_ip(text):
    text = text[5:] if text[:5].lower() == "ipv6:" else text
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class Selection:
    """Records picked by the script; each is a list of (file, line number, text)."""

    def __init__(self, tag):
        self.tag, self.records = tag, []

    def paths(self):
        """Writes the selected lines, in their original order, one file per source file."""
        out, by_file = [], {}
        for rec in self.records:
            for f, n, text in rec:
                by_file.setdefault(f, []).append((n, text))
        for i, (f, lines) in enumerate(by_file.items()):
            path = os.path.join(OUT, f"{self.tag}.{i}.log")
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as w:
                for _, text in sorted(lines):
                    w.write(text + "\n")
            out.append(path)
        return out

    def line(self, path, n):
        lines = read_lines(path) if os.path.exists(path) else []
        return lines[n - 1] if 0 < n <= len(lines) else f"(line {n} of {path})"


def read_lines(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "surrogateescape").splitlines()


def select_deliveries(name, files):
    """Accepted deliveries per the script's own regexes, split by whether the client is an IP."""
    good, bad = Selection(name + ".accepted"), Selection(name + ".noip")
    for path in files:
        postfix = {}   # (host, qid) -> current message: {"client": ..., "lines": [...], "accepted": bool}
        messages = []
        for n, text in enumerate(read_lines(path), 1):
            entry = (path, n, text)
            m = SYSLOG.fullmatch(text)
            program, host, msg = (m.group(2), m.group(1) or "", m.group(4)) if m else (None, "", None)
            if m is None and (e := EXIM_MAINLOG.fullmatch(text)):
                program, msg = "exim", e.group(1)
            if program is None:
                continue
            if program in ("exim", "exim4"):
                if EXIM_ARRIVAL.fullmatch(msg):
                    h = EXIM_HOST.search(msg)
                    if h is None and " H=" in msg:
                        bad.records.append([entry])
                    else:
                        (good if h is None or is_ip(h.group(1)) else bad).records.append([entry])
            elif program == "sendmail" or program.startswith("sm-"):
                if SENDMAIL_FROM.match(msg) and ", nrcpts=0," not in msg:
                    relays = re.findall(r"(?:^|, )relay=([^,]*)", msg)
                    lit = re.search(r"\[([^\]]*)\]", relays[-1]) if relays else None
                    (good if lit is None or is_ip(lit.group(1)) else bad).records.append([entry])
            elif program.startswith("postfix"):
                service = program.rsplit("/", 1)[-1]
                if service == "smtpd" and (c := POSTFIX_CLIENT.match(msg)):
                    rec = {"client": c.group(2), "lines": [entry], "accepted": False}
                    postfix[(host, c.group(1))] = rec
                    messages.append(rec)
                elif service == "qmgr" and (q := POSTFIX_QMGR.match(msg)):
                    rec = postfix.get((host, q.group(1)))
                    if rec is None:
                        rec = postfix[(host, q.group(1))] = {"client": None, "lines": [], "accepted": False}
                        messages.append(rec)
                    rec["lines"].append(entry)
                    rec["accepted"] = True
                elif (r := POSTFIX_REMOVED.match(msg)) and (host, r.group(1)) in postfix:
                    postfix.pop((host, r.group(1)))["lines"].append(entry)
        for rec in messages:
            if rec["accepted"]:
                ok = rec["client"] is None or is_ip(rec["client"])
                (good if ok else bad).records.append(rec["lines"])
    return good, bad


def check_log_set(name, files, expect_pairs, flags=()):
    report_set(name, files, expect_pairs, flags)
    good, bad = select_deliveries(name, files)
    strict_check(name, good, bad, "accepted deliveries")


# ---------------------------------------------------------------- stored mail, read here

FROM_LINE = re.compile(rb"From \S.*\d\d:\d\d(?::\d\d)?.*\d{4}\s*")
IP_LITERAL = re.compile(r"[\[(](?:IPv6:)?([0-9A-Fa-f.:]{3,45})[\])]")


def split_messages(data):
    """(From_ line or None, message bytes) for a file: an mbox when it starts with a dated
    From_ line (a new message at each such line after an empty one), else one message."""
    lines = data.splitlines(keepends=True)
    if not lines or not FROM_LINE.fullmatch(lines[0].rstrip(b"\r\n")):
        return [(None, data)]
    out, start, prev_blank = [], 0, True
    for i, l in enumerate(lines):
        if prev_blank and FROM_LINE.fullmatch(l.rstrip(b"\r\n")) and i > start:
            out.append(b"".join(lines[start:i]))
            start = i
        prev_blank = l in (b"\n", b"\r\n")
    out.append(b"".join(lines[start:]))
    return [(m.split(b"\n", 1)[0], m) for m in out]


def qualifies(from_line, message):
    """A sender (Return-Path, else From_) and a Received header with a public IP literal."""
    header = re.split(rb"\r?\n\r?\n", message, maxsplit=1)[0].decode("latin-1")
    if from_line is not None:
        header = header.split("\n", 1)[1] if "\n" in header else ""
    fields = re.split(r"\r?\n(?![ \t])", header)
    has_sender = from_line is not None or any(f[:12].lower() == "return-path:" for f in fields)
    public = False
    for f in fields:
        if f[:9].lower() == "received:":
            for lit in IP_LITERAL.findall(f):
                try:
                    public = public or ipaddress.ip_address(lit).is_global
                except ValueError:
                    pass
    return has_sender and public


NOT_MAIL = {"README", "SOURCES.md", "index.tsv", ".gitattributes"}


def check_mail_set(name, root, expect_pairs):
    report_set(name, [root], expect_pairs)
    inputs, count, total, per_file = [], 0, 0, {}
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        if os.path.basename(dirpath) == "tmp":
            continue
        for fn in sorted(files):
            if fn in NOT_MAIL or fn == "cmds":
                continue
            path = os.path.join(dirpath, fn)
            with open(path, "rb") as f:
                parts = split_messages(f.read())
            total += len(parts)
            chosen = [p for p in parts if qualifies(*p)]
            count += len(chosen)
            per_file[path] = len(chosen)
            if len(chosen) == len(parts) and chosen:
                inputs.append(path)
            elif chosen:
                sub = os.path.join(OUT, f"{name}.{len(inputs)}.mbox")
                with open(sub, "wb") as w:
                    for _, m in chosen:
                        w.write(m if m.endswith(b"\n") else m + b"\n")
                inputs.append(sub)
    print(f"  messages with a sender and a public Received IP: {count} of {total}")
    table[name]["accepted"] = count
    if not count:
        # Nothing to hold the rule against would make the check prove nothing.
        fail(f"{name}: no message with a sender and a public Received IP to check under --strict")
        return
    run = Run(name + ".strict", inputs, ["--strict", "-v"])
    # A byte-identical copy of another message file is read once, as it should be.
    count -= sum(per_file.get(c, 0) for c in run.copies)
    if run.healthy(name + " --strict", also_ok=(1,)):
        if run.rc != 0:
            fail(f"{name}: scan --strict exit {run.rc}")
            for e in run.errors[:3]:
                print("   ", e)
        elif run.records() != count:
            fail(f"{name}: the tool accounts for {run.records()} messages, the script selected {count}")
        else:
            print(f"    --strict: exit 0, all {count} accounted for: {run.breakdown()}")


# ---------------------------------------------------------------- line collections made into logs

def without_annotations(name, path):
    """fail2ban's test logs interleave `# failJSON:` and other comment lines with the log."""
    out = os.path.join(OUT, f"{name}.{os.path.basename(path)}.log")
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as w:
        for l in read_lines(path):
            if not l.startswith("#"):
                w.write(l + "\n")
    return out


def synthetic_log(name, cases):
    """(program, message) test cases as `Jan  1 00:00:00 host PROGRAM[1]: MESSAGE` lines."""
    out = os.path.join(OUT, f"{name}.log")
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as w:
        for program, message in cases:
            message = message.replace("\r", "\\r").replace("\n", "\\n")
            w.write(f"Jan  1 00:00:00 host {program}[1]: {message}\n")
    return out


def raw_log(name, lines):
    out = os.path.join(OUT, f"{name}.log")
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as w:
        w.writelines(l + "\n" for l in lines)
    return out


def yaml_scalar(text):
    text = text.strip()
    if text.startswith('"'):
        return json.loads(text)
    return text.strip("'")


# grok pattern names that are not postfix service names: what logs those messages.
GROK_SERVICE = {"tls_features": "smtpd", "command_counter_data": "smtpd", "delays": "smtp",
                "relay": "smtp", "trivial_rewrite": "trivial-rewrite"}


def grok_cases():
    for path in sorted(glob.glob(f"{CORPORA}/mtalog-postfix-grok-patterns/test/*.yaml")):
        fields = dict(l.split(":", 1) for l in read_lines(path) if re.match(r"(pattern|data):", l))
        pattern = re.search(r"POSTFIX_(\w+)", fields["pattern"]).group(1).lower()
        yield "postfix/" + GROK_SERVICE.get(pattern, pattern), yaml_scalar(fields["data"])


def sekoia_cases():
    """Cases with an appname first; the `wo_appname_*` cases mostly repeat their messages
    without it, and the rest take the daemon their file name gives, else plain `postfix`."""
    services = {"anvil", "cleanup", "local", "pickup", "pipe", "qmgr", "smtp", "smtpd", "error"}
    cases = []
    for path in sorted(glob.glob(f"{CORPORA}/mtalog-sekoia-postfix/tests/*.json")):
        case = json.load(open(path))["input"]
        app = case.get("log", {}).get("syslog", {}).get("appname")
        if not app:
            stem = re.sub(r"\d+$", "", os.path.basename(path)[:-5].replace("wo_appname_", ""))
            app = "postfix/" + stem if stem in services else "postfix"
        cases.append((path.rsplit("/", 1)[1].startswith("wo_appname_"), app, case["message"]))
    seen = set()
    for _, app, message in sorted(cases, key=lambda c: c[0]):
        if message not in seen:
            seen.add(message)
            yield app, message


def wazuh_lines():
    for ini in ("exim.ini", "postfix.ini"):
        for l in read_lines(f"{CORPORA}/mtalog-wazuh-ruleset-tests/{ini}"):
            if m := re.match(r"log \d+ pass = (.*)", l):
                yield m.group(1)


# ---------------------------------------------------------------- the sets

C = CORPORA
F2B = f"{C}/mtalog-fail2ban"
CROWDSEC = sorted(glob.glob(f"{C}/mtalog-crowdsec-hub/*/*.log"))
REJECTS = ["--include-rejected"]   # line collections of refused attempts: count them as pairs

check_mail_set("spamassassin", f"{C}/spamassassin-public-corpus", True)
check_mail_set("usrp-users", f"{C}/mail-usrp-users-public-inbox", True)
check_mail_set("notmuch", f"{C}/mail-notmuch-corpora", True)
check_mail_set("spamscope-headers", f"{C}/mail-spamscope-headers", True)
check_mail_set("ruby-mail", f"{C}/mail-ruby-mail-fixtures", True)
check_mail_set("perceval-mbox", f"{C}/mail-perceval-mbox", True)
check_mail_set("perl-mail-box", f"{C}/mail-perl-mail-box", True)

check_log_set("pixelpark-postfix", [f"{C}/mtalog-pixelpark-postfix/mail.log"], True)
check_log_set("parse-syslog-mail", sorted(glob.glob(f"{C}/mtalog-parse-syslog-mail/*.log")), True)
check_log_set("exim-testsuite", sorted(glob.glob(f"{C}/mtalog-exim-testsuite/log/*")), True)
check_log_set("fail2ban-postfix", [without_annotations("f2b", f"{F2B}/postfix")], True, REJECTS)
check_log_set("fail2ban-sendmail", [without_annotations("f2b", f"{F2B}/{f}")
                                    for f in ("sendmail-reject", "sendmail-auth")], True, REJECTS)
check_log_set("fail2ban-exim", [without_annotations("f2b", f"{F2B}/{f}")
                                for f in ("exim", "exim-spam")], True, REJECTS)
# Every crowdsec postfix line that names a sender comes from 192.168.1.1.
check_log_set("crowdsec-postfix", [p for p in CROWDSEC if re.search(r"/post(fix|screen)-", p)], True,
              REJECTS + ["--no-skip-private"])
check_log_set("crowdsec-exim", [p for p in CROWDSEC if "/exim-" in p], True, REJECTS)
check_log_set("postfix-grok-patterns", [synthetic_log("grok", grok_cases())], True, REJECTS)
check_log_set("sekoia-postfix", [synthetic_log("sekoia", sekoia_cases())],
              "its refused attempts are `NOQUEUE: filter`, its one client= has no qmgr line", REJECTS)
check_log_set("wazuh-exim-postfix", [raw_log("wazuh", wazuh_lines())], True, REJECTS)

# ---------------------------------------------------------------- the figure docs/checks.md quotes

def num(n):
    return f"{n:,}" if isinstance(n, int) else n


def markdown():
    """The per-set table; only what this run measured, in the order the sets ran."""
    notes = {"--include-rejected": "refused attempts counted as pairs (`--include-rejected`)",
             "--no-skip-private": "private clients are foreign (`--no-skip-private`)"}
    marks = {flag: "¹²³⁴⁵"[i] for i, flag in enumerate(notes)}
    out = ["| set | records | pairs (and `unknown` rows) | skipped | malformed | inputs not read "
           "| accepted, `--strict` clean | accepted, no IP |",
           "|---|---:|---|---|---:|---:|---:|---:|"]
    other = {"null sender": "null", "no external hop": "no hop",
             "no envelope sender": "no sender", "malformed sender": "bad sender"}
    for name, row in table.items():
        run = row["run"]
        label = name + "".join(marks.get(f, "") for f in row["flags"])
        extra = ", ".join(f"{num(run.kinds[k])} {short}" for k, short in other.items() if run.kinds[k])
        pairs = num(run.kinds["pairs"]) + (f" (+{extra})" if extra else "")
        skipped = ", ".join(f"{num(run.skipped[r])} {r}" for r in REASONS
                            if r != "malformed" and run.skipped.get(r)) or "–"
        out.append(f"| {label} | {num(run.records())} | {pairs} | {skipped} "
                   f"| {num(run.skipped.get('malformed', 0))} | {num(len(run.errors))} "
                   f"| {num(row['accepted'])} | {num(row['no_ip'])} |")
    used = [f for f in notes if any(f in row["flags"] for row in table.values())]
    if used:
        out.append("")
        out.append(" ".join(f"{marks[f]} {notes[f]}." for f in used))
    return "\n".join(out) + "\n"


body = markdown()
sys.path.insert(0, "scripts")
from figures import write_or_check
if not write_or_check(FIGURE, body, "scripts/corpus-check.sh", MODE == "write"):
    fail(f"{FIGURE} does not match this run")

if failures:
    print(f"corpus-check: {len(failures)} failure(s):")
    for f in failures:
        print("  ", f)
    sys.exit(1)
print("corpus-check: all sets pass")
PY

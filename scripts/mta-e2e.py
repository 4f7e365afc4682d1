#!/usr/bin/env python3
"""The plan of scripts/mta-e2e.sh: which messages real MTAs receive, how they are sent, and
what `repudiate scan` must extract from the logs and mailboxes the MTAs wrote.

The expectations are derived from the plan alone, with docs/design.md §3's rules written out here
(which hops are internal, what a perimeter hop is, how a null sender is spelled), never from
an earlier run of the tool.

  send   --postfix PORT --perimeter PORT --exim PORT ...  speak SMTP to the MTAs
  wait   --work DIR --exim-bin EXIM                      until every queue has drained
  check  --bin REPUDIATE --work DIR                      run scan, compare with the plan
  addresses                                              exim's client addresses
"""

import argparse
import base64
import csv
import io
import ipaddress
import re
import smtplib
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Optional

# The perimeter relay's address (scripts/mta-e2e.sh binds it on lo inside the namespace).
PERIMETER_ADDR = "198.51.100.25"
LOOPBACK = "127.0.0.1"
INBOX = "inbox@site.example"
ARCHIVE = "archive@site.example"


@dataclass(frozen=True)
class Client:
    """The SMTP client: set with XCLIENT for postfix; for exim, the address it connects from."""

    addr: str
    name: str
    helo: str


@dataclass(frozen=True)
class Msg:
    id: str
    # "postfix": straight into the main postfix instance; "perimeter": into the perimeter
    # instance, which relays it to the main one from PERIMETER_ADDR; "exim": into exim.
    mta: str
    sender: str  # the MAIL FROM address without brackets; "" is the null sender
    domain: str  # what the report must say: lowercased A-labels, "<>" for the null sender
    client: Optional[Client]  # None: the real loopback connection, nothing overridden
    rcpts: tuple = (INBOX,)
    refused: tuple = ()  # recipients the MTA must refuse at RCPT (sent after rcpts)
    smtputf8: bool = False
    login: Optional[str] = None  # XCLIENT LOGIN=: the client authenticated (a site user)
    source_route: str = ""  # "@hop.example:" prefixed to the MAIL FROM path


def c(addr, name, helo=None):
    return Client(addr, name, helo or name)


PLAN = [
    # Several sender domains; the same (domain, client) twice counts 2; mixed case folds.
    Msg("pf-01", "postfix", "alice@Example.ORG", "example.org", c("203.0.113.7", "mail.sender.example")),
    Msg("pf-02", "postfix", "bob@example.org", "example.org", c("203.0.113.7", "mail.sender.example")),
    Msg("pf-03", "postfix", "carol@example.org", "example.org", c("203.0.113.8", "mail2.sender.example")),
    Msg("pf-04", "postfix", "", "<>", c("192.0.2.44", "mail.bounce.example", "bounce.example.net")),
    # IDN: UTF-8 over SMTPUTF8, and an A-label sent as such; both must come out as A-labels.
    Msg("pf-05", "postfix", "jörg@bücher.example", "xn--bcher-kva.example",
        c("203.0.113.20", "mx.xn--bcher-kva.example"), smtputf8=True),
    Msg("pf-06", "postfix", "info@xn--mnchen-3ya.example", "xn--mnchen-3ya.example",
        c("203.0.113.21", "mail.xn--mnchen-3ya.example")),
    # A quoted local part holding a space (and an @ would be legal there too).
    Msg("pf-07", "postfix", '"john smith"@example.org', "example.org",
        c("198.51.100.77", "smtp.example.org")),
    # Forwarders' rewritten senders: the domain is the forwarder's, after the last @.
    Msg("pf-08", "postfix", "SRS0=HHH=TT=orig.example=user@fwd.example", "fwd.example",
        c("192.0.2.10", "", "relay.fwd.example")),
    Msg("pf-09", "postfix", "prvs=1234abcd=user@example.net", "example.net",
        c("192.0.2.11", "out.example.net")),
    Msg("pf-10", "postfix", "ops@v6.example", "v6.example", c("2001:db8::25", "mail.v6.example")),
    # Two recipients: one message in the log, one copy per mailbox.
    Msg("pf-11", "postfix", "news@lists.example", "lists.example",
        c("203.0.113.30", "lists.example"), rcpts=(INBOX, ARCHIVE)),
    # A local process on loopback, and a client in a private range: internal, no pair.
    Msg("pf-12", "postfix", "cron@site-internal.example", "site-internal.example", None),
    Msg("pf-13", "postfix", "user@private-client.example", "private-client.example",
        c("10.20.30.40", "desk.private-client.example")),
    # Refused at RCPT before any queue file: a NOQUEUE reject, no message.
    Msg("pf-14", "postfix", "spam@spammer.example", "spammer.example",
        c("203.0.113.66", "dyn-66.spammer.example"), rcpts=(), refused=("nobody@site.example",)),
    # One recipient accepted, one refused: the message arrives once.
    Msg("pf-15", "postfix", "partial@example.com", "example.com",
        c("203.0.113.67", "mail.example.com"), refused=("nobody@site.example",)),
    # An authenticated submission (SASL login set with XCLIENT): a site user, skipped.
    Msg("pf-16", "postfix", "roaming@site.example", "site.example",
        c("203.0.113.90", "hotel-wifi.example"), login="roaming"),
    # A source route in MAIL FROM: the route is dropped, the domain is the mailbox's.
    Msg("pf-17", "postfix", "user@routed.example", "routed.example",
        c("203.0.113.91", "mail.routed.example"), source_route="@hop1.example,@hop2.example:"),
    # Through the perimeter relay: with --perimeter the original client must be reported.
    Msg("pm-01", "perimeter", "partner@Partner.example", "partner.example",
        c("203.0.113.50", "mx.partner.example")),
    Msg("pm-02", "perimeter", "", "<>", c("192.0.2.99", "bounces.example.com")),
    Msg("pm-03", "perimeter", "partner@partner.example", "partner.example",
        c("203.0.113.50", "mx.partner.example")),
    # exim: the clients really connect from these addresses (bound on lo in the namespace);
    # with no reverse DNS there, exim logs only the HELO and the address (the name is unused).
    Msg("ex-01", "exim", "alice@Example.ORG", "example.org", c("203.0.113.7", "mail.sender.example")),
    Msg("ex-02", "exim", "bob@example.org", "example.org", c("203.0.113.7", "mail.sender.example")),
    Msg("ex-03", "exim", "", "<>", c("192.0.2.44", "", "bounce.example.net")),
    Msg("ex-04", "exim", "jörg@bücher.example", "xn--bcher-kva.example",
        c("203.0.113.20", "mx.xn--bcher-kva.example"), smtputf8=True),
    Msg("ex-05", "exim", '"john smith"@example.org', "example.org",
        c("198.51.100.77", "smtp.example.org")),
    Msg("ex-06", "exim", "SRS0=HHH=TT=orig.example=user@fwd.example", "fwd.example",
        c("192.0.2.10", "", "relay.fwd.example")),
    Msg("ex-07", "exim", "prvs=1234abcd=user@example.net", "example.net",
        c("192.0.2.11", "out.example.net")),
    Msg("ex-08", "exim", "ops@v6.example", "v6.example", c("2001:db8::26", "mail.v6.example")),
    Msg("ex-09", "exim", "news@lists.example", "lists.example",
        c("203.0.113.30", "lists.example"), rcpts=(INBOX, ARCHIVE)),
    Msg("ex-10", "exim", "cron@site-internal.example", "site-internal.example", None),
    Msg("ex-11", "exim", "user@private-client.example", "private-client.example",
        c("10.20.30.41", "", "desk.private-client.example")),
    Msg("ex-12", "exim", "roaming@site.example", "site.example",
        c("203.0.113.90", "", "hotel-wifi.example"), login="roaming"),
    # Refused at RCPT: a "rejected RCPT" line, an attempt, no message.
    Msg("ex-13", "exim", "spam@spammer.example", "spammer.example",
        c("203.0.113.66", "", "dyn-66.spammer.example"), rcpts=(), refused=("nobody@site.example",)),
    # Submitted on the host (exim -f ... on the command line): P=local, no client at all.
    Msg("ex-14", "exim-local", "backup@site.example", "site.example", None),
]

# docs/design.md §3: the ranges that are never an external client. Documentation and benchmarking
# ranges are public on purpose, so this is not ipaddress's is_global.
PRIVATE_NETS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "169.254.0.0/16", "fe80::/10", "fc00::/7")]


def is_internal(addr, perimeter):
    ip = ipaddress.ip_address(addr)
    if ip.is_loopback or any(ip in n for n in PRIVATE_NETS):
        return True
    return perimeter and ip == ipaddress.ip_address(PERIMETER_ADDR)


def client_addr(m):
    if m.mta == "exim-local":
        return None
    if m.client:
        return m.client.addr
    return LOOPBACK


def exim_clients():
    """The planned addresses exim's clients connect from."""
    return sorted({m.client.addr for m in PLAN if m.mta == "exim" and m.client})


def delivered(m):
    return len(m.rcpts) > 0


# ---------------------------------------------------------------- expectations


class Expect:
    def __init__(self):
        self.pairs = Counter()
        self.skipped = Counter()

    def observe(self, domain, ip):
        self.pairs[(domain, ip)] += 1

    def add(self, other):
        self.pairs.update(other.pairs)
        self.skipped.update(other.skipped)
        return self


def expect_postfix_log(instance, perimeter=False, include_rejected=False):
    """What one postfix instance's log must yield: one record per queue file from a
    client, one attempt per recipient refused before a queue file existed."""
    e = Expect()
    for m in PLAN:
        if instance == "main" and m.mta == "perimeter":
            # The perimeter relay is the client the main instance saw.
            hop = PERIMETER_ADDR
        elif m.mta == ("postfix" if instance == "main" else "perimeter"):
            hop = client_addr(m)
        else:
            continue
        if not delivered(m):
            for _ in m.refused:
                if include_rejected:
                    e.observe(m.domain, hop)
                else:
                    e.skipped["rejected"] += 1
            continue
        if m.login:
            e.skipped["authenticated"] += 1
        elif is_internal(hop, perimeter):
            e.skipped["internal"] += 1
        else:
            e.observe(m.domain, hop)
    return e


def expect_exim_log(include_rejected=False, null_helo=False):
    """What exim's mainlog must yield: one arrival line (`<=`) per message, one refused
    attempt per `rejected RCPT` line (docs/design.md §3). The arrival line records the HELO
    (`H=(helo) [ip]`), so `--null-sender helo` can use it."""
    e = Expect()
    for m in PLAN:
        if m.mta == "exim-local":
            e.skipped["local"] += 1
        elif m.mta != "exim":
            continue
        elif not delivered(m):
            for _ in m.refused:
                if include_rejected:
                    e.observe(m.domain, client_addr(m))
                else:
                    e.skipped["rejected"] += 1
        elif m.login:
            e.skipped["authenticated"] += 1
        elif is_internal(client_addr(m), False):
            e.skipped["internal"] += 1
        elif null_helo and m.domain == "<>":
            e.observe(m.client.helo.lower(), client_addr(m))
        else:
            e.observe(m.domain, client_addr(m))
    return e


def received_hops(m):
    """Connecting addresses in the delivered copy's Received headers, newest first."""
    if m.mta == "perimeter":
        return [PERIMETER_ADDR, client_addr(m)]
    if m.mta == "exim-local":
        return []
    return [client_addr(m)]


def expect_mbox(mta, perimeter=False, null_helo=False):
    """What the delivered copies must yield: the first Received hop that is not internal."""
    e = Expect()
    for m in PLAN:
        if not m.mta.startswith(mta) and not (mta == "postfix" and m.mta == "perimeter"):
            continue
        for _ in m.rcpts:
            if m.login:
                e.skipped["authenticated"] += 1
                continue
            external = [a for a in received_hops(m) if not is_internal(a, perimeter)]
            ip = external[0] if external else ""
            domain = m.domain
            if null_helo and domain == "<>" and external:
                domain = m.client.helo.lower()
            e.observe(domain, ip)
    return e


# ---------------------------------------------------------------- sending


def expect_reply(smtp, cmd, args, want):
    smtp.putcmd(cmd, args)
    code, text = smtp.getreply()
    if code // 100 != want // 100 or (want % 100 and code != want):
        raise SystemExit(f"mta-e2e: {cmd} {args} -> {code} {text!r}, wanted {want}")
    return code


def body(m):
    # The header From differs from the envelope on purpose: only the envelope counts. The
    # body line starting with "From " must be quoted in the mbox, not split off.
    return (
        f"From: Someone <header-from@header-only.example>\r\n"
        f"To: {INBOX}\r\n"
        f"Subject: mta-e2e {m.id}\r\n"
        f"Message-ID: <{m.id}@mta-e2e.test>\r\n"
        f"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
        f"\r\n"
        f"Plan message {m.id}.\r\n"
        f"\r\n"
        f"From the plan of scripts/mta-e2e.py.\r\n"
    ).encode()


def send_postfix(port, m):
    smtp = smtplib.SMTP(LOOPBACK, port, local_hostname="sender.loopback", timeout=30)
    smtp.ehlo()
    if m.client:
        addr = m.client.addr
        if ":" in addr:
            addr = "IPv6:" + addr
        name = m.client.name or "[UNAVAILABLE]"
        args = f"ADDR={addr} NAME={name} HELO={m.client.helo}"
        if m.login:
            args += f" LOGIN={m.login}"
        expect_reply(smtp, "XCLIENT", args, 220)
        smtp.ehlo(m.client.helo)
    transact(smtp, m)


def send_exim(port, m):
    addr = client_addr(m)
    server = "::1" if ":" in addr else LOOPBACK
    source = (addr, 0) if m.client else None
    helo = m.client.helo if m.client else "sender.loopback"
    smtp = smtplib.SMTP(local_hostname=helo, timeout=30, source_address=source)
    smtp.connect(server, port)
    smtp.ehlo()
    if m.login:
        token = base64.b64encode(f"\0{m.login}\0secret".encode()).decode()
        expect_reply(smtp, "AUTH", f"PLAIN {token}", 235)
    transact(smtp, m)


def submit_exim_local(binary, conf, m):
    """A message submitted on the host: exim reads it from standard input (P=local)."""
    subprocess.run([binary, "-C", conf, "-odi", "-f", m.sender, *m.rcpts], input=body(m),
                   check=True)


def transact(smtp, m):
    path = f"<{m.source_route}{m.sender}>"
    if m.smtputf8:
        smtp.command_encoding = "utf-8"
        expect_reply(smtp, "MAIL", f"FROM:{path} SMTPUTF8", 250)
    else:
        expect_reply(smtp, "MAIL", f"FROM:{path}", 250)
    for r in m.rcpts:
        expect_reply(smtp, "RCPT", f"TO:<{r}>", 250)
    for r in m.refused:
        expect_reply(smtp, "RCPT", f"TO:<{r}>", 500)
    if m.rcpts:
        code, text = smtp.data(body(m))
        if code != 250:
            raise SystemExit(f"mta-e2e: DATA for {m.id} -> {code} {text!r}")
    else:
        expect_reply(smtp, "RSET", "", 250)
    smtp.quit()


def cmd_send(args):
    for m in PLAN:
        if m.mta == "postfix":
            send_postfix(args.postfix, m)
        elif m.mta == "perimeter":
            send_postfix(args.perimeter, m)
        elif m.mta == "exim":
            send_exim(args.exim, m)
        elif m.mta == "exim-local":
            submit_exim_local(args.exim_bin, args.exim_conf, m)
    print(f"mta-e2e: sent {len(PLAN)} planned SMTP transactions")


# ---------------------------------------------------------------- waiting


def queue_files(instance):
    if instance == "main":
        return sum(1 for m in PLAN if m.mta in ("postfix", "perimeter") and delivered(m))
    return sum(1 for m in PLAN if m.mta == "perimeter" and delivered(m))


REMOVED = re.compile(r": [0-9A-Za-z]+: removed$", re.M)


def postfix_drained(root, instance):
    out = subprocess.run(["postqueue", "-c", f"{root}/etc", "-p"], capture_output=True,
                         text=True).stdout
    try:
        log = open(f"{root}/maillog", encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        return False
    return "Mail queue is empty" in out and len(REMOVED.findall(log)) >= queue_files(instance)


def exim_drained(work, binary):
    out = subprocess.run([binary, "-C", f"{work}/exim/exim.conf", "-bpc"], capture_output=True,
                         text=True).stdout.strip()
    try:
        log = open(f"{work}/exim/log/mainlog", encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        return False
    planned = sum(1 for m in PLAN if m.mta.startswith("exim") and delivered(m))
    return out == "0" and log.count(" Completed") >= planned


def cmd_wait(args):
    w = args.work
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if (postfix_drained(f"{w}/postfix-main", "main")
                and postfix_drained(f"{w}/postfix-perimeter", "perimeter")
                and exim_drained(w, args.exim_bin)):
            print("mta-e2e: every queue drained")
            return
        time.sleep(0.5)
    for log in ("postfix-main/maillog", "postfix-perimeter/maillog", "exim/log/mainlog",
                "exim/log/paniclog"):
        print(f"--- {log}", file=sys.stderr, flush=True)
        subprocess.run(["tail", "-n", "40", f"{w}/{log}"])
    raise SystemExit("mta-e2e: the MTAs did not deliver every planned message within 90 s")


def cmd_addresses(_args):
    for addr in exim_clients():
        if not ipaddress.ip_address(addr).is_loopback:
            print(addr)


# ---------------------------------------------------------------- checking


def run_scan(binary, inputs, flags):
    proc = subprocess.run([binary, "scan", *inputs, *flags], capture_output=True)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


SUMMARY = re.compile(r"repudiate scan: (\d+) messages? in (\d+) pairs?\b")
SKIP_LINE = re.compile(r"^    (\S+)\s+(\d+)$", re.M)


def compare(name, binary, inputs, flags, want):
    code, out, err = run_scan(binary, inputs, flags)
    problems = []
    if code != 0:
        problems.append(f"exit code {code}, wanted 0")
    rows = list(csv.reader(io.StringIO(out)))
    if not rows or rows[0] != ["domain", "ip", "messages"]:
        problems.append(f"header {rows[:1]}, wanted domain,ip,messages")
    body_rows = rows[1:]
    got = Counter({(r[0], r[1]): int(r[2]) for r in body_rows if len(r) == 3})
    if len(got) != len(body_rows):
        problems.append("duplicate or malformed CSV rows")
    for key in sorted(set(got) | set(want.pairs)):
        if got[key] != want.pairs[key]:
            problems.append(f"pair {key[0]},{key[1]}: got {got[key]}, planned {want.pairs[key]}")
    summary = SUMMARY.search(err)
    total = sum(want.pairs.values())
    if not summary or int(summary[1]) != total or int(summary[2]) != len(want.pairs):
        problems.append(f"summary {summary and summary[0]!r}, planned {total} messages in "
                        f"{len(want.pairs)} pairs")
    # The table's own "total" row is a sum, not a reason.
    skipped = Counter({k: int(v) for k, v in SKIP_LINE.findall(err) if k != "total"})
    if skipped != want.skipped:
        problems.append(f"skipped {dict(skipped)}, planned {dict(want.skipped)}")
    verdict = "ok" if not problems else "MISMATCH"
    print(f"mta-e2e {name}: {verdict}: {total} messages in {len(want.pairs)} pairs, "
          f"skipped {dict(sorted(want.skipped.items()))}")
    for p in problems:
        print(f"    {p}")
    if problems:
        print("    scan output:\n" + "".join(f"      {l}\n" for l in out.splitlines()) +
              "    scan summary:\n" + "".join(f"      {l}\n" for l in err.splitlines()))
    return not problems


def cmd_check(args):
    w = args.work
    main_log = f"{w}/postfix-main/maillog"
    perimeter_log = f"{w}/postfix-perimeter/maillog"
    perimeter = ["--perimeter", PERIMETER_ADDR]
    checks = [
        ("postfix logs, --perimeter", [main_log, perimeter_log], perimeter,
         expect_postfix_log("main", perimeter=True).add(expect_postfix_log("perimeter"))),
        ("postfix main log", [main_log], [], expect_postfix_log("main")),
        ("postfix main log, --include-rejected", [main_log], ["--include-rejected"],
         expect_postfix_log("main", include_rejected=True)),
        # postfix logs no HELO for accepted mail, so the null sender stays <>.
        ("postfix main log, --null-sender helo", [main_log], ["--null-sender", "helo"],
         expect_postfix_log("main")),
        ("postfix mbox, --perimeter", [f"{w}/mail"], perimeter,
         expect_mbox("postfix", perimeter=True)),
        ("postfix mbox", [f"{w}/mail"], [], expect_mbox("postfix")),
        ("postfix mbox, --perimeter --null-sender helo", [f"{w}/mail"],
         perimeter + ["--null-sender", "helo"],
         expect_mbox("postfix", perimeter=True, null_helo=True)),
    ]
    checks += [
        ("exim mainlog", [f"{w}/exim/log/mainlog"], [], expect_exim_log()),
        ("exim mainlog, --include-rejected", [f"{w}/exim/log/mainlog"], ["--include-rejected"],
         expect_exim_log(include_rejected=True)),
        ("exim mainlog, --null-sender helo", [f"{w}/exim/log/mainlog"], ["--null-sender", "helo"],
         expect_exim_log(null_helo=True)),
        ("exim mbox", [f"{w}/exim/mail"], [], expect_mbox("exim")),
        ("exim mbox, --null-sender helo", [f"{w}/exim/mail"], ["--null-sender", "helo"],
         expect_mbox("exim", null_helo=True)),
    ]
    ok = [compare(name, args.bin, inputs, flags, want) for name, inputs, flags, want in checks]
    if not all(ok):
        raise SystemExit(f"mta-e2e: {ok.count(False)} of {len(ok)} checks do not match the plan")
    print(f"mta-e2e: all {len(ok)} checks match the plan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--postfix", type=int, required=True)
    s.add_argument("--perimeter", type=int, required=True)
    s.add_argument("--exim", type=int, required=True)
    s.add_argument("--exim-bin", required=True)
    s.add_argument("--exim-conf", required=True)
    s = sub.add_parser("wait")
    s.add_argument("--work", required=True)
    s.add_argument("--exim-bin", required=True)
    s = sub.add_parser("check")
    s.add_argument("--bin", required=True)
    s.add_argument("--work", required=True)
    sub.add_parser("addresses")
    args = p.parse_args()
    {"send": cmd_send, "wait": cmd_wait, "check": cmd_check, "addresses": cmd_addresses}[args.cmd](args)


if __name__ == "__main__":
    main()

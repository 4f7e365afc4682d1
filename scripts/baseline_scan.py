#!/usr/bin/env python3
"""The Python standard-library baseline for `repudiate scan` on an mbox (scripts/bench.sh).

What a careful admin would write without repudiate: `mailbox.mbox` splits the file, the
`email` package parses each header block, and a Received walk finds the first hop from the
top whose client IP is external. It writes the same `domain,ip,messages` CSV as
`repudiate scan`, in the same order, so the two outputs can be compared.

Rules (docs/design.md §3, "Where D and S come from"): D is the topmost Return-Path, else the mbox From_
sender; S is the IP of the first Received hop that is not loopback, private (RFC 1918, CGNAT,
link-local, ULA) or in --perimeter, and is not a mail fetch (IMAP/POP3, fetchmail, getmail);
an authenticated hop (ESMTPA/ESMTPSA..., "(Authenticated sender: ...)") skips the message.

It is efficient where that is cheap: only the header block of each message is read (the
body is never loaded), and the Received walk is one regex tokenisation plus a token loop.

usage: baseline_scan.py MBOX [--perimeter IP|CIDR ...] [-o OUT.csv]
"""

import argparse
import collections
import csv
import email.parser
import email.policy
import ipaddress
import mailbox
import re
import sys

TOKEN = re.compile(r"[()]|;|[^\s();]+")
FETCH = re.compile(r"\bwith\s+(?:IMAP|POP3)|fetchmail|getmail", re.I)
BRACKET = re.compile(r"\[([^\[\]]+)\]")
CLAUSE_KEYWORDS = {"by", "with", "id", "for", "via"}
AUTH_PROTOCOLS = {
    "ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA", "UTF8SMTPA", "UTF8SMTPSA", "UTF8LMTPA",
    "UTF8LMTPSA", "ASMTP", "HTTP", "HTTPS", "HTTPU",
}
INTERNAL = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "169.254.0.0/16", "::1/128", "fe80::/10", "fc00::/7")]


def parse_ip(text):
    """An address as Received headers write it: `IPv6:` prefix, `%zone`, v4-mapped."""
    text = text.strip(".,;:")
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    text = text.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def ip_in_word(word):
    """The address in a token: `[ip]`, `name[ip]`, or the bare token."""
    m = BRACKET.search(word)
    return parse_ip(m.group(1) if m else word)


def received_hop(value):
    """(ip or None, authenticated, mail_fetch) for one unfolded Received value."""
    fetch = bool(FETCH.search(value))
    authenticated = False
    depth = 0
    phase = "start"          # start -> from -> rest
    first_from_word = False
    expect_protocol = False
    comment_first = False
    comment_skip = False
    comment_ip = this_comment_ip = loose_ip = token_ip = None
    for tok in TOKEN.findall(value):
        if tok == ";" and depth == 0:
            break
        if tok == "(":
            if depth == 0:
                expect_protocol = first_from_word = False
                this_comment_ip = None
                comment_first, comment_skip = True, False
            depth += 1
            continue
        if tok == ")":
            if depth > 0:
                depth -= 1
            if depth == 0 and comment_ip is None:
                comment_ip = this_comment_ip
            continue
        if depth == 0:
            if expect_protocol:
                expect_protocol = False
                if tok.upper() in AUTH_PROTOCOLS:
                    authenticated = True
            if phase == "start":
                if tok.lower() == "from":
                    phase, first_from_word = "from", True
                    continue
                phase = "rest"
            if phase == "from":
                if tok.lower() not in CLAUSE_KEYWORDS:
                    if first_from_word:
                        first_from_word = False
                        token_ip = ip_in_word(tok)
                    elif "[" in tok and loose_ip is None:
                        loose_ip = ip_in_word(tok)
                    continue
                phase = "rest"
            if tok.lower() == "with":
                expect_protocol = True
        elif depth == 1:
            low = tok.lower()
            if comment_first:
                comment_first = False
                if low.startswith("authenticated") or low == "auth:":
                    authenticated, comment_skip = True, True
                    continue
                if phase != "from" or low.startswith("envelope-") or low == "helo":
                    comment_skip = True
                    continue
            if comment_skip or phase != "from" or low.startswith("helo="):
                continue
            ip = ip_in_word(tok)
            if ip is not None:
                this_comment_ip = ip
    return comment_ip or loose_ip or token_ip, authenticated, fetch


def sender_domain(raw):
    """Envelope address to the report's domain column ('<>' null, '' missing)."""
    s = raw.strip()
    if s.startswith("<"):
        s = s[1:-1] if s.endswith(">") else s[1:]
        s = s.strip()
    if not s or s.lower() == "mailer-daemon":
        return "<>"
    if s.startswith("@") and ":" in s:
        s = s.split(":", 1)[1]
    if "@" not in s:
        return s.lower()
    d = s.rsplit("@", 1)[1].strip().rstrip(".")
    try:
        return d.encode("idna").decode("ascii").lower() if not d.isascii() else d.lower()
    except UnicodeError:
        return d.lower()


def ip_key(ip):
    return (0, int(ip)) if ip.version == 4 else (1, int(ip))


def scan(path, perimeter):
    internal = INTERNAL + perimeter
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    counts = collections.Counter()
    box = mailbox.mbox(path, create=False)
    for key in box.iterkeys():
        f = box.get_file(key, from_=True)
        from_line = f.readline()
        header = []
        for line in f:
            if line in (b"\n", b"\r\n"):
                break
            header.append(line)
        msg = parser.parsebytes(b"".join(header))
        return_path = msg.get("Return-Path")
        if return_path is None:
            parts = from_line.decode("utf-8", "replace").split()
            return_path = parts[1] if len(parts) > 1 else None
        client = None
        for value in msg.get_all("Received") or ():
            ip, authenticated, fetch = received_hop(" ".join(str(value).split()))
            if fetch or ip is None or any(ip in n for n in internal if n.version == ip.version):
                continue
            client = (ip, authenticated)
            break
        if client is not None and client[1]:
            continue  # an authenticated submission: not foreign mail
        domain = "" if return_path is None else sender_domain(str(return_path))
        counts[(domain, client[0] if client else None)] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mbox")
    ap.add_argument("--perimeter", action="append", default=[])
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    perimeter = [ipaddress.ip_network(p, strict=False) for p in args.perimeter]
    counts = scan(args.mbox, perimeter)
    rows = sorted(counts.items(), key=lambda kv: (
        -kv[1], kv[0][0], (2, 0) if kv[0][1] is None else ip_key(kv[0][1])))
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["domain", "ip", "messages"])
    for (domain, ip), n in rows:
        w.writerow([domain, "" if ip is None else str(ip), n])
    if out is not sys.stdout:
        out.close()
    print(f"baseline_scan: {sum(counts.values())} messages, {len(counts)} pairs", file=sys.stderr)


if __name__ == "__main__":
    main()

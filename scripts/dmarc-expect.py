#!/usr/bin/env python3
"""The pairs DMARC aggregate reports should give, computed without repudiate: Python's
standard library only (xml.etree, gzip/zlib, zipfile, email, ipaddress), written from
docs/design.md §3 and issue 12, not from the Rust code.

Usage: dmarc-expect.py DIR OUT_DIR
Writes OUT_DIR/expected.csv (domain,ip,messages,authenticated; sorted as repudiate sorts),
OUT_DIR/report-files (the files holding reports, one per line) and OUT_DIR/bad-files (the
files that look like reports and cannot be read: repudiate must fail on exactly these)."""
import email
import email.policy
import io
import ipaddress
import os
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib

REPORT_TYPES = {
    "application/gzip", "application/x-gzip", "application/zip", "application/x-zip",
    "application/x-zip-compressed", "application/xml", "application/octet-stream", "text/xml",
}


class Bad(Exception):
    pass


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(el, name):
    if el is None:
        return None
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el, name):
    return [] if el is None else [c for c in el if local(c.tag) == name]


def text(el):
    if el is None or el.text is None:
        return None
    t = el.text.strip()
    return t or None


def norm_domain(d):
    if "@" in d:
        d = d.rsplit("@", 1)[1]
    d = d.strip().rstrip(".")
    try:
        return d.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return d.lower()


def aligned(dkim, header_from, strict):
    if dkim == header_from:
        return True
    if strict:
        return False
    def under(a, b):
        return "." in b and a.endswith("." + b)
    return under(dkim, header_from) or under(header_from, dkim)


def records(xml_bytes):
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as e:
        raise Bad("malformed XML: %s" % e)
    if local(root.tag) != "feedback":
        raise Bad("root is not feedback")
    policy = child(root, "policy_published")
    strict = (text(child(policy, "adkim")) or "r").lower() == "s"
    out = []
    for rec in children(root, "record"):
        row = child(rec, "row")
        ids = child(rec, "identifiers")
        auth = child(rec, "auth_results")
        try:
            ip = ipaddress.ip_address(text(child(row, "source_ip")) or "")
            count = int(text(child(row, "count")) or "")
        except ValueError:
            continue
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        spfs = children(auth, "spf")
        spf_domain = text(child(spfs[-1], "domain")) if spfs else None
        header_from = text(child(ids, "header_from"))
        domain = text(child(ids, "envelope_from")) or spf_domain or header_from
        evaluated = text(child(child(row, "policy_evaluated"), "dkim"))
        ok = (evaluated or "").lower() == "pass"
        if not ok and header_from:
            hf = header_from.rstrip(".").lower()
            for d in children(auth, "dkim"):
                dom, res = text(child(d, "domain")), text(child(d, "result"))
                if dom and (res or "").lower() == "pass" and aligned(dom.rstrip(".").lower(), hf, strict):
                    ok = True
        out.append((norm_domain(domain), ip, count, count if ok else 0))
    return out


def gunzip(data):
    out = b""
    while data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(wbits=31)
        out += d.decompress(data)
        if not d.eof:
            raise Bad("truncated gzip")
        data = d.unused_data
    return out


def unpack(data):
    if data[:2] == b"\x1f\x8b":
        return unpack(gunzip(data))
    if data[:4] == b"PK\x03\x04":
        found = []
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                if not name.endswith("/"):
                    found += unpack(z.read(name))
        return found
    return records(data)


def looks_like_report(data):
    if data[:4] == b"PK\x03\x04":
        return True
    head = data[:8192].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<feedback") or (head.startswith(b"<?xml") and b"<feedback" in head)


def message_reports(data):
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    subject = (msg.get("Subject") or "").strip().lower()
    top = msg.get_content_type()
    if not (subject.startswith("report domain:") or top in REPORT_TYPES):
        return None
    found, any_report = [], False
    for part in msg.walk():
        if part.get_content_type() not in REPORT_TYPES:
            continue
        payload = part.get_payload(decode=True) or b""
        if payload[:2] == b"\x1f\x8b" or payload[:4] == b"PK\x03\x04" or looks_like_report(payload):
            found += unpack(payload)
            any_report = True
    return found if any_report else None


def classify(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data)
    if looks_like_report(data):
        return unpack(data)
    if data[:1].isalpha():
        return message_reports(data)
    return None


def main():
    top, out_dir = sys.argv[1], sys.argv[2]
    totals, report_files, bad_files = {}, [], []
    for dirpath, _, names in os.walk(top):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            try:
                recs = classify(path)
            except (Bad, zipfile.BadZipFile, zlib.error, UnicodeError) as e:
                bad_files.append(path)
                continue
            if recs is None:
                continue
            report_files.append(path)
            for domain, ip, count, auth in recs:
                m, a = totals.get((domain, ip), (0, 0))
                totals[(domain, ip)] = (m + count, a + auth)
    def key(item):
        (domain, ip), (m, _) = item
        return (-m, domain, ip.version, int(ip))
    with open(os.path.join(out_dir, "expected.csv"), "w") as f:
        f.write("domain,ip,messages,authenticated\n")
        for (domain, ip), (m, a) in sorted(totals.items(), key=key):
            f.write("%s,%s,%d,%d\n" % (domain, ip.compressed, m, a))
    for name, files in (("report-files", report_files), ("bad-files", bad_files)):
        with open(os.path.join(out_dir, name), "w") as f:
            f.write("".join(p + "\n" for p in sorted(files)))


main()

#!/usr/bin/env python3
"""Packs the hand-written DMARC report XML in fixtures/dmarc/ the ways receivers send it:
gzip, zip, a message carrying two reports, and a zip bomb. Deterministic (fixed times), so
re-running it changes nothing; the packed files are committed beside their sources."""
import base64, gzip, io, os, zipfile

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "dmarc")
STAMP = (2025, 12, 1, 0, 0, 0)


def read(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, STAMP)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
    return buf.getvalue()


def b64(data):
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def message():
    a = zipped("receiver3.example!owner.example!1764460800!1764547199.xml", read("message-report-a.xml"))
    b = gz(read("message-report-b.xml"))
    lines = [
        "Return-Path: <rua-sender@receiver3.example>",
        "Received: from mx.receiver3.example (mx.receiver3.example [192.0.2.200])",
        "\tby mx.owner.example with ESMTPS id 4AbCdE; Mon, 1 Dec 2025 00:10:00 +0000",
        "From: DMARC reports <rua-sender@receiver3.example>",
        "To: dmarc@owner.example",
        "Subject: Report Domain: owner.example Submitter: receiver3.example Report-ID: <message-a>",
        "Date: Mon, 1 Dec 2025 00:09:00 +0000",
        "Message-ID: <two-reports@receiver3.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="=_b"',
        "",
        "--=_b",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Two DMARC aggregate reports for owner.example.",
        "--=_b",
        'Content-Type: application/zip; name="receiver3.example!owner.example!1764460800!1764547199.zip"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="receiver3.example!owner.example!1764460800!1764547199.zip"',
        "",
        b64(a),
        "--=_b",
        'Content-Type: application/octet-stream; name="receiver4.example!owner.example!1764460800!1764547199.xml.gz"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="receiver4.example!owner.example!1764460800!1764547199.xml.gz"',
        "",
        b64(b),
        "--=_b--",
        "",
    ]
    return "\r\n".join(lines).encode()


def main():
    write("rules-rfc7489.xml.gz", gz(read("rules-rfc7489.xml")))
    write("rules-rfc9990.zip", zipped("rules-rfc9990.xml", read("rules-rfc9990.xml")))
    write("two-reports.eml", message())
    # An mbox of an owner's dmarc@ mailbox: the report message, then an ordinary message,
    # which stays an ordinary (sender, client) pair.
    plain = "\n".join([
        "Return-Path: <alice@sender.example>",
        "Received: from mx.sender.example (mx.sender.example [203.0.113.50])",
        "\tby mx.owner.example with ESMTPS id 5BcDeF; Mon, 1 Dec 2025 01:00:00 +0000",
        "From: Alice <alice@sender.example>",
        "To: dmarc@owner.example",
        "Subject: a question about your reports",
        "",
        "Hello.",
        "",
    ])
    mbox = ("From rua-sender@receiver3.example Mon Dec  1 00:10:00 2025\n"
            + message().decode().replace("\r\n", "\n") + "\n"
            + "From alice@sender.example Mon Dec  1 01:00:00 2025\n" + plain + "\n")
    write("reports.mbox", mbox.encode())
    # 65 MiB of blanks inside a report: one MiB over the tool's cap.
    write("bomb.zip", zipped("bomb.xml", b"<feedback>" + b" " * (65 << 20) + b"</feedback>"))


main()

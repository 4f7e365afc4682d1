//! Input formats and their detection from a file's first bytes (docs/design.md §3); `--format`
//! overrides. Detection looks at content, never at file names, because rotated and
//! exported files are named anything.

use super::mbox;
use crate::extract::dmarc;
use crate::extract::logs::is_log_line;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// mbox (mboxo, mboxrd): messages separated by `From ` lines.
    Mbox,
    /// One stored message (an `.eml` file or a maildir file).
    Message,
    /// A mail log: postfix, sendmail or exim through syslog, or exim's own mainlog.
    Log,
    /// A pairs CSV written by `repudiate scan` or `audit` (`domain,ip,messages,...`).
    Pairs,
    /// A DMARC aggregate report: XML, or a zip of it (gzip is undone before detection).
    Dmarc,
    /// An mbox whose messages deliver DMARC reports: read whole, not header by header.
    #[value(skip)]
    ReportMailbox,
    /// `journalctl -o json` (or `json-seq`): one journal entry per line. The text forms of
    /// journalctl are `log`.
    Journal,
}

/// How many leading lines are examined for a syslog prefix.
const LOG_PROBE_LINES: usize = 20;

/// The UTF-8 byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Guesses the format from the first bytes of a file (a few KiB are enough).
pub fn detect(head: &[u8]) -> Option<Format> {
    // A spreadsheet saving a pairs CSV as "UTF-8" puts a byte-order mark in front.
    let head = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    if dmarc::looks_like_report(head) {
        return Some(Format::Dmarc);
    }
    if super::journal::is_json(head) {
        return Some(Format::Journal);
    }
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let first = lines.by_ref().find(|l| !l.trim().is_empty())?;
    if first.starts_with("From ") {
        // A dated `From ` line starts an mbox; an undated one in front of header fields is
        // the envelope line some tools put above a single saved message.
        // `From  :` is the obsolete form of the header field.
        let second = lines.find(|l| !l.trim().is_empty()).unwrap_or("");
        let undated = !mbox::is_separator(first.as_bytes());
        if !is_envelope_line(first.as_bytes()) || (undated && is_header_field(second)) {
            return Some(Format::Message);
        }
        if dmarc::may_carry_report(first_header(head)) {
            return Some(Format::ReportMailbox);
        }
        return Some(Format::Mbox);
    }
    if first.starts_with(crate::pairs_file::HEADER_PREFIX) {
        return Some(Format::Pairs);
    }
    if is_log_line(first) || text.lines().take(LOG_PROBE_LINES).any(is_log_line) {
        return Some(Format::Log);
    }
    if is_header_block(&text, head.len() >= DETECT_FULL) {
        return Some(Format::Message);
    }
    None
}

/// The header block of the first message of an mbox head (after its `From ` line), as
/// far as the head holds it.
fn first_header(head: &[u8]) -> &[u8] {
    let start = memchr::memmem::find(head, b"From ").map_or(0, |p| {
        p + memchr::memchr(b'\n', &head[p..]).map_or(head.len() - p, |n| n + 1)
    });
    let body = &head[start..];
    let end = [&b"\n\n"[..], b"\r\n\r\n"]
        .iter()
        .filter_map(|sep| memchr::memmem::find(body, sep))
        .min()
        .unwrap_or(body.len());
    &body[..end]
}

/// A head this long may have been cut by the reader: a header block may go on after it.
const DETECT_FULL: usize = 8192;

/// Field names of which a message's header block holds at least one: a text file that
/// merely starts with `Note: ...` is not a message.
const MAIL_FIELDS: [&str; 16] = [
    "received",
    "return-path",
    "from",
    "to",
    "cc",
    "date",
    "subject",
    "message-id",
    "delivered-to",
    "mime-version",
    "content-type",
    "dkim-signature",
    "authentication-results",
    "x-original-to",
    "reply-to",
    "sender",
];

/// True when `text` starts with an RFC 5322 header block: field lines (and their folded
/// continuations) up to an empty line or, when the head may have been cut (`cut`), its end;
/// at least one of them a field every message has. Anything else (a README, a JSON line,
/// `alternatives.log`) is no stored message, never a silent `unknown` row.
fn is_header_block(text: &str, cut: bool) -> bool {
    let mut lines = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .peekable();
    while lines.next_if(|l| l.trim().is_empty()).is_some() {}
    let mut fields = 0;
    let mut mail_field = false;
    while let Some(line) = lines.next() {
        if line.is_empty() {
            break;
        }
        if fields > 0 && line.starts_with([' ', '\t']) {
            continue;
        }
        if !is_header_field(line) {
            // Only the last line of a head cut by the reader may be half a field.
            if !(cut && lines.peek().is_none()) {
                return false;
            }
            break;
        }
        fields += 1;
        let name = &line[..line.find(':').unwrap_or(0)];
        mail_field |= MAIL_FIELDS.iter().any(|f| name.eq_ignore_ascii_case(f));
    }
    fields > 0 && mail_field
}

/// `From addr ...` that is not the header field `From:` (nor the obsolete `From  :`).
pub fn is_envelope_line(line: &[u8]) -> bool {
    line.starts_with(b"From ")
        && matches!(
            line[5..].iter().find(|b| !matches!(b, b' ' | b'\t')),
            Some(c) if !matches!(c, b':' | b'\r' | b'\n')
        )
}

/// `Name: value` with an RFC 5322 field name (printable ASCII except colon, no spaces).
fn is_header_field(line: &str) -> bool {
    match line.find(':') {
        Some(0) | None => false,
        Some(colon) => line[..colon].bytes().all(|b| (33..=126).contains(&b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(
            detect(b"From a@b.example Tue Jun  4 10:00:00 2024\nX: y\n"),
            Some(Format::Mbox)
        );
        assert_eq!(
            detect(b"\n\nFrom a@b.example Tue Jun  4 10:00:00 2024\n"),
            Some(Format::Mbox)
        );
        assert_eq!(
            detect(b"Return-Path: <a@b.example>\nReceived: x\n"),
            Some(Format::Message)
        );
        assert_eq!(
            detect(b"domain,ip,messages\nexample.org,192.0.2.1,3\n"),
            Some(Format::Pairs)
        );
        assert_eq!(
            detect(b"\xEF\xBB\xBFdomain,ip,messages\r\nexample.org,192.0.2.1,3\r\n"),
            Some(Format::Pairs),
            "a byte-order mark and CRLF, as a spreadsheet saves it"
        );
        assert_eq!(
            detect(b"Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\n"),
            Some(Format::Log)
        );
        assert_eq!(
            detect(b"2023-03-14T00:08:33.579644+01:00 helga postfix/smtpd[297535]: 4PbC4x469Jz3tBr: client=a[192.0.2.1]\n"),
            Some(Format::Log)
        );
        assert_eq!(
            detect(b"2026-11-28 10:00:01 10HmaX-000000005vi-0000 <= a@b.example H=[192.0.2.1] P=esmtp\n"),
            Some(Format::Log)
        );
        assert_eq!(
            detect(b"From mike@nowhere.example\nReturn-Path: <m@nowhere.example>\n\nx\n"),
            Some(Format::Message),
            "an undated envelope line above one message"
        );
        assert_eq!(
            detect(b"From  : old@syntax.example\nSubject: x\n"),
            Some(Format::Message),
            "the obsolete header syntax"
        );
        assert!(!is_envelope_line(b"From: a@b.example\n"));
        assert!(!is_envelope_line(b"From  : a@b.example\n"));
        assert!(is_envelope_line(b"From a@b.example\n"));
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?>\n<feedback><version>1.0</version>"),
            Some(Format::Dmarc)
        );
        assert_eq!(detect(b"PK\x03\x04\x14\x00"), Some(Format::Dmarc));
        assert_eq!(
            detect(b"From rua@r.example Tue Jun  4 10:00:00 2024\nSubject: Report Domain: o.example Submitter: r.example\n\nx\n"),
            Some(Format::ReportMailbox)
        );
        assert_eq!(
            detect(b"{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"x\"}\n"),
            Some(Format::Journal)
        );
        assert_eq!(detect(b"\x00\x01\x02binary"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"just some text\n"), None);
    }

    #[test]
    fn a_message_needs_a_header_block() {
        let msg =
            b"Received: from a (a [192.0.2.1])\n\tby mx; Tue, 4 Jun 2024\nSubject: x\n\nbody\n";
        assert_eq!(detect(msg), Some(Format::Message));
        assert_eq!(
            detect(b"Subject: headers only\nX-Y: z\n"),
            Some(Format::Message)
        );
        for not_a_message in [
            &b"Note: this folder holds mail\nand more text here\n"[..],
            b"X-Custom: 1\nX-Other: 2\n\n",
            b"{\"a\": 1}\n",
            b"Title: readme\n\nSubject: later\n",
            b"Start-Date: 2024-06-04  10:00:00\nCommandline: apt install x\n",
        ] {
            assert_eq!(
                detect(not_a_message),
                None,
                "{}",
                String::from_utf8_lossy(not_a_message)
            );
        }
        // A head cut by the reader inside a long header block is still a message.
        let mut long = b"Received: from a (a [192.0.2.1]) by mx\n".repeat(300);
        long.truncate(DETECT_FULL);
        assert_eq!(detect(&long), Some(Format::Message));
    }
}

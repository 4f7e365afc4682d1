//! A stored message's header block to a [`Record`] (docs/design.md §3 "Stored messages"): D from the
//! topmost `Return-Path` (else the mbox `From ` line), S from the first Received hop that is
//! neither internal nor a mail fetch. mail-parser splits and unfolds the header fields; the
//! Received syntax itself is read by [`super::received`].
//!
//! Most of a header block is fields nobody reads (DKIM signatures, Authentication-Results).
//! A byte-level scan that follows mail-parser's own field rules picks out the Return-Path
//! and Received fields, and only those are handed to mail-parser.

use std::sync::LazyLock;

use mail_parser::{HeaderName, HeaderValue, MessageParser};

use super::{ExtractOptions, received};
use crate::model::address::normalize_address;
use crate::model::{Record, Sender, SkipReason};

/// Only the two headers we read are kept; everything else is skipped unparsed.
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .header_raw(HeaderName::Received)
        .header_raw(HeaderName::ReturnPath)
        .default_header_ignore()
});

/// Extracts the observation from a message's header block. `envelope_line` is the sender
/// written on the mbox `From ` separator, used only when there is no Return-Path.
///
/// The fields that matter are handed to mail-parser one at a time, top down, and the walk
/// stops as soon as it has both answers (usually after the first two or three).
pub fn extract(header: &[u8], envelope_line: Option<&str>, opts: &ExtractOptions) -> Record {
    let mut walk = Walk::default();
    let fields = for_each_field(header, |field, wanted| {
        if wanted && let Some(message) = PARSER.parse_headers(field) {
            walk.see_all(message.headers(), opts);
        }
        walk.complete()
    });
    // mail-parser gives nothing for a block without a single field.
    if fields == 0 {
        return Record::Skipped(SkipReason::Malformed);
    }
    walk.finish(envelope_line, opts)
}

/// What the walk down the header fields has found so far.
#[derive(Default)]
struct Walk {
    return_path: Option<Sender>,
    client: Option<received::Hop>,
}

impl Walk {
    fn complete(&self) -> bool {
        self.return_path.is_some() && self.client.is_some()
    }

    fn see_all(&mut self, headers: &[mail_parser::Header<'_>], opts: &ExtractOptions) {
        for h in headers {
            match h.name {
                // mail-parser reports `Return-Path: <>` and a missing header alike when
                // parsed as an address, so the raw text is read; the topmost one wins.
                HeaderName::ReturnPath if self.return_path.is_none() => {
                    self.return_path = Some(normalize_address(raw_text(&h.value)));
                }
                HeaderName::Received if self.client.is_none() => {
                    let hop = received::parse(raw_text(&h.value));
                    // A fetch hop's IP is the mailbox server, not an SMTP client: skip it.
                    if !hop.mail_fetch && hop.ip.is_some_and(|ip| !opts.is_internal(ip)) {
                        self.client = Some(hop);
                    }
                }
                _ => {}
            }
            if self.complete() {
                break;
            }
        }
    }

    fn finish(self, envelope_line: Option<&str>, opts: &ExtractOptions) -> Record {
        let Walk {
            return_path,
            client,
        } = self;
        if client.as_ref().is_some_and(|hop| hop.authenticated) {
            return Record::Skipped(SkipReason::Authenticated);
        }
        let sender = return_path
            .or_else(|| envelope_line.map(normalize_address))
            .unwrap_or(Sender::Missing);
        let (ip, helo) = match &client {
            Some(hop) => (hop.ip, hop.helo.as_deref()),
            None => (None, None),
        };
        opts.observe(sender, ip, helo)
    }
}

/// Calls `f` with each field of `block` (from its name to the end of its last continuation
/// line) and whether it is a Return-Path or Received field, until `f` returns true; returns
/// how many fields it saw.
///
/// This is mail-parser 0.11's header loop (`parsers/header.rs`) done with memchr: a field
/// starts after spaces, tabs, CRs and form feeds; a line holding only those ends the block;
/// the name is the non-blank bytes before the first `:` that follows one (a line with no
/// such `:` is no field, and a line after it starts afresh even when indented); the value
/// runs to the first `\n` not followed by a space or tab. Each field ends where
/// mail-parser ends it, so parsing it alone gives the same value.
pub(super) fn for_each_field(block: &[u8], mut f: impl FnMut(&[u8], bool) -> bool) -> usize {
    let mut fields = 0;
    let mut i = 0;
    loop {
        while block
            .get(i)
            .is_some_and(|&c| matches!(c, b' ' | b'\t' | b'\r' | b'\x0c'))
        {
            i += 1;
        }
        if block.get(i).is_none_or(|&c| c == b'\n') {
            return fields;
        }
        let start = i;
        // `:` before the name is skipped like blanks.
        let mut name_start = i;
        while block
            .get(name_start)
            .is_some_and(|&c| c == b':' || (c != b'\n' && c.is_ascii_whitespace()))
        {
            name_start += 1;
        }
        let name_end = match block.get(name_start) {
            None => return fields,
            Some(b'\n') => {
                i = name_start + 1;
                continue;
            }
            Some(_) => memchr::memchr2(b':', b'\n', &block[name_start..]).map(|k| name_start + k),
        };
        let end = match name_end {
            // A name that runs to the end of the block is a field with no value.
            None => block.len(),
            Some(k) if block[k] == b'\n' => {
                i = k + 1;
                continue;
            }
            Some(k) => value_end(block, k + 1),
        };
        fields += 1;
        let name = &block[name_start..name_end.unwrap_or(block.len())];
        let wanted = is_name(name, b"received") || is_name(name, b"return-path");
        if f(&block[start..end], wanted) {
            return fields;
        }
        i = end;
    }
}

/// Where a field value starting at `from` ends: after the first `\n` that no space or tab
/// follows, or at the end of the block.
fn value_end(block: &[u8], mut from: usize) -> usize {
    loop {
        match memchr::memchr(b'\n', &block[from..]) {
            None => return block.len(),
            Some(q) if matches!(block.get(from + q + 1), Some(b' ' | b'\t')) => from += q + 2,
            Some(q) => return from + q + 1,
        }
    }
}

/// mail-parser's name comparison: blanks inside a name are dropped, case is ignored.
pub(super) fn is_name(name: &[u8], lowercase: &[u8]) -> bool {
    if name.len() == lowercase.len() {
        return name.eq_ignore_ascii_case(lowercase);
    }
    let mut chars = name.iter().filter(|c| !c.is_ascii_whitespace());
    lowercase
        .iter()
        .all(|&want| chars.next().is_some_and(|c| c.to_ascii_lowercase() == want))
        && chars.next().is_none()
}

fn raw_text<'a>(value: &'a HeaderValue<'_>) -> &'a str {
    match value {
        HeaderValue::Text(t) => t.as_ref(),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::NullSenderMode;
    use crate::model::PairKey;
    use crate::net::parse_ip;

    fn observed(domain: &str, ip: &str) -> Record {
        Record::Observed(PairKey {
            sender: Sender::Domain(domain.into()),
            ip: parse_ip(ip),
        })
    }

    const BORDER: &str = "Received: from mail.example.org (mail.example.org [192.0.2.10])\n\tby mx.example.net (Postfix) with ESMTP id 4Vt9Qx3Zk1z9sT\n\tfor <u@example.net>; Tue, 4 Jun 2024 10:00:00 +0000 (UTC)\n";

    #[test]
    fn topmost_return_path_and_first_external_hop() {
        let h = format!(
            "Return-Path: <Bob@Example.ORG>\nReceived: from localhost (localhost [127.0.0.1])\n\tby mx.example.net (Postfix) with ESMTP id 1;\n\tTue, 4 Jun 2024 10:00:01 +0000\n{BORDER}Return-Path: <other@elsewhere.example>\nSubject: x\n\n"
        );
        assert_eq!(
            extract(h.as_bytes(), None, &ExtractOptions::default()),
            observed("example.org", "192.0.2.10")
        );
    }

    #[test]
    fn null_sender_differs_from_missing_return_path() {
        let null = format!("Return-Path: <>\n{BORDER}\n");
        let missing = format!("{BORDER}Subject: no envelope\n\n");
        assert!(matches!(
            extract(null.as_bytes(), None, &ExtractOptions::default()),
            Record::Observed(PairKey {
                sender: Sender::Null,
                ..
            })
        ));
        assert!(matches!(
            extract(missing.as_bytes(), None, &ExtractOptions::default()),
            Record::Observed(PairKey {
                sender: Sender::Missing,
                ..
            })
        ));
        // the mbox From_ line fills in when Return-Path is absent
        assert_eq!(
            extract(
                missing.as_bytes(),
                Some("a@example.org"),
                &ExtractOptions::default()
            ),
            observed("example.org", "192.0.2.10")
        );
        assert!(matches!(
            extract(
                missing.as_bytes(),
                Some("MAILER-DAEMON"),
                &ExtractOptions::default()
            ),
            Record::Observed(PairKey {
                sender: Sender::Null,
                ..
            })
        ));
    }

    #[test]
    fn private_and_perimeter_hops_are_skipped() {
        let h = "Return-Path: <a@example.org>\nReceived: from mx1.site.example (mx1.site.example [198.51.100.1]) by store.site.example with LMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\nReceived: from relay (relay [10.0.0.5]) by mx1.site.example with ESMTP id 2; Tue, 4 Jun 2024 10:00:00 +0000\nReceived: from out.example.org (out.example.org [203.0.113.5]) by relay with ESMTP id 3; Tue, 4 Jun 2024 10:00:00 +0000\n\n";
        let mut o = ExtractOptions {
            perimeter: vec!["198.51.100.0/24".parse().unwrap()],
            ..ExtractOptions::default()
        };
        assert_eq!(
            extract(h.as_bytes(), None, &o),
            observed("example.org", "203.0.113.5")
        );
        o.skip_private = false;
        assert_eq!(
            extract(h.as_bytes(), None, &o),
            observed("example.org", "10.0.0.5")
        );
    }

    #[test]
    fn no_external_hop_is_observed_without_ip() {
        let h = "Return-Path: <a@example.org>\nReceived: from localhost (localhost [127.0.0.1]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\n\n";
        assert_eq!(
            extract(h.as_bytes(), None, &ExtractOptions::default()),
            Record::Observed(PairKey {
                sender: Sender::Domain("example.org".into()),
                ip: None
            })
        );
    }

    #[test]
    fn authenticated_border_hop_is_skipped() {
        let h = "Return-Path: <alice@example.net>\nReceived: from [192.168.1.5] (unknown [203.0.113.9]) (Authenticated sender: alice@example.net) by smtp.example.net (Postfix) with ESMTPSA id 4Vt9Qx3Zk1z9sV; Tue, 4 Jun 2024 10:00:00 +0000 (UTC)\n\n";
        assert_eq!(
            extract(h.as_bytes(), None, &ExtractOptions::default()),
            Record::Skipped(SkipReason::Authenticated)
        );
    }

    #[test]
    fn fetchmail_hop_is_not_the_client() {
        let h = "Return-Path: <ler@example.org>\nReceived: from localhost (localhost [127.0.0.1]) by phobos (Postfix) with ESMTP id 8; Mon, 22 Jul 2002 21:41:36 +0100\nReceived: from dogma.slashnull.org [212.17.35.15] by localhost with IMAP (fetchmail-5.9.0) for jm@localhost (single-drop); Mon, 22 Jul 2002 21:41:36 +0100 (IST)\nReceived: from lugh.tuatha.org (root@lugh.tuatha.org [194.125.145.45]) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id g6JDSNJ32301; Fri, 19 Jul 2002 14:28:23 +0100\n\n";
        assert_eq!(
            extract(h.as_bytes(), None, &ExtractOptions::default()),
            observed("example.org", "194.125.145.45")
        );
    }

    #[test]
    fn null_sender_helo_mode_uses_border_helo() {
        let h = format!("Return-Path: <>\n{BORDER}\n");
        let o = ExtractOptions {
            null_sender: NullSenderMode::Helo,
            ..ExtractOptions::default()
        };
        assert_eq!(
            extract(h.as_bytes(), None, &o),
            observed("mail.example.org", "192.0.2.10")
        );
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"\n",
            b"\0\0\0",
            b"Received:\n\n",
            b"Return-Path: <\n",
            &[0xff; 64],
        ] {
            let _ = extract(input, Some(""), &ExtractOptions::default());
        }
    }
    /// `extract` as it was before the field prefilter: mail-parser reads the whole block.
    fn reference_extract(header: &[u8], envelope_line: Option<&str>, o: &ExtractOptions) -> Record {
        let Some(message) = PARSER.parse_headers(header) else {
            return Record::Skipped(SkipReason::Malformed);
        };
        let mut walk = Walk::default();
        walk.see_all(message.headers(), o);
        walk.finish(envelope_line, o)
    }

    const PIECES: &[&[u8]] = &[
        b"Received",
        b"Return-Path",
        b"RECEIVED",
        b"return - path",
        b"Re ceived",
        b"X-Received",
        b"Subject",
        b":",
        b": ",
        b" ",
        b"\t",
        b"\r",
        b"\x0c",
        b"\n",
        b"\r\n",
        b"\n ",
        b"\n\t",
        b"from h (h [192.0.2.1]) by mx with ESMTP id 1; Tue, 4 Jun 2024",
        b"from [203.0.113.5] (helo=x.example)",
        b"(Authenticated sender: a)",
        b"<a@b.example>",
        b"<>",
        b"<C@D.example>",
        b"\xc3\xa9",
        b"\xff",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn prefiltered_fields_give_what_the_whole_block_gives(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..30),
            envelope in proptest::option::of(proptest::sample::select(&["a@x.example", "MAILER-DAEMON", ""][..])),
        ) {
            let block: Vec<u8> = pieces.iter().flat_map(|&p| PIECES[p].iter().copied()).collect();
            for o in [ExtractOptions::default(), ExtractOptions { skip_private: false, null_sender: NullSenderMode::Helo, ..ExtractOptions::default() }] {
                proptest::prop_assert_eq!(
                    extract(&block, envelope, &o),
                    reference_extract(&block, envelope, &o),
                    "{:?}", String::from_utf8_lossy(&block)
                );
            }
        }
    }

    /// The wanted fields of `block`, concatenated, and how many fields it has.
    fn select_fields(block: &[u8], out: &mut Vec<u8>) -> usize {
        for_each_field(block, |field, wanted| {
            if wanted {
                out.extend_from_slice(field);
            }
            false
        })
    }

    #[test]
    fn fields_are_selected_as_mail_parser_reads_them() {
        let mut out = Vec::new();
        let block = b"X: 1\n Received: folded into X\nno colon here\n Received : indented after a non-field\nReturn-Path: <a@b>\n\tcontinued\nSubject: s\n \nnot a field\n \nReceived: after the end\n";
        assert_eq!(select_fields(block, &mut out), 4);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "Received : indented after a non-field\nReturn-Path: <a@b>\n\tcontinued\n"
        );
        out.clear();
        assert_eq!(select_fields(b"no field at all\n", &mut out), 0);
        assert_eq!(select_fields(b"Received", &mut out), 1);
        assert_eq!(out, b"Received");
    }
}

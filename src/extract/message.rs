//! A stored message's header block to a [`Record`] (SPEC §3 "Stored messages"): D from the
//! topmost `Return-Path` (else the mbox `From ` line), S from the first Received hop that is
//! neither internal nor a mail fetch. mail-parser splits and unfolds the header block; the
//! Received syntax itself is read by [`super::received`].

use std::sync::LazyLock;

use mail_parser::{HeaderName, HeaderValue, MessageParser};

use super::address::normalize_address;
use super::{ExtractOptions, Record, Sender, SkipReason, received};

/// Only the two headers we read are kept; everything else is skipped unparsed.
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .header_raw(HeaderName::Received)
        .header_raw(HeaderName::ReturnPath)
        .default_header_ignore()
});

/// Extracts the observation from a message's header block. `envelope_line` is the sender
/// written on the mbox `From ` separator, used only when there is no Return-Path.
pub fn extract(header: &[u8], envelope_line: Option<&str>, opts: &ExtractOptions) -> Record {
    let Some(message) = PARSER.parse_headers(header) else {
        return Record::Skipped(SkipReason::Malformed);
    };
    let mut return_path: Option<Sender> = None;
    let mut client = None;
    for h in message.headers() {
        match h.name {
            // mail-parser reports `Return-Path: <>` and a missing header alike when parsed
            // as an address, so the raw text is read and the first (topmost) one wins.
            HeaderName::ReturnPath if return_path.is_none() => {
                return_path = Some(normalize_address(raw_text(&h.value)));
            }
            HeaderName::Received if client.is_none() => {
                let hop = received::parse(raw_text(&h.value));
                // A fetch hop's IP is the mailbox server, not an SMTP client: skip it.
                if !hop.mail_fetch && hop.ip.is_some_and(|ip| !opts.is_internal(ip)) {
                    client = Some(hop);
                }
            }
            _ => {}
        }
        if return_path.is_some() && client.is_some() {
            break;
        }
    }
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

fn raw_text<'a>(value: &'a HeaderValue<'_>) -> &'a str {
    match value {
        HeaderValue::Text(t) => t.as_ref(),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{NullSenderMode, Observation};
    use crate::net::parse_ip;

    fn observed(domain: &str, ip: &str) -> Record {
        Record::Observed(Observation {
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
            Record::Observed(Observation {
                sender: Sender::Null,
                ..
            })
        ));
        assert!(matches!(
            extract(missing.as_bytes(), None, &ExtractOptions::default()),
            Record::Observed(Observation {
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
            Record::Observed(Observation {
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
            Record::Observed(Observation {
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
}

//! When a stored message arrived (issue 15): the date on its mbox `From ` line, else the
//! date of its topmost `Received` field (the last hop, the one that stored it), else its
//! `Date` field (written by the sender, least trusted). A date that is there but does not
//! read moves on to the next source; only when none reads is the message `Unparseable`,
//! and `Absent` when it carried no date at all.

use super::message::{for_each_field, is_name};
use crate::model::{When, date};

/// The message's date; `envelope` is what its `From ` line said (`Absent` without one).
pub fn message_date(header: &[u8], envelope: When) -> When {
    if let When::At(_) = envelope {
        return envelope;
    }
    let mut seen_some = envelope == When::Unparseable;
    let mut received = None;
    let mut sent = None;
    for_each_field(header, |field, wanted| {
        let Some(colon) = memchr::memchr(b':', field) else {
            return false;
        };
        let (name, value) = (&field[..colon], &field[colon + 1..]);
        if wanted && received.is_none() && is_name(name, b"received") {
            // The date follows the last `;` (RFC 5322's `received` production).
            if let Some(semi) = memchr::memrchr(b';', value) {
                seen_some = true;
                received = parse(&value[semi + 1..]);
            }
        } else if !wanted && sent.is_none() && is_name(name, b"date") {
            seen_some = true;
            sent = parse(value);
        }
        received.is_some()
    });
    match received.or(sent) {
        Some(t) => When::At(t),
        None if seen_some => When::Unparseable,
        None => When::Absent,
    }
}

fn parse(value: &[u8]) -> Option<date::UtcTime> {
    // Folded lines unfold to spaces; the parser reads words.
    date::parse_rfc5322(&String::from_utf8_lossy(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UtcTime;

    fn at(s: &str) -> When {
        When::At(date::parse_rfc3339(s.as_bytes()).unwrap())
    }

    #[test]
    fn from_line_then_topmost_received_then_date() {
        let h = b"Date: Mon, 3 Jun 2024 09:00:00 +0000\nReceived: from a (a [192.0.2.1])\n\tby mx; Tue, 4 Jun 2024 10:00:00 +0200 (CEST)\nReceived: from b by a; Mon, 3 Jun 2024 09:30:00 +0000\n\n";
        let envelope = When::At(UtcTime(0));
        assert_eq!(message_date(h, envelope), envelope);
        assert_eq!(message_date(h, When::Absent), at("2024-06-04T08:00:00Z"));
        assert_eq!(
            message_date(h, When::Unparseable),
            at("2024-06-04T08:00:00Z")
        );
        let only_date = b"Subject: x\nDate: Mon, 3 Jun 2024 09:00:00 +0000\n\n";
        assert_eq!(
            message_date(only_date, When::Absent),
            at("2024-06-03T09:00:00Z")
        );
    }

    #[test]
    fn unreadable_dates_fall_through_and_are_counted() {
        let bad_received = b"Received: from a by b; yesterday\nDate: 4 Jun 2024 10:00 +0000\n\n";
        assert_eq!(
            message_date(bad_received, When::Absent),
            at("2024-06-04T10:00:00Z")
        );
        let all_bad = b"Received: from a by b; yesterday\nDate: soon\n\n";
        assert_eq!(message_date(all_bad, When::Absent), When::Unparseable);
        let no_date = b"Received: from a by b with LMTP\nSubject: x\n\n";
        assert_eq!(message_date(no_date, When::Absent), When::Absent);
        assert_eq!(message_date(no_date, When::Unparseable), When::Unparseable);
    }
}

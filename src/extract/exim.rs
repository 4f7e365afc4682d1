//! Exim logs (docs/design.md §3): the arrival line `ID <= SENDER H=HOST (HELO) [IP]:PORT ... P=PROTO`
//! holds the whole observation, so no join is needed. It comes from the mainlog
//! (`2026-11-28 10:00:01[.123] [+0100] [[pid]] ID <= ...`) or through syslog
//! (`host exim[pid]: ID <= ...`); both end up in [`message`].
//!
//! `P=local*` or no `H=` is local; `P=*esmtpa`/`*esmtpsa` or an `A=` field is an
//! authenticated submission. `H=... F=<ADDR> rejected ...` lines are refused attempts.
//! Delivery lines (`=>`, `->`, `**`, `==`) carry the *remote* host in `H=` and are never
//! read. Only the last bracketed address of `H=` is trusted, as Exim's spec says: the HELO
//! in parentheses may itself look like `[192.0.2.1]`.

use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;

use super::ExtractOptions;
use super::postfix::take_address;
use crate::model::address::normalize_address;
use crate::model::{Record, SkipReason};
use crate::net::parse_ip;

/// True for the syslog program names Exim logs under.
pub fn is_exim(program: &[u8]) -> bool {
    program == b"exim" || program == b"exim4"
}

/// Strips the mainlog prefix: date, time with optional fraction, optional `+zzzz` zone,
/// optional `[pid]`. `None` when the line does not start like a mainlog line.
pub fn mainlog_message(line: &str) -> Option<&str> {
    if !may_be_mainlog(line.as_bytes()) {
        return None;
    }
    let mut rest = &line[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[n..];
    }
    rest = rest.strip_prefix(' ')?;
    if let Some(zone) = rest.strip_prefix(['+', '-'])
        && zone.len() > 5
        && digits(&zone.as_bytes()[..4])
        && zone.as_bytes()[4] == b' '
    {
        rest = &zone[5..];
    }
    if let Some(pid) = rest.strip_prefix('[')
        && let Some(close) = pid.find("] ")
        && digits(&pid.as_bytes()[..close])
    {
        rest = &pid[close + 2..];
    }
    Some(rest)
}

/// True when a line starts with the mainlog's `YYYY-MM-DD hh:mm:ss`: the cheap test the bulk
/// reader makes before decoding a line that has no syslog prefix.
pub fn may_be_mainlog(b: &[u8]) -> bool {
    b.len() > 20
        && digits(&b[0..4])
        && b[4] == b'-'
        && digits(&b[5..7])
        && b[7] == b'-'
        && digits(&b[8..10])
        && b[10] == b' '
        && digits(&b[11..13])
        && b[13] == b':'
        && digits(&b[14..16])
        && b[16] == b':'
        && digits(&b[17..19])
}

fn digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// A message id: 4.96 and older `16ZCW1-0005MB-00` (6-6-2), 4.97+ `10HmaY-000000005vi-0000`
/// (6-11-4), base-62. One pattern for both lengths, never column offsets: eximstats and
/// MailScanner broke on the 4.97 change by reading the id at fixed columns.
static MESSAGE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4})$")
        .expect("the message id pattern is valid")
});

fn is_message_id(id: &str) -> bool {
    MESSAGE_ID.is_match(id)
}

/// The record for one Exim log message (after the prefix), if it is one that counts.
pub fn message(msg: &str, opts: &ExtractOptions) -> Option<Record> {
    if msg.starts_with("H=") {
        return rejected(msg, opts);
    }
    let (id, rest) = msg.split_once(' ')?;
    if !is_message_id(id) {
        return None;
    }
    if let Some(arrival) = rest.strip_prefix("<= ") {
        return Some(arrival_record(arrival, opts));
    }
    // `ID H=... F=<ADDR> rejected after DATA: ...`, and local_scan()'s
    // `ID F=<ADDR> H=... P=... rejected by local_scan(): ...`, which names the sender first.
    (rest.starts_with("H=") || rest.starts_with("F="))
        .then(|| rejected(rest, opts))
        .flatten()
}

/// `SENDER H=... P=... A=... S=...` after `<= `.
fn arrival_record(arrival: &str, opts: &ExtractOptions) -> Record {
    let (sender, fields) = split_sender(arrival);
    let protocol = field(fields, "P").unwrap_or("");
    let Some(host) = field_start(fields, "H") else {
        return Record::Skipped(SkipReason::Local);
    };
    if protocol.contains("local") {
        return Record::Skipped(SkipReason::Local);
    }
    let Some((ip, helo)) = parse_host(host) else {
        return Record::Skipped(SkipReason::Malformed);
    };
    if is_authenticated(protocol) || field(fields, "A").is_some() {
        Record::Skipped(SkipReason::Authenticated)
    } else if opts.is_internal(ip) {
        Record::Skipped(SkipReason::Internal)
    } else {
        opts.observe(normalize_address(sender), Some(ip), helo)
    }
}

/// `H=HOST [IP]:PORT ... F=<ADDR> rejected RCPT <...>: ...` (also `rejected MAIL`,
/// `rejected after DATA`, and `F=<ADDR> H=... rejected by local_scan()`): an attempt Exim
/// refused.
fn rejected(msg: &str, opts: &ExtractOptions) -> Option<Record> {
    let reject = msg.find(" rejected ")?;
    let before = &msg[..reject];
    let from = field_start(before, "F")?;
    // Exim writes `F=<addr>`; some older logs show it without brackets.
    let sender = match from.strip_prefix('<') {
        Some(bracketed) => take_address(bracketed)?.0,
        None => &from[..from.find(' ').unwrap_or(from.len())],
    };
    let host = field_start(before, "H")?;
    let Some((ip, helo)) = parse_host(host) else {
        return Some(Record::Skipped(SkipReason::Malformed));
    };
    Some(if !opts.include_rejected {
        Record::Skipped(SkipReason::Rejected)
    } else if opts.is_internal(ip) {
        Record::Skipped(SkipReason::Internal)
    } else {
        opts.observe(normalize_address(sender), Some(ip), helo)
    })
}

/// `esmtpa`, `esmtpsa`, `utf8esmtpsa`, `smtpa`...: the `a` marks an AUTH'd session.
fn is_authenticated(protocol: &str) -> bool {
    protocol.ends_with("smtpa") || protocol.ends_with("smtpsa")
}

/// The sender (`<>`, `addr`, `"quoted local"@domain`) and the fields after it.
fn split_sender(text: &str) -> (&str, &str) {
    let end = if let Some(quoted) = text.strip_prefix('"') {
        quoted
            .find('"')
            .map(|q| q + 2 + text[q + 2..].find(' ').unwrap_or(text.len() - q - 2))
            .unwrap_or(text.len())
    } else {
        text.find(' ').unwrap_or(text.len())
    };
    let sender = &text[..end];
    let sender = if sender == "<>" { "" } else { sender };
    (sender, text[end..].trim_start())
}

/// Where the value of ` KEY=` (or a leading `KEY=`) starts, to the end of the text.
fn field_start<'a>(fields: &'a str, key: &str) -> Option<&'a str> {
    let mut search = 0;
    while let Some(pos) = fields[search..].find(key).map(|p| p + search) {
        let after = pos + key.len();
        let boundary = pos == 0 || fields.as_bytes()[pos - 1] == b' ';
        if boundary && fields[after..].starts_with('=') {
            return Some(&fields[after + 1..]);
        }
        search = after;
    }
    None
}

/// A one-token field value (`P=esmtps`).
fn field<'a>(fields: &'a str, key: &str) -> Option<&'a str> {
    field_start(fields, key).map(|v| &v[..v.find(' ').unwrap_or(v.len())])
}

/// `NAME [IP]`, `(HELO) [IP]`, `NAME (HELO) [IP]:PORT`, `[IP]`, `([10.0.0.1]) [IP]`: the
/// client address and the HELO name (the parenthesised part, else the verified name).
fn parse_host(value: &str) -> Option<(IpAddr, Option<&str>)> {
    let mut rest = value;
    let mut name = None;
    if !rest.starts_with(['(', '[']) {
        let end = rest.find(' ')?;
        name = Some(&rest[..end]);
        rest = &rest[end + 1..];
    }
    let mut helo = name;
    if let Some(inner) = rest.strip_prefix('(') {
        // Exim refuses HELO arguments with spaces, so the first `) [` closes the HELO.
        let close = inner.find(") [")?;
        helo = Some(&inner[..close]);
        rest = &inner[close + 2..];
    }
    let inner = rest.strip_prefix('[')?;
    let ip = parse_ip(&inner[..inner.find(']')?])?;
    Some((ip, helo))
}

#[cfg(test)]
mod tests {
    use super::super::NullSenderMode;
    use super::*;
    use crate::model::{PairKey, Sender};

    fn read(log: &str, opts: &ExtractOptions) -> Vec<Record> {
        log.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .filter_map(|l| message(mainlog_message(l).expect(l), opts))
            .collect()
    }

    fn obs(sender: Sender, ip: &str) -> Record {
        Record::Observed(PairKey {
            sender,
            ip: Some(ip.parse().unwrap()),
        })
    }

    fn skip(reason: SkipReason) -> Record {
        Record::Skipped(reason)
    }

    #[test]
    fn mainlog_prefixes() {
        assert_eq!(
            mainlog_message("2002-10-31 08:57:53 16ZCW1-0005MB-00 <= a@b"),
            Some("16ZCW1-0005MB-00 <= a@b")
        );
        assert_eq!(
            mainlog_message("2017-07-30 18:51:05.712 +0200 [4242] 10HmaX-000000005vi-0000 <= x"),
            Some("10HmaX-000000005vi-0000 <= x")
        );
        assert_eq!(
            mainlog_message("2013-06-10 18:33:32 [10099] H=(y) [202.132.70.178]:3755 F=<a@b>"),
            Some("H=(y) [202.132.70.178]:3755 F=<a@b>")
        );
        assert_eq!(
            mainlog_message("Jun  1 19:00:55 mx postfix/smtpd[1]: x"),
            None
        );
        assert_eq!(mainlog_message("2002-10-31T08:57:53 x"), None);
    }

    #[test]
    fn arrivals_in_every_host_form() {
        let log = "
            2002-10-31 08:57:53 16ZCW1-0005MB-00 <= kryten@dwarf.fict.example H=mailer.fict.example [192.0.2.123] U=exim P=smtp S=5678 id=<incoming message id>
            2026-11-28 10:00:01 10HmbC-000000005vi-0000 <= CALLER@Server1.Example.COM H=(helo.data.changed) [198.51.100.4]:4567 P=esmtps X=TLS1.3 S=sss for a@test.ex
            2026-11-28 10:00:02.712 +0100 10HmbA-000000005vi-0000 <= b@one.example H=mx.one.example (one-helo) [203.0.113.9]:25 TFO* P=esmtps L* X=TLS1.3 S=1 for b@test.ex
            2026-11-28 10:00:03 10HmaZ-000000005vi-0000 <= <> H=([IPV6:2001:db8::99]) [2001:db8::1]:999 P=esmtp S=sss
            2026-11-28 10:00:04 10HmaW-000000005vi-0000 <= \"john smith\"@quoted.example H=[192.0.2.200] P=esmtp S=1";
        assert_eq!(
            read(log, &ExtractOptions::default()),
            vec![
                obs(Sender::Domain("dwarf.fict.example".into()), "192.0.2.123"),
                obs(Sender::Domain("server1.example.com".into()), "198.51.100.4"),
                obs(Sender::Domain("one.example".into()), "203.0.113.9"),
                obs(Sender::Null, "2001:db8::1"),
                obs(Sender::Domain("quoted.example".into()), "192.0.2.200"),
            ]
        );
    }

    #[test]
    fn local_authenticated_internal_and_munged() {
        let log = "
            1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@server1.example.com U=CALLER P=local S=sss for norequire@test.ex
            1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= <> R=10HmaX-000000005vi-0000 U=EXIMUSER P=local S=sss
            1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER P=local-smtp S=sss
            1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= userx@test.ex H=(rhu.barb) [192.0.2.1] U=CALLER P=esmtpa A=plain S=sss
            1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= usery@test.ex H=(rhu.barb) [192.0.2.2] P=esmtp A=dovecot_plain:usery S=sss
            1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= a@test.ex H=(tester) [127.0.0.1] P=smtp S=sss
            1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= b@test.ex H=(tester) [10.1.2.3] P=smtp S=sss
            1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= CALLER@server1.example.com H=the.local.host.name (server1.example.com) [ip4.ip4.ip4.ip4] P=esmtps S=sss
            1999-03-02 09:44:33 10HmaY-000000005vi-0000 => x@y.example R=dnslookup T=remote_smtp H=mx.y.example [192.0.2.77]
            1999-03-02 09:44:33 10HmaY-000000005vi-0000 Completed";
        use SkipReason::*;
        assert_eq!(
            read(log, &ExtractOptions::default()),
            vec![
                skip(Local),
                skip(Local),
                skip(Local),
                skip(Authenticated),
                skip(Authenticated),
                skip(Internal),
                skip(Internal),
                skip(Malformed),
            ]
        );
    }

    #[test]
    fn rejected_attempts_and_helo_for_null_senders() {
        let log = "
            2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [202.132.70.178]:3755 I=[1.2.3.4]:25 F=menacedsj04@listserv.eurasia.org rejected RCPT dir@ml3.ru: relay not permitted
            2022-06-29 15:33:46 H=test.com [192.0.2.4]:53343 F=<info@test.com> rejected RCPT <toto@toto.com>: \"JunkMail rejected - test.com\"
            2026-11-28 10:00:00 1rXyZa-000AbC-2D H=(bounce.example) [192.0.2.5] F=<> rejected after DATA: spam
            2026-11-28 10:00:01 10HmaZ-000000005vi-0000 <= <> H=(helo.null.example) [192.0.2.6] P=esmtp S=1";
        let opts = ExtractOptions {
            include_rejected: true,
            null_sender: NullSenderMode::Helo,
            ..ExtractOptions::default()
        };
        let d = |s: &str| Sender::Domain(s.into());
        assert_eq!(
            read(log, &opts),
            vec![
                obs(d("listserv.eurasia.org"), "202.132.70.178"),
                obs(d("test.com"), "192.0.2.4"),
                obs(d("bounce.example"), "192.0.2.5"),
                obs(d("helo.null.example"), "192.0.2.6"),
            ]
        );
        let default = read(log, &ExtractOptions::default());
        assert!(
            default[..3]
                .iter()
                .all(|r| *r == skip(SkipReason::Rejected))
        );
    }

    #[test]
    fn local_scan_rejects_name_the_sender_before_the_host() {
        // Shape of fail2ban's exim-spam lines: local_scan() logs F= before H=.
        let log = "
            2004-01-18 07:15:35 1Ai79e-0000Dq-8i F=spam@sender.example H=dsl.example.net [198.51.100.40] P=smtp rejected by local_scan(): spam
            2013-06-09 10:21:28 [14127] 1UlasQ-0003fr-45 F=<a@other.example> H=(helo.example) [203.0.113.82]:43671 I=[192.0.2.1]:25 P=esmtp rejected by local_scan(): 5.7.1 Spam";
        let opts = ExtractOptions {
            include_rejected: true,
            ..ExtractOptions::default()
        };
        let d = |s: &str| Sender::Domain(s.into());
        assert_eq!(
            read(log, &opts),
            vec![
                obs(d("sender.example"), "198.51.100.40"),
                obs(d("other.example"), "203.0.113.82"),
            ]
        );
        assert_eq!(
            read(log, &ExtractOptions::default()),
            vec![skip(SkipReason::Rejected); 2]
        );
    }

    #[test]
    fn message_ids() {
        assert!(is_message_id("16ZCW1-0005MB-00"));
        assert!(is_message_id("10HmaY-000000005vi-0000"));
        assert!(!is_message_id("16ZCW1-0005MB"));
        assert!(!is_message_id("16ZCW1-0005MB-00-1"));
        assert!(!is_message_id("dovecot_login"));
        assert!(
            !is_message_id("16ZCW1-0005MB-0\u{e9}"),
            "ASCII base-62 only"
        );
        assert!(
            !is_message_id("10HmaY-00000005vi-00000"),
            "6-10-5 is neither form"
        );
    }
}

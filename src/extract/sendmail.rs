//! Sendmail logs (docs/design.md §3): one `QID: from=<ADDR>, size=..., nrcpts=N, ..., relay=HOST [IP]`
//! line per message carries both the envelope sender and the client, so no join by queue id
//! is needed. What decides the skip reasons:
//!
//! - a relay without an address (`relay=localhost`, `relay=user@localhost`) is a local
//!   submission; the MSP's hand-off to the MTA over `[127.0.0.1]` is loopback, so internal;
//! - `daemon=MSA` (the submission port) or an `AUTH=server, relay=...` line from the same
//!   process and client is an authenticated submission;
//! - `nrcpts=0` means every recipient was refused, and a `ruleset=check_mail` reject refused
//!   the sender itself: both are rejected attempts (pairs only with `--include-rejected`).
//!   `check_rcpt` rejects are not counted apart, since the session's `from=` line with its
//!   `nrcpts=` already stands for that attempt.

use std::collections::HashMap;
use std::net::IpAddr;

use super::ExtractOptions;
use super::postfix::take_address;
use super::syslog::SyslogLine;
use crate::model::address::normalize_address;
use crate::model::{Record, Sender, SkipReason};
use crate::net::parse_ip;

/// True for the program names sendmail logs under (`sendmail`, `sm-mta`,
/// `sm-acceptingconnections`, `sm-msp-queue`, ...).
pub fn is_sendmail(program: &[u8]) -> bool {
    program == b"sendmail" || program.starts_with(b"sm-")
}

/// True for the messages [`SendmailLog::feed`] reads: AUTH marks, `from=` lines and
/// `check_mail` rejects. Lets the bulk reader drop the rest on their first bytes.
pub fn wants(msg: &[u8]) -> bool {
    if msg.starts_with(b"AUTH=server, ") {
        return true;
    }
    let len = queue_id_len(msg);
    len >= 8 && msg[len..].starts_with(b": ") && {
        let rest = &msg[len + 2..];
        rest.starts_with(b"from=") || rest.starts_with(b"ruleset=check_mail, ")
    }
}

/// How many processes' AUTH marks are remembered before the oldest half is dropped; a mark
/// is only needed between the AUTH line and the `from=` line of the same session.
const MAX_AUTH_MARKS: usize = 65_536;

pub struct SendmailLog {
    opts: ExtractOptions,
    /// (host, pid) → the client that authenticated in that process.
    authenticated: HashMap<(String, String), IpAddr>,
}

/// The `relay=` value: a host name, an address in brackets, or both.
#[derive(Debug, PartialEq, Eq)]
enum Relay {
    /// No address: a local submission (`localhost`, `user@localhost`).
    Local,
    Client(IpAddr),
    /// Brackets that do not hold an address (anonymised logs: `[123.456.789.1]`).
    Invalid,
}

impl SendmailLog {
    pub fn new(opts: ExtractOptions) -> Self {
        SendmailLog {
            opts,
            authenticated: HashMap::new(),
        }
    }

    pub fn feed(&mut self, line: &SyslogLine<'_>, emit: &mut dyn FnMut(Record)) {
        let msg = line.message;
        if let Some(fields) = msg.strip_prefix("AUTH=server, ") {
            self.remember_auth(line, fields);
            return;
        }
        let Some((_qid, rest)) = split_queue_id(msg) else {
            return;
        };
        if let Some(value) = rest.strip_prefix("from=") {
            if let Some(name) = self.client_name(value) {
                emit(name);
            }
            emit(self.envelope_line(line, value));
        } else if rest.starts_with("ruleset=check_mail, ")
            && rest.contains(", reject=")
            && let Some(record) = self.check_mail(rest)
        {
            emit(record);
        }
    }

    /// The confirmed `relay=NAME [IP]` of a `from=` line as a `Record::ClientName`: a name
    /// sendmail could not confirm is marked `(may be forged)` and gives none.
    fn client_name(&self, value: &str) -> Option<Record> {
        if !self.opts.client_names {
            return None;
        }
        let relay = field(value, "relay")?;
        if relay.ends_with("(may be forged)") {
            return None;
        }
        let (name, _) = relay.split_once(" [")?;
        match parse_relay(relay) {
            Relay::Client(ip) => self.opts.client_name(name, ip),
            _ => None,
        }
    }

    fn remember_auth(&mut self, line: &SyslogLine<'_>, fields: &str) {
        if let Some(Relay::Client(ip)) = field(fields, "relay").map(parse_relay) {
            if self.authenticated.len() >= MAX_AUTH_MARKS {
                self.authenticated.clear();
            }
            self.authenticated
                .insert((line.host.to_owned(), line.pid.to_owned()), ip);
        }
    }

    /// `from=<ADDR>, size=N, class=C, nrcpts=N, msgid=<..>, proto=P, daemon=D, relay=R`.
    fn envelope_line(&mut self, line: &SyslogLine<'_>, value: &str) -> Record {
        let (sender, fields) = match value.strip_prefix('<') {
            Some(bracketed) => match take_address(bracketed) {
                Some((addr, fields)) => (normalize_address(addr), fields),
                None => return Record::Skipped(SkipReason::Malformed),
            },
            // `from=user`: a local user of the MSP, no domain.
            None => match value.split_once(", ") {
                Some((user, fields)) if user.contains('@') => (normalize_address(user), fields),
                Some((_, fields)) => (Sender::Missing, fields),
                None => (Sender::Missing, ""),
            },
        };
        let ip = match field(fields, "relay").map(parse_relay) {
            None | Some(Relay::Local) => return Record::Skipped(SkipReason::Local),
            Some(Relay::Invalid) => return Record::Skipped(SkipReason::Malformed),
            Some(Relay::Client(ip)) => ip,
        };
        let key = (line.host.to_owned(), line.pid.to_owned());
        let authenticated =
            field(fields, "daemon") == Some("MSA") || self.authenticated.get(&key) == Some(&ip);
        if authenticated {
            Record::Skipped(SkipReason::Authenticated)
        } else if self.opts.is_internal(ip) {
            Record::Skipped(SkipReason::Internal)
        } else if field(fields, "nrcpts") == Some("0") && !self.opts.include_rejected {
            Record::Skipped(SkipReason::Rejected)
        } else if matches!(sender, Sender::Missing) {
            Record::Skipped(SkipReason::Local)
        } else {
            self.opts.observe(sender, Some(ip), None)
        }
    }

    /// `ruleset=check_mail, arg1=<ADDR>, relay=R, reject=...`: the sender was refused.
    fn check_mail(&self, rest: &str) -> Option<Record> {
        let sender = field(rest, "arg1")?;
        let sender = normalize_address(sender.trim_start_matches('<').trim_end_matches('>'));
        let ip = match field(rest, "relay").map(parse_relay)? {
            Relay::Client(ip) => ip,
            Relay::Local => return None,
            Relay::Invalid => return Some(Record::Skipped(SkipReason::Malformed)),
        };
        Some(if !self.opts.include_rejected {
            Record::Skipped(SkipReason::Rejected)
        } else if self.opts.is_internal(ip) {
            Record::Skipped(SkipReason::Internal)
        } else {
            self.opts.observe(sender, Some(ip), None)
        })
    }
}

/// `QID: rest` with a sendmail queue id (14 or more letters and digits).
fn split_queue_id(msg: &str) -> Option<(&str, &str)> {
    let len = queue_id_len(msg.as_bytes());
    (len >= 8 && msg[len..].starts_with(": ")).then(|| (&msg[..len], &msg[len + 2..]))
}

fn queue_id_len(msg: &[u8]) -> usize {
    msg.iter().take_while(|c| c.is_ascii_alphanumeric()).count()
}

/// The value of `name=` in a `, `-separated field list; the last occurrence wins, because
/// only the last `relay=` is sendmail's own (an AUTH user name can inject one before it).
fn field<'a>(fields: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    let mut search = 0;
    while let Some(pos) = fields[search..].find(name).map(|p| p + search) {
        search = pos + name.len();
        let starts_field = pos == 0 || fields[..pos].ends_with(", ");
        if starts_field && fields[search..].starts_with('=') {
            let value = &fields[search + 1..];
            found = Some(&value[..value_end(value)]);
        }
    }
    found
}

/// A value ends at the `, ` that starts the next `key=` field (a relay value may contain
/// spaces: `host [192.0.2.1] (may be forged)`).
fn value_end(value: &str) -> usize {
    let mut from = 0;
    while let Some(pos) = value[from..].find(", ").map(|p| p + from) {
        let next = &value[pos + 2..];
        let key_len = next
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if key_len > 0 && next[key_len..].starts_with('=') {
            return pos;
        }
        from = pos + 2;
    }
    value.len()
}

/// `host [IP]`, `[IP]`, `host. [IP] (may be forged)`, `[IPv6:...]`, `localhost`.
fn parse_relay(value: &str) -> Relay {
    let value = value.trim_end_matches(" (may be forged)");
    let Some(open) = value.rfind('[') else {
        return Relay::Local;
    };
    let close = value[open..].find(']').map_or(value.len(), |c| c + open);
    match parse_ip(&value[open + 1..close]) {
        Some(ip) => Relay::Client(ip),
        None => Relay::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::super::syslog;
    use super::*;
    use crate::model::PairKey;

    fn run_with(opts: ExtractOptions, log: &str) -> Vec<Record> {
        let mut sendmail = SendmailLog::new(opts);
        let mut out = Vec::new();
        for text in log.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let line = syslog::split(text).unwrap_or_else(|| panic!("not syslog: {text:?}"));
            assert!(is_sendmail(line.program.as_bytes()), "{text}");
            sendmail.feed(&line, &mut |r| out.push(r));
        }
        out
    }

    fn run(log: &str) -> Vec<Record> {
        run_with(ExtractOptions::default(), log)
    }

    fn obs(sender: Sender, ip: &str) -> Record {
        Record::Observed(PairKey {
            sender,
            ip: Some(ip.parse().unwrap()),
        })
    }

    fn domain(d: &str) -> Sender {
        Sender::Domain(d.into())
    }

    #[test]
    fn client_names_skip_the_ones_sendmail_calls_forged() {
        let log = "
            Aug  8 12:28:47 ns2 sm-mta[13165]: j78ASk4e013165: from=<kweek@Glurpp.BAF>, size=786, class=0, nrcpts=1, msgid=<2005@x>, proto=ESMTP, daemon=MTA-v4, relay=MX1.glurpp.baf. [62.210.95.136]
            Aug  8 12:28:48 ns2 sm-mta[13166]: j78ASk4e013166: from=<a@forged.example>, size=1, class=0, nrcpts=1, msgid=<a, b@x>, proto=SMTP, daemon=MTA, relay=helo.example [192.0.2.12] (may be forged)
            Aug  8 12:28:49 ns2 sm-mta[13167]: j78ASk4e013167: from=<>, size=1, class=0, nrcpts=1, proto=ESMTP, daemon=MTA, relay=[192.0.2.13]";
        let named = ExtractOptions {
            client_names: true,
            ..ExtractOptions::default()
        };
        let names: Vec<Record> = run_with(named, log)
            .into_iter()
            .filter(|r| matches!(r, Record::ClientName { .. }))
            .collect();
        assert_eq!(
            names,
            vec![Record::ClientName {
                ip: "62.210.95.136".parse().unwrap(),
                name: "mx1.glurpp.baf".into(),
            }]
        );
    }

    #[test]
    fn relay_forms() {
        let log = "
            Aug  8 12:28:47 ns2 sm-mta[13165]: j78ASk4e013165: from=<kweek@Glurpp.BAF>, size=786, class=0, nrcpts=1, msgid=<2005@x>, proto=ESMTP, daemon=MTA-v4, relay=mx1.glurpp.baf [62.210.95.136]
            Aug  8 12:28:48 ns2 sm-mta[13166]: j78ASk4e013166: from=<a@forged.example>, size=1, class=0, nrcpts=1, msgid=<a, b@x>, proto=SMTP, daemon=MTA, relay=helo.example [192.0.2.12] (may be forged)
            Aug  8 12:28:49 ns2 sm-mta[13167]: j78ASk4e013167: from=<>, size=1, class=0, nrcpts=1, proto=ESMTP, daemon=MTA, relay=[192.0.2.13]
            Aug  8 12:28:50 ns2 sendmail[13168]: j78ASk4e013168: from=<b@six.example>, size=1, class=0, nrcpts=2, proto=ESMTP, daemon=MTA-v6, relay=mail.six.example. [IPv6:2001:DB8::1]
            Aug  8 12:28:51 ns2 sm-mta[13169]: j78ASk4e013169: from=<c@anon.example>, size=1, class=0, nrcpts=1, proto=ESMTP, daemon=MTA, relay=x [123.456.789.1]";
        assert_eq!(
            run(log),
            vec![
                obs(domain("glurpp.baf"), "62.210.95.136"),
                obs(domain("forged.example"), "192.0.2.12"),
                obs(Sender::Null, "192.0.2.13"),
                obs(domain("six.example"), "2001:db8::1"),
                Record::Skipped(SkipReason::Malformed),
            ]
        );
    }

    #[test]
    fn local_submissions_and_the_msp_hand_off() {
        // Real lines (mtalog-parse-syslog-mail): the MSP logs the user, then the MTA logs
        // the same message again under a second queue id, received over loopback.
        let log = "
            Jan  6 02:37:32 Jupiter sendmail[809]: j061bW9V000809: from=maddingue, size=2039, class=0, nrcpts=1, msgid=<200501060137.j061bW9V000809@jupiter.maddingue.net>, relay=localhost
            Jan  6 02:37:33 Jupiter sendmail[812]: j061bXn5000812: from=<maddingue@jupiter.maddingue.net>, size=2262, class=0, nrcpts=1, msgid=<200501060137.j061bW9V000809@jupiter.maddingue.net>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]
            Jan  6 02:37:34 Jupiter sendmail[813]: j061bXn5000813: from=<root@jupiter.example>, size=1, class=0, nrcpts=1, relay=root@localhost";
        assert_eq!(
            run(log),
            vec![
                Record::Skipped(SkipReason::Local),
                Record::Skipped(SkipReason::Internal),
                Record::Skipped(SkipReason::Local),
            ]
        );
    }

    #[test]
    fn authenticated_by_msa_or_auth_line_of_the_same_process() {
        let log = "
            Mar  3 10:00:00 mx sm-mta[100]: s23A00aa000100: from=<u@site.example>, size=1, class=0, nrcpts=1, proto=ESMTPSA, daemon=MSA, relay=laptop [203.0.113.5]
            Mar  3 10:00:01 mx sm-mta[101]: AUTH=server, relay=phone.example [203.0.113.6], authid=u, mech=PLAIN, bits=0
            Mar  3 10:00:02 mx sm-mta[101]: s23A00aa000101: from=<u@site.example>, size=1, class=0, nrcpts=1, proto=ESMTPA, daemon=MTA, relay=phone.example [203.0.113.6]
            Mar  3 10:00:03 mx sm-mta[102]: s23A00aa000102: from=<v@other.example>, size=1, class=0, nrcpts=1, proto=ESMTP, daemon=MTA, relay=[203.0.113.6]";
        assert_eq!(
            run(log),
            vec![
                Record::Skipped(SkipReason::Authenticated),
                Record::Skipped(SkipReason::Authenticated),
                obs(domain("other.example"), "203.0.113.6"),
            ]
        );
    }

    #[test]
    fn rejects_count_only_when_asked() {
        let log = "
            Feb 23 21:36:14 petermurray sm-mta[22248]: s1NLaDQT022248: ruleset=check_rcpt, arg1=<dautareuk2@hotmail.it>, relay=int0.client.access.azadnet.net [80.253.155.119] (may be forged), reject=550 5.7.1 <dautareuk2@hotmail.it>... Relaying denied. IP name possibly forged [80.253.155.119]
            Feb 23 21:36:15 petermurray sm-mta[22248]: s1NLaDQT022248: from=<spam@forged.example>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=int0.client.access.azadnet.net [80.253.155.119] (may be forged)
            Feb 23 21:36:16 petermurray sm-mta[22249]: s1NLaDQT022249: ruleset=check_mail, arg1=<x@nowhere.example>, relay=[192.0.2.7], reject=553 5.1.8 <x@nowhere.example>... Domain of sender address x@nowhere.example does not exist
            Feb 24 01:46:44 petermurray sm-mta[24422]: ruleset=check_relay, arg1=leased-line-54-82.telecom.by, arg2=217.21.54.82, relay=leased-line-54-82.telecom.by [217.21.54.82], reject=421 4.3.2 Connection rate limit exceeded.";
        assert_eq!(
            run(log),
            vec![
                Record::Skipped(SkipReason::Rejected),
                Record::Skipped(SkipReason::Rejected),
            ]
        );
        let opts = ExtractOptions {
            include_rejected: true,
            ..ExtractOptions::default()
        };
        assert_eq!(
            run_with(opts, log),
            vec![
                obs(domain("forged.example"), "80.253.155.119"),
                obs(domain("nowhere.example"), "192.0.2.7"),
            ]
        );
    }

    #[test]
    fn fields_with_commas_and_injected_relays() {
        assert_eq!(
            field("msgid=<a, b@x>, relay=h [192.0.2.1]", "relay"),
            Some("h [192.0.2.1]")
        );
        assert_eq!(
            field(
                "user=x, relay=[192.0.2.100], relay=[192.0.2.4] (may be forged)",
                "relay"
            ),
            Some("[192.0.2.4] (may be forged)")
        );
        assert_eq!(field("xrelay=a", "relay"), None);
        assert_eq!(parse_relay("localhost"), Relay::Local);
        assert_eq!(parse_relay("[garbage"), Relay::Invalid);
    }
}

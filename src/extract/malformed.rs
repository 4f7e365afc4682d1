//! Why a log line was malformed, in words, for `--strict`'s error. The extractors only count
//! a malformed record (a skipped reason is all a report needs, and they run on every line);
//! the one line `--strict` stops at is looked at again here, so the user learns which field
//! was wrong without the hot path carrying explanations. The fields are the ones the
//! extractors refuse: a client address that is missing or not an IP (postfix `client=`,
//! exim `H=`, sendmail `relay=`, postfix NOQUEUE's client), and a sender that is not an
//! address in angle brackets (`from=`, `F=`).

use crate::net::parse_ip;

/// What is wrong with `line`, or `None` when none of the checked fields is at fault.
pub fn explain(line: &str) -> Option<String> {
    if let Some(value) = field(line, " client=") {
        return bracketed(value, "client=");
    }
    if let Some(reject) = field(line, "NOQUEUE: ") {
        return noqueue(reject);
    }
    if line.contains(" <= ") {
        if let Some(value) = field(line, " H=")
            && let Some(why) = exim_host(value)
        {
            return Some(why);
        }
        return field(line, " F=").and_then(|v| angle(v, "F="));
    }
    if let Some(value) = field(line, " relay=") {
        let value = value.split(", ").next().unwrap_or(value);
        if let Some(open) = value.rfind('[')
            && let Some(why) = bracketed(&value[open..], "relay=")
        {
            return Some(why);
        }
    }
    field(line, " from=").and_then(|v| angle(v, "from="))
}

/// The text after `marker`.
fn field<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|p| &line[p + marker.len()..])
}

/// `NAME[IP]...`: what is wrong with the bracketed address, if anything.
fn bracketed(value: &str, name: &str) -> Option<String> {
    let Some(open) = value.find('[') else {
        let shown = value.split([',', ' ']).next().unwrap_or(value);
        return Some(format!(
            "{name}{shown} gives no client address in [brackets]"
        ));
    };
    let inner = &value[open + 1..];
    let Some(close) = inner.find(']') else {
        return Some(format!("the address after {name} has no closing ']'"));
    };
    let address = &inner[..close];
    if parse_ip(address).is_none() {
        return Some(format!(
            "the client address {address:?} after {name} is not an IP address"
        ));
    }
    None
}

/// `<ADDR>...`: a sender must be an address in angle brackets.
fn angle(value: &str, name: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('<') else {
        let shown = value.split([',', ' ']).next().unwrap_or(value);
        return Some(format!(
            "the sender {name}{shown} is not an address in <angle brackets>"
        ));
    };
    if !inner.contains('>') {
        return Some(format!("the sender after {name}< has no closing '>'"));
    }
    None
}

/// `reject: STAGE from CLIENT: REPLY; from=<ADDR> ...`.
fn noqueue(reject: &str) -> Option<String> {
    let (_, rest) = reject.split_once(" from ")?;
    let client = &rest[..rest.find(' ').unwrap_or(rest.len())];
    if let Some(why) = bracketed(client, "from ") {
        return Some(why);
    }
    match field(rest, "; from=") {
        Some(sender) => angle(sender, "from="),
        None => Some("the reject line names no sender (; from=<...>)".to_string()),
    }
}

/// Exim's `H=NAME (HELO) [IP]`.
fn exim_host(value: &str) -> Option<String> {
    let end = value
        .find(" P=")
        .or_else(|| value.find(" S="))
        .unwrap_or(value.len());
    bracketed(&value[..end], "H=")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The malformed lines of the extractors' own tests, each explained.
    #[test]
    fn each_malformed_line_says_which_field_is_wrong() {
        let cases = [
            (
                "Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE1: client=anon[123.456.789.1]",
                "the client address \"123.456.789.1\" after client= is not an IP address",
            ),
            (
                "Jun  1 19:00:57 mx postfix/smtpd[1]: ABCDE2: client=anon",
                "client=anon gives no client address in [brackets]",
            ),
            (
                "Jun  1 19:00:59 mx postfix/qmgr[2]: ABCDE3: from=a@example.org, size=1, nrcpt=1 (queue active)",
                "the sender from=a@example.org is not an address in <angle brackets>",
            ),
            (
                "Jun  1 19:01:01 mx postfix/qmgr[2]: ABCDE4: from=<unterminated, size=1",
                "the sender after from=< has no closing '>'",
            ),
            (
                "Jun  1 19:00:55 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 550 no; to=<b@example.net> proto=ESMTP helo=<x>",
                "the reject line names no sender (; from=<...>)",
            ),
            (
                "Aug  8 12:28:51 ns2 sm-mta[13169]: j78ASk4e013169: from=<c@anon.example>, size=1, class=0, nrcpts=1, proto=ESMTP, daemon=MTA, relay=x [123.456.789.1]",
                "the client address \"123.456.789.1\" after relay= is not an IP address",
            ),
            (
                "2026-11-28 10:00:01 10HmaX-000000005vi-0000 <= a@b.example H=mail.b.example [192.0.2.300] P=esmtp S=1",
                "the client address \"192.0.2.300\" after H= is not an IP address",
            ),
        ];
        for (line, why) in cases {
            assert_eq!(explain(line).as_deref(), Some(why), "{line}");
        }
    }

    #[test]
    fn a_sound_line_has_nothing_to_explain() {
        for line in [
            "Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=out.shop.example[192.0.2.10]",
            "Jun  4 10:01:00 mx postfix/qmgr[102]: 4A1B2C3D4E: from=<orders@shop.example>, size=1200, nrcpt=1 (queue active)",
            "2026-11-28 10:00:01 10HmaX-000000005vi-0000 <= a@b.example H=mail.b.example [192.0.2.3] P=esmtp S=1",
        ] {
            assert_eq!(explain(line), None, "{line}");
        }
    }
}

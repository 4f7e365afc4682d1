//! Envelope addresses to sender domains (docs/design.md §3 "Domain normalisation"): the part after
//! the last `@` outside quotes, source routes dropped, trailing dot removed, lowercased,
//! IDN to A-labels. Anything that is not a host name becomes [`Sender::Malformed`], a
//! permanent condition reported as `unknown`, never a DNS failure.

use super::Sender;

/// Longest text kept from a malformed sender, so hostile input cannot bloat the report.
const MALFORMED_KEEP: usize = 100;

/// Normalises an envelope address as logged or stored: `<user@Example.ORG.>`, `user@d`,
/// `"jane doe"@d`, `<@a,@b:user@d>`, `<>`, `MAILER-DAEMON`.
pub fn normalize_address(raw: &str) -> Sender {
    let mut s = raw.trim();
    if let Some(inner) = s.strip_prefix('<') {
        s = inner.strip_suffix('>').unwrap_or(inner).trim();
    }
    if s.is_empty() || s.eq_ignore_ascii_case("mailer-daemon") {
        return Sender::Null;
    }
    // RFC 5321 source route: `@a,@b:user@d` -> `user@d`
    if s.starts_with('@') {
        match s.find(':') {
            Some(colon) => s = &s[colon + 1..],
            None => return malformed(s),
        }
    }
    match last_at_outside_quotes(s) {
        Some(at) => normalize_domain(&s[at + 1..]),
        None => malformed(s),
    }
}

fn last_at_outside_quotes(s: &str) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut last = None;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '@' if !in_quotes => last = Some(i),
            _ => {}
        }
    }
    last
}

/// Normalises a bare domain (also used for HELO names with `--null-sender helo`).
pub fn normalize_domain(raw: &str) -> Sender {
    let d = raw.trim();
    let d = d.strip_suffix('.').unwrap_or(d);
    let ascii = if d.is_ascii() {
        d.to_ascii_lowercase()
    } else {
        match idna::domain_to_ascii(d) {
            Ok(a) => a,
            Err(_) => return malformed(d),
        }
    };
    if is_host_name(&ascii) {
        Sender::Domain(ascii)
    } else {
        malformed(d)
    }
}

/// A host name in the RFC 1123 sense, with at least two labels and a non-numeric top label:
/// letters, digits and inner hyphens, labels of 1 to 63 octets, 253 octets in all.
pub fn is_host_name(name: &str) -> bool {
    // The policy walk checks every relay name it meets. Splitting a `str` on '.' into a
    // list first cost about a thousand instructions a name, and a byte-by-byte state
    // machine over 20 a byte (callgrind): the bytes are checked against a table in one
    // pass, and the labels, split in place, only for their lengths and ends.
    let b = name.as_bytes();
    if b.is_empty() || b.len() > 253 || !b.iter().all(|&c| HOST_BYTE[usize::from(c)]) {
        return false;
    }
    let mut labels = b.split(|&c| c == b'.');
    let mut top: &[u8] = &[];
    let mut count = 0;
    for label in &mut labels {
        let (Some(&first), Some(&last)) = (label.first(), label.last()) else {
            return false;
        };
        if label.len() > 63 || first == b'-' || last == b'-' {
            return false;
        }
        (top, count) = (label, count + 1);
    }
    count >= 2 && !top.iter().all(u8::is_ascii_digit)
}

/// The bytes a host name may hold: letters, digits, '-' and the dots between labels.
static HOST_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        c += 1;
    }
    table
};

fn malformed(text: &str) -> Sender {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MALFORMED_KEEP)
        .collect::<String>()
        .to_lowercase();
    Sender::Malformed(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition `is_host_name` implements in one pass: labels split on '.'.
    fn host_name_by_labels(name: &str) -> bool {
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |l: &&str| {
            let b = l.as_bytes();
            (1..=63).contains(&b.len())
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        };
        !name.is_empty()
            && name.len() <= 253
            && labels.iter().all(label_ok)
            && labels.len() >= 2
            && !labels[labels.len() - 1].bytes().all(|c| c.is_ascii_digit())
    }

    #[test]
    fn host_names_as_their_labels_say() {
        // Every string of up to 6 bytes over a small alphabet, then the length limits.
        let alphabet = ['a', '1', '-', '.', '_'];
        let mut names = vec![String::new()];
        let mut checked = 0;
        let mut accepted = 0;
        for _ in 0..6 {
            let mut longer = Vec::new();
            for name in &names {
                for c in alphabet {
                    longer.push(format!("{name}{c}"));
                }
            }
            for name in &longer {
                assert_eq!(is_host_name(name), host_name_by_labels(name), "{name:?}");
                checked += 1;
                accepted += usize::from(is_host_name(name));
            }
            names = longer;
        }
        assert!(
            checked > 19_000 && accepted > 100,
            "{checked} checked, {accepted} accepted"
        );
        let label63 = "a".repeat(63);
        for name in [
            format!("{label63}.example"),
            format!("{label63}a.example"),
            [label63.as_str(); 4].join("."),
            format!("{}.ab", [label63.as_str(); 3].join(".")),
            format!("{}.a", [label63.as_str(); 3].join(".")),
            "mx1.Example.COM".to_string(),
            "10.0.0.1".to_string(),
            "10.0.0.1a".to_string(),
        ] {
            assert_eq!(is_host_name(&name), host_name_by_labels(&name), "{name:?}");
        }
    }

    fn dom(s: &str) -> Sender {
        Sender::Domain(s.to_string())
    }

    #[test]
    fn plain_and_bracketed() {
        assert_eq!(normalize_address("<user@Example.ORG.>"), dom("example.org"));
        assert_eq!(normalize_address("tim.one@comcast.net"), dom("comcast.net"));
        assert_eq!(normalize_address(" <a@b.example> "), dom("b.example"));
    }

    #[test]
    fn null_sender_forms() {
        assert_eq!(normalize_address("<>"), Sender::Null);
        assert_eq!(normalize_address(""), Sender::Null);
        assert_eq!(normalize_address("MAILER-DAEMON"), Sender::Null);
        assert_eq!(normalize_address("<MAILER-DAEMON>"), Sender::Null);
    }

    #[test]
    fn quoted_local_parts_and_source_routes() {
        assert_eq!(
            normalize_address("<\"jane doe\"@example.com>"),
            dom("example.com")
        );
        assert_eq!(normalize_address("\"a@b\"@example.net"), dom("example.net"));
        assert_eq!(
            normalize_address("<@hop1.example,@hop2.example:bob@example.com>"),
            dom("example.com")
        );
        assert_eq!(
            normalize_address("SRS0=1sN3=5P=example.org=noreply@srs.example.org"),
            dom("srs.example.org")
        );
        assert_eq!(
            normalize_address("prvs=1234abcdef=news@Example.com"),
            dom("example.com")
        );
    }

    #[test]
    fn idn_becomes_a_label() {
        assert_eq!(
            normalize_address("user@bücher.example"),
            dom("xn--bcher-kva.example")
        );
        assert_eq!(
            normalize_address("user@BÜCHER.example"),
            dom("xn--bcher-kva.example")
        );
        assert_eq!(
            normalize_address("user@xn--bcher-kva.example"),
            dom("xn--bcher-kva.example")
        );
    }

    #[test]
    fn malformed_domains() {
        for raw in [
            "root",
            "user@[192.0.2.1]",
            "user@192.0.2.1",
            "user@localhost",
            "user@dis_allowed.example.com",
            "user@a..b",
            "user@-a.example",
            "@nocolon",
        ] {
            assert!(
                matches!(normalize_address(raw), Sender::Malformed(_)),
                "{raw}"
            );
        }
        let long = format!("u@{}.example", "a".repeat(64));
        assert!(matches!(normalize_address(&long), Sender::Malformed(_)));
    }
}

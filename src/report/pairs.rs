//! The pairs CSV of SPEC §5: `domain,ip,messages,verdict,matched,relays,reason` for `audit`,
//! `domain,ip,messages` for `scan`. Sorted by messages descending, then domain, then IP
//! (IPv4 before IPv6, numerically), so two runs over the same input are byte-identical.

use std::cmp::Ordering;
use std::io::{self, Write};
use std::net::IpAddr;

use crate::aggregate::PairKey;
use crate::extract::pairs_file::sender_column;
use crate::policy::Verdict;

pub const AUDIT_HEADER: [&str; 7] = [
    "domain", "ip", "messages", "verdict", "matched", "relays", "reason",
];
pub const SCAN_HEADER: [&str; 3] = ["domain", "ip", "messages"];

/// One evaluated pair as the report writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairRow {
    pub key: PairKey,
    pub messages: u64,
    pub verdict: Verdict,
    pub matched: Option<String>,
    pub relays: Vec<String>,
    pub reason: Option<String>,
}

/// The report order: messages descending, then domain column, then IP.
pub fn cmp_pairs(a: (&PairKey, u64), b: (&PairKey, u64)) -> Ordering {
    b.1.cmp(&a.1)
        .then_with(|| sender_column(&a.0.sender).cmp(sender_column(&b.0.sender)))
        .then_with(|| cmp_opt_ip(a.0.ip, b.0.ip))
}

fn cmp_opt_ip(a: Option<IpAddr>, b: Option<IpAddr>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => crate::net::cmp_ip(&x, &y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn ip_column(ip: Option<IpAddr>) -> String {
    ip.map(|i| i.to_string()).unwrap_or_default()
}

pub fn csv_writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

pub fn write_audit(out: &mut dyn Write, rows: &mut [PairRow]) -> io::Result<()> {
    rows.sort_by(|a, b| cmp_pairs((&a.key, a.messages), (&b.key, b.messages)));
    let mut w = csv_writer(out);
    w.write_record(AUDIT_HEADER)?;
    for r in rows.iter() {
        w.write_record([
            sender_column(&r.key.sender),
            &ip_column(r.key.ip),
            &r.messages.to_string(),
            r.verdict.as_str(),
            r.matched.as_deref().unwrap_or(""),
            &r.relays.join(";"),
            r.reason.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()
}

pub fn write_scan(out: &mut dyn Write, pairs: &mut [(PairKey, u64)]) -> io::Result<()> {
    pairs.sort_by(|a, b| cmp_pairs((&a.0, a.1), (&b.0, b.1)));
    let mut w = csv_writer(out);
    w.write_record(SCAN_HEADER)?;
    for (key, n) in pairs.iter() {
        w.write_record([
            sender_column(&key.sender),
            &ip_column(key.ip),
            &n.to_string(),
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Sender;

    fn key(d: &str, ip: &str) -> PairKey {
        PairKey {
            sender: Sender::Domain(d.into()),
            ip: ip.parse().ok(),
        }
    }

    #[test]
    fn sorted_and_quoted() {
        let mut pairs = vec![
            (key("b.example", "2001:db8::1"), 2),
            (key("b.example", "192.0.2.10"), 2),
            (key("b.example", "192.0.2.9"), 2),
            (key("a.example", "192.0.2.1"), 1),
            (key("c.example", "192.0.2.1"), 5),
            (
                PairKey {
                    sender: Sender::Null,
                    ip: "192.0.2.1".parse().ok(),
                },
                1,
            ),
        ];
        let mut out = Vec::new();
        write_scan(&mut out, &mut pairs).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "domain,ip,messages\nc.example,192.0.2.1,5\nb.example,192.0.2.9,2\nb.example,192.0.2.10,2\nb.example,2001:db8::1,2\n<>,192.0.2.1,1\na.example,192.0.2.1,1\n"
        );
        let mut rows = vec![PairRow {
            key: key("a.example", "192.0.2.1"),
            messages: 1,
            verdict: Verdict::Tempfail,
            matched: None,
            relays: vec!["r1.example".into(), "r2.example".into()],
            reason: Some("x.example A: timeout; \"quoted\", comma".into()),
        }];
        let mut out = Vec::new();
        write_audit(&mut out, &mut rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "domain,ip,messages,verdict,matched,relays,reason\na.example,192.0.2.1,1,tempfail,,r1.example;r2.example,\"x.example A: timeout; \"\"quoted\"\", comma\"\n"
        );
    }
}

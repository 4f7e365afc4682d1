//! Pairs files written by `scan` (or `audit`) read back as input, so pair files from many
//! hosts or days merge by passing them to `audit` or `scan` again. Only the first three
//! columns matter; the domain is normalised again, so hand-edited files are safe.

use std::io::BufRead;

use super::Sender;
use super::address::normalize_domain;
use crate::aggregate::PairKey;
use crate::net::parse_ip;

/// The domain column's spelling of the non-domain senders (also used by the writer).
pub const NULL_SENDER: &str = "<>";

/// Parses the domain column as the report writes it.
pub fn sender_from_column(text: &str) -> Sender {
    match text {
        "" => Sender::Missing,
        NULL_SENDER => Sender::Null,
        d => normalize_domain(d),
    }
}

/// The domain column for a sender.
pub fn sender_column(sender: &Sender) -> &str {
    match sender {
        Sender::Domain(d) | Sender::Malformed(d) => d,
        Sender::Null => NULL_SENDER,
        Sender::Missing => "",
    }
}

/// Calls `row` for each data row with its 1-based line number: `Some((pair, messages))`, or
/// `None` for a row that is not a valid pair. Errors returned by `row` stop the read.
pub fn read<R: BufRead, E: From<std::io::Error>>(
    reader: R,
    row: &mut dyn FnMut(u64, Option<(PairKey, u64)>) -> Result<(), E>,
) -> Result<(), E> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                row(line, parse_row(&record))?;
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => {
                    return Err(std::io::Error::other(e.to_string()).into());
                }
                _ => {
                    let line = e.position().map_or(0, |p| p.line());
                    row(line, None)?;
                }
            },
        }
    }
}

fn parse_row(record: &csv::StringRecord) -> Option<(PairKey, u64)> {
    let domain = record.get(0)?;
    let ip_text = record.get(1)?;
    let messages: u64 = record.get(2)?.trim().parse().ok()?;
    let ip = match ip_text {
        "" => None,
        text => Some(parse_ip(text)?),
    };
    let key = PairKey {
        sender: sender_from_column(domain),
        ip,
    };
    Some((key, messages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(u64, Option<(PairKey, u64)>)> {
        let mut out = Vec::new();
        read::<_, std::io::Error>(text.as_bytes(), &mut |l, r| {
            out.push((l, r));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn reads_scan_and_audit_files() {
        let r = rows("domain,ip,messages\nExample.org,192.0.2.1,3\n<>,2001:DB8::1,2\n,,1\n");
        assert_eq!(r.len(), 3);
        let (key, n) = r[0].1.clone().unwrap();
        assert_eq!(key.sender, Sender::Domain("example.org".into()));
        assert_eq!(n, 3);
        assert_eq!(r[1].1.as_ref().unwrap().0.sender, Sender::Null);
        assert_eq!(
            r[1].1.as_ref().unwrap().0.ip.unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            r[2].1.as_ref().unwrap().0,
            PairKey {
                sender: Sender::Missing,
                ip: None
            }
        );
        let audit = rows(
            "domain,ip,messages,verdict,matched,relays,reason\nexample.org,192.0.2.1,3,repudiated,,\"a.example;b.example\",\n",
        );
        assert_eq!(audit[0].1.as_ref().unwrap().1, 3);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let r = rows(
            "domain,ip,messages\nexample.org,192.0.2.1,x\nexample.org,999.1.1.1,1\nexample.org\nexample.org,192.0.2.1,1\n",
        );
        assert_eq!(r.iter().filter(|(_, x)| x.is_none()).count(), 3);
        assert_eq!(r[0].0, 2);
        assert!(r[3].1.is_some());
    }
}

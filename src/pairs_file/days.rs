//! The days file of a pairs file (`pairs.csv` → `pairs.csv.days`, issue 15): the period its
//! messages cover and each pair's messages by UTC day, so an audit over merged scans draws
//! the same `--by-day` as one audit over all the logs. Beside the CSV, not in it: a
//! spreadsheet must still read the pairs file as plain rows. A file of its own rather than
//! more keys in the `.meta` sidecar, whose readers refuse keys they do not know.
//!
//! Like the sidecar it names the pairs file's length and checksum, and one that does not
//! match is ignored and said so. It is CSV: `repudiate-pairs-days,1`, `pairs,BYTES,FNV1A64`,
//! `period,FIRST,LAST,UNPARSEABLE,ABSENT` (times in RFC 3339, empty when nothing was
//! dated), then `day,DOMAIN,IP,YYYY-MM-DD,MESSAGES` rows sorted by domain, IP and day.

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::meta::Sum;
use super::{cmp_opt_ip, ip_column, is_plain_cell, parse_key, push_ipv4, push_u64, sender_column};
use crate::fileio::csv_cell::SafeWriter;
use crate::model::date::parse_rfc3339;
use crate::model::{Day, DayList, PairKey, Period};

const MAGIC: &str = "repudiate-pairs-days";
const VERSION: &str = "1";

/// What a days file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Days {
    /// Length and checksum of the pairs file it belongs to.
    pub pairs: Sum,
    pub period: Period,
    /// Messages of a pair on a day.
    pub rows: Vec<(PairKey, Day, u64)>,
}

/// Where the days file of `pairs` lives.
pub fn days_path(pairs: &Path) -> PathBuf {
    let mut name = pairs.as_os_str().to_owned();
    name.push(".days");
    PathBuf::from(name)
}

/// True when `bytes` start as a days file does.
pub fn is_days_file(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC.as_bytes())
}

/// Writes the days file; `days` may come in any order, it is written sorted.
pub fn write<'a>(
    out: &mut dyn Write,
    pairs: Sum,
    period: &Period,
    days: impl IntoIterator<Item = (&'a PairKey, &'a DayList)>,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(FLUSH_AT + 256);
    {
        // Rows of several lengths; every cell spreadsheet-safe like every CSV the tool
        // writes.
        let mut w = flexible_writer(&mut buf);
        w.write_record([MAGIC, VERSION])?;
        let sum = [pairs.bytes.to_string(), format!("{:016x}", pairs.fnv)];
        w.write_record(["pairs", &sum[0], &sum[1]])?;
        let time = |t: Option<crate::model::UtcTime>| t.map(|t| t.rfc3339()).unwrap_or_default();
        w.write_record([
            "period",
            &time(period.first),
            &time(period.last),
            &period.unparseable.to_string(),
            &period.absent.to_string(),
        ])?;
        w.flush()?;
    }
    let mut keys: Vec<(&PairKey, &DayList)> = days.into_iter().collect();
    keys.sort_by(|a, b| {
        sender_column(&a.0.sender)
            .cmp(sender_column(&b.0.sender))
            .then_with(|| cmp_opt_ip(a.0.ip, b.0.ip))
    });
    let mut prefix = Vec::new();
    for (key, list) in keys {
        row_prefix(&mut prefix, key)?;
        for (day, n) in list.iter() {
            buf.extend_from_slice(&prefix);
            if !push_day(&mut buf, day) {
                // A year outside 0..=9999: the CSV writer spells it, as it always did.
                {
                    let mut w = flexible_writer(&mut buf);
                    w.write_record([day.to_string()])?;
                    w.flush()?;
                }
                buf.pop();
            }
            buf.push(b',');
            push_u64(&mut buf, n);
            buf.push(b'\n');
        }
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

/// Bytes gathered before they are handed to `out`.
const FLUSH_AT: usize = 1 << 16;

/// A writer for a row or a few: its buffer, allocated zeroed for each, is kept small (the
/// default 8 KiB was most of writing a file whose pairs are mostly IPv6).
fn flexible_writer(out: &mut Vec<u8>) -> SafeWriter<&mut Vec<u8>> {
    SafeWriter::new(
        csv::WriterBuilder::new()
            .buffer_capacity(256)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out),
    )
}

/// `day,DOMAIN,IP,` of a pair's rows, written once per pair: a plain domain and an IPv4
/// address by hand, anything else through the CSV writer (the bytes are the same; only
/// the formatter's cost, a large part of writing the file, is saved).
fn row_prefix(prefix: &mut Vec<u8>, key: &PairKey) -> io::Result<()> {
    prefix.clear();
    let domain = sender_column(&key.sender);
    match key.ip {
        Some(IpAddr::V4(v4)) if is_plain_cell(domain) => {
            prefix.extend_from_slice(b"day,");
            prefix.extend_from_slice(domain.as_bytes());
            prefix.push(b',');
            push_ipv4(prefix, v4);
        }
        ip => {
            let mut w = flexible_writer(prefix);
            w.write_record(["day", domain, &ip_column(ip)])?;
            w.flush()?;
            drop(w);
            prefix.pop();
        }
    }
    prefix.push(b',');
    Ok(())
}

/// `YYYY-MM-DD` as [`Day`]'s `Display` writes it, for years 0 to 9999 (false for others,
/// which are left to the formatter).
fn push_day(out: &mut Vec<u8>, day: Day) -> bool {
    let (y, m, d) = day.civil();
    let Ok(y) = u32::try_from(y) else {
        return false;
    };
    if y > 9999 {
        return false;
    }
    for n in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
        out.push(b'0' + n as u8);
    }
    for (sep, n) in [(b'-', m), (b'-', d)] {
        out.extend_from_slice(&[sep, b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
    }
    true
}

/// Parses a days file; the error says what is wrong with it.
pub fn parse(text: &[u8]) -> Result<Days, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = r.records();
    match records.next() {
        Some(Ok(first)) if first.get(0) == Some(MAGIC) && first.get(1) == Some(VERSION) => {}
        _ => return Err(format!("not a {MAGIC} {VERSION} file")),
    }
    let mut days = Days::default();
    let mut has_sum = false;
    for (i, record) in records.enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let field = |n: usize| record.get(n).unwrap_or("");
        let bad = |what: &str| format!("line {line}: bad {what}");
        match field(0) {
            "pairs" => {
                days.pairs = Sum {
                    bytes: field(1).parse().map_err(|_| bad("length"))?,
                    fnv: u64::from_str_radix(field(2), 16).map_err(|_| bad("checksum"))?,
                };
                has_sum = true;
            }
            "period" => {
                let time = |s: &str| match s {
                    "" => Ok(None),
                    s => parse_rfc3339(s.as_bytes())
                        .map(Some)
                        .ok_or_else(|| bad("time")),
                };
                days.period.first = time(field(1))?;
                days.period.last = time(field(2))?;
                days.period.unparseable = field(3).parse().map_err(|_| bad("count"))?;
                days.period.absent = field(4).parse().map_err(|_| bad("count"))?;
            }
            "day" => {
                let key = parse_key(field(1), field(2)).ok_or_else(|| bad("pair"))?;
                let day = Day::parse(field(3)).ok_or_else(|| bad("day"))?;
                let n = field(4).parse().map_err(|_| bad("count"))?;
                days.rows.push((key, day, n));
            }
            other => return Err(format!("line {line}: unknown key {other:?}")),
        }
    }
    if !has_sum {
        return Err("no pairs line".into());
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Sender, UtcTime};

    #[test]
    fn round_trip_sorted_and_byte_stable() {
        let key = |d: &str, ip: &str| PairKey {
            sender: super::super::sender_from_column(d),
            ip: ip.parse().ok(),
        };
        let (a, b, c) = (
            key("b.example", "192.0.2.1"),
            key("a.example", "2001:db8::1"),
            PairKey {
                sender: Sender::Malformed("=cmd".into()),
                ip: None,
            },
        );
        let d1 = UtcTime::from_civil(2026, 11, 1, 0).day();
        let d2 = UtcTime::from_civil(2026, 11, 2, 0).day();
        let period = Period {
            first: Some(UtcTime::from_civil(2026, 11, 1, 5 * 3600)),
            last: Some(UtcTime::from_civil(2026, 11, 2, 7 * 3600)),
            unparseable: 1,
            absent: 2,
        };
        let lists: [DayList; 3] = [
            [(d1, 3), (d2, 1)].into_iter().collect(),
            [(d2, 9)].into_iter().collect(),
            [(d1, 1)].into_iter().collect(),
        ];
        let write_in = |order: [usize; 3]| {
            let keys = [&a, &b, &c];
            let mut out = Vec::new();
            let items = order.map(|i| (keys[i], &lists[i]));
            write(&mut out, Sum::default(), &period, items).unwrap();
            out
        };
        let out = write_in([0, 1, 2]);
        assert_eq!(out, write_in([2, 0, 1]));
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains("period,2026-11-01T05:00:00Z,2026-11-02T07:00:00Z,1,2\n"),
            "{text}"
        );
        assert!(text.contains("day,'=cmd,,2026-11-01,1\n"), "{text}");
        let back = parse(&out).unwrap();
        assert_eq!(back.period, period);
        assert_eq!(back.rows.len(), 4);
        assert!(back.rows.contains(&(a.clone(), d2, 1)));
        assert!(back.rows.contains(&(b.clone(), d2, 9)));
    }

    #[test]
    fn damaged_days_files_are_refused_with_a_reason() {
        for (bad, why) in [
            (&b"domain,ip,messages\n"[..], "not a"),
            (b"repudiate-pairs-days,1\n", "no pairs"),
            (
                b"repudiate-pairs-days,1\npairs,1,0\nday,a.example,,2026-02-30,1\n",
                "bad day",
            ),
            (
                b"repudiate-pairs-days,1\npairs,1,0\nday,a.example,x,2026-02-03,1\n",
                "bad pair",
            ),
            (
                b"repudiate-pairs-days,1\npairs,1,0\nperiod,x,,0,0\n",
                "bad time",
            ),
            (b"repudiate-pairs-days,1\npairs,1,0\nwhat\n", "unknown key"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}

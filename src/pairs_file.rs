//! The pairs CSV of docs/design.md §5, in one place: its header, its columns, the reader that takes
//! pair files back as input (so files from many hosts or days merge by passing them to
//! `audit` or `scan` again) and the writers. `audit` writes
//! `domain,ip,messages,verdict,matched,relays,reason,authenticated,spf`, `scan` writes
//! `domain,ip,messages`. Rows are sorted by messages descending, then domain, then IP (IPv4
//! before IPv6, numerically), so two runs over the same input are byte-identical. On reading
//! only the first three columns matter and the domain is normalised again, so hand-edited
//! files are safe.

pub(crate) mod days;
pub(crate) mod meta;
pub mod reader;

use std::cmp::Ordering;
use std::io::{self, Write};
use std::net::IpAddr;

use rayon::iter::{IntoParallelIterator, ParallelIterator};
use rayon::slice::ParallelSliceMut;

use crate::fileio::csv_cell::{SafeWriter, raw};
use crate::fileio::guard::Kind;
use crate::model::address::normalize_domain;
use crate::model::{PairKey, PairRow, Sender};
use crate::net::{parse_ip, push_ipv4};
pub use reader::{Item, Row, read};

/// The first bytes of every pairs file; input detection recognises the format by them.
pub const HEADER_PREFIX: &str = "domain,ip,messages";

/// What `--output` writes, so an existing file of another kind is never replaced.
pub const OUTPUT_KIND: Kind = Kind {
    what: "a pairs CSV (first line `domain,ip,messages...`)",
    is_ours: is_pairs_file,
    regular_only: false,
};

fn is_pairs_file(prefix: &[u8]) -> bool {
    prefix.starts_with(HEADER_PREFIX.as_bytes())
}

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

impl Row<'_> {
    /// The pair this row counts, its domain normalised; `None` when its client is no
    /// address.
    pub fn key(&self) -> Option<PairKey> {
        Some(PairKey {
            sender: sender_from_column(self.domain),
            ip: self.client()?,
        })
    }
}

/// The pair of a domain and an IP cell as the writers spell them.
fn parse_key(domain: &str, ip: &str) -> Option<PairKey> {
    // The writer neutralised formula-like cells with a leading `'`: read the value back.
    let ip = match ip {
        "" => None,
        text => Some(parse_ip(text)?),
    };
    Some(PairKey {
        sender: sender_from_column(raw(domain)),
        ip,
    })
}

pub const AUDIT_HEADER: [&str; 9] = [
    "domain",
    "ip",
    "messages",
    "verdict",
    "matched",
    "relays",
    "reason",
    "authenticated",
    "spf",
];
pub const SCAN_HEADER: [&str; 3] = ["domain", "ip", "messages"];

/// The report order: messages descending, then domain column, then IP; a total order.
pub fn cmp_pairs(a: (&PairKey, u64), b: (&PairKey, u64)) -> Ordering {
    b.1.cmp(&a.1)
        .then_with(|| sender_column(&a.0.sender).cmp(sender_column(&b.0.sender)))
        .then_with(|| cmp_opt_ip(a.0.ip, b.0.ip))
        // Two kinds of sender with one spelling: never a tie, so no order depends on the
        // order the pairs were met in (a merge is the same whatever its files' order).
        .then_with(|| a.0.sender.cmp(&b.0.sender))
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

/// The crate's one CSV writer: `\n` line ends, every cell spreadsheet-safe
/// (`fileio::csv_cell`).
pub fn csv_writer(out: &mut dyn Write) -> SafeWriter<&mut dyn Write> {
    SafeWriter::new(
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out),
    )
}

pub fn write_audit(out: &mut dyn Write, rows: &mut [PairRow]) -> io::Result<()> {
    // Rows are distinct pairs and arrive in no particular order, so a stable sort keeps
    // nothing an unstable one loses; it only costs a buffer of half the rows (9.5 MB at
    // 125,000).
    rows.sort_unstable_by(|a, b| cmp_pairs((&a.key, a.messages), (&b.key, b.messages)));
    let mut w = csv_writer(out);
    w.write_record(AUDIT_HEADER)?;
    // The relays cell, joined once for the rows (sorted by domain, so neighbours) that
    // share one list: a list of 40 relays is a kilobyte to copy per row otherwise.
    let mut relays = String::new();
    let mut joined: Option<&[String]> = None;
    for r in rows.iter() {
        if joined.is_none_or(|j| !std::ptr::eq(j, &*r.relays)) {
            relays.clear();
            for (i, name) in r.relays.iter().enumerate() {
                if i > 0 {
                    relays.push(';');
                }
                relays.push_str(name);
            }
            joined = Some(&r.relays);
        }
        w.write_record([
            sender_column(&r.key.sender),
            &ip_column(r.key.ip),
            &r.messages.to_string(),
            r.verdict.as_str(),
            r.matched.as_deref().unwrap_or(""),
            &relays,
            r.reason.as_deref().unwrap_or(""),
            &r.authenticated.map(|n| n.to_string()).unwrap_or_default(),
            r.spf.map_or("", |s| s.as_str()),
        ])?;
    }
    w.flush()
}

/// Writes the pairs, sorted; they are borrowed (16 bytes each) from the tally that holds
/// them, so a merge of a million pairs does not hold them twice.
pub fn write_scan(out: &mut dyn Write, pairs: &mut [(&PairKey, u64)]) -> io::Result<()> {
    // On every core: a merge of a million pairs spends a good part of its time here.
    pairs.par_sort_unstable_by(|a, b| cmp_pairs((a.0, a.1), (b.0, b.1)));
    write_scan_sorted(out, pairs.iter().map(|(k, n)| (&k.sender, k.ip, *n)))
}

/// Writes pairs already in the report order ([`cmp_pairs`]). A row whose cells need no
/// quoting and no neutralising (nearly all: a normal domain, an address, a count) is
/// written as it stands; the others go through the CSV writer, byte for byte as before.
pub fn write_scan_sorted<'a>(
    out: &mut dyn Write,
    pairs: impl Iterator<Item = (&'a Sender, Option<IpAddr>, u64)>,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    write_scan_header(&mut out)?;
    write_scan_rows(&mut out, pairs)?;
    out.flush()
}

fn write_scan_header(out: &mut impl Write) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record(SCAN_HEADER)?;
    w.flush()
}

/// The rows of a scan's output, each as [`write_scan_sorted`] writes it.
fn write_scan_rows<'a>(
    out: &mut impl Write,
    pairs: impl Iterator<Item = (&'a Sender, Option<IpAddr>, u64)>,
) -> io::Result<()> {
    let mut scratch = Vec::new();
    for (sender, ip, n) in pairs {
        let domain = sender_column(sender);
        if is_plain_cell(domain) {
            out.write_all(domain.as_bytes())?;
            match ip {
                Some(IpAddr::V4(v4)) => {
                    scratch.clear();
                    scratch.push(b',');
                    push_ipv4(&mut scratch, v4);
                    scratch.push(b',');
                    push_u64(&mut scratch, n);
                    scratch.push(b'\n');
                    out.write_all(&scratch)?;
                }
                Some(ip) => writeln!(out, ",{ip},{n}")?,
                None => writeln!(out, ",,{n}")?,
            }
            continue;
        }
        scratch.clear();
        {
            let mut w = csv_writer(&mut scratch);
            w.write_record([domain, &ip_column(ip), &n.to_string()])?;
            w.flush()?;
        }
        out.write_all(&scratch)?;
    }
    Ok(())
}

/// [`write_scan_sorted`] for `len` rows, row `i` given by `row(i)`, formatted in pieces on
/// every core by a thread of its own while this thread writes the pieces, in order, to
/// `out`: what `out` does with them (the sidecar's checksum, a byte at a time, and the
/// copy into the file) overlaps with formatting the rows after them. Formatting a million
/// pairs on one core was a sixth of a merge's time, after reading (issue 16 item 3). The
/// bytes are the same as [`write_scan_sorted`]'s.
pub fn write_scan_piped<'a, F>(out: &mut dyn Write, len: usize, row: F) -> io::Result<()>
where
    F: Fn(usize) -> (&'a Sender, Option<IpAddr>, u64) + Sync,
{
    // A few pieces in flight at most: memory stays a few megabytes whatever the pairs.
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::scope(|scope| {
        let row = &row;
        let formatter = scope.spawn(move || {
            let closed = |_| io::Error::new(io::ErrorKind::BrokenPipe, "the output was closed");
            let mut header = Vec::new();
            write_scan_header(&mut header)?;
            send.send(header).map_err(closed)?;
            let round = PIECE_ROWS * rayon::current_num_threads().max(1);
            for first in (0..len).step_by(round) {
                let end = (first + round).min(len);
                let starts: Vec<usize> = (first..end).step_by(PIECE_ROWS).collect();
                let pieces: Vec<io::Result<Vec<u8>>> = starts
                    .into_par_iter()
                    .map(|start| {
                        let rows = start..(start + PIECE_ROWS).min(end);
                        let mut piece = Vec::with_capacity(rows.len() * 40);
                        write_scan_rows(&mut piece, rows.map(row))?;
                        Ok(piece)
                    })
                    .collect();
                for piece in pieces {
                    send.send(piece?).map_err(closed)?;
                }
            }
            Ok(())
        });
        // Written here as they come; should `out` fail, the formatter stops at its next
        // piece (the channel is closed when `receive` is dropped).
        let written = receive.iter().try_for_each(|piece| out.write_all(&piece));
        drop(receive);
        let formatted = formatter
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the pairs writer panicked")));
        written.and(formatted)
    })
}

/// Rows formatted as one piece: about half a megabyte.
const PIECE_ROWS: usize = 1 << 14;

/// Whether `cell` is the client column the writer gives `ip` (`Display`'s spelling): the
/// merge keeps a pair under the cell as written when it is (issue 16 item 3). The plain
/// dotted-quad reader takes exactly `Display`'s spelling of an IPv4 address.
pub fn is_ip_column(cell: &str, ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => crate::net::plain_ipv4(cell.as_bytes()) == Some(v4),
        IpAddr::V6(_) => cell == ip.to_string(),
    }
}

/// A client cell's address ([`parse_ip`]) and whether the cell is its column
/// ([`is_ip_column`]), a dotted quad read once for both and checked as text only when it
/// is something else.
pub fn read_ip_column(cell: &[u8]) -> Option<(IpAddr, bool)> {
    if let Some(v4) = crate::net::plain_ipv4(cell) {
        return Some((IpAddr::V4(v4), true));
    }
    let cell = std::str::from_utf8(cell).ok()?;
    let ip = parse_ip(cell)?;
    Some((ip, is_ip_column(cell, ip)))
}

/// A count in decimal, as `Display` writes it.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A cell the CSV writer would write unchanged: no quoting, nothing to neutralise.
fn is_plain_cell(cell: &str) -> bool {
    cell.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"<>.-".contains(&b))
        && !cell.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Verdict;

    fn rows(text: &str) -> Vec<(u64, Option<(PairKey, u64)>)> {
        let mut out = Vec::new();
        read::<_, std::io::Error>(text.as_bytes(), 1 << 20, &mut |item| {
            match item {
                Item::Row { line, row } => {
                    out.push((line, row.and_then(|r| Some((r.key()?, r.messages)))))
                }
                Item::Oversized { offset } => panic!("oversized at {offset}"),
            }
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_header() {
        let read = rows("\u{feff}domain,ip,messages\r\nexample.org,192.0.2.1,3\r\n");
        assert_eq!(read.len(), 1, "{read:?}");
        let (_, row) = &read[0];
        assert_eq!(row.as_ref().map(|(_, n)| *n), Some(3), "{read:?}");
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

    fn key(d: &str, ip: &str) -> PairKey {
        PairKey {
            sender: Sender::Domain(d.into()),
            ip: ip.parse().ok(),
        }
    }

    #[test]
    fn sorted_and_quoted() {
        let pairs = [
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
            (
                PairKey {
                    sender: Sender::Malformed("=x,\"y\"".into()),
                    ip: None,
                },
                1,
            ),
            (
                PairKey {
                    sender: Sender::Malformed("-x".into()),
                    ip: None,
                },
                1,
            ),
        ];
        let mut out = Vec::new();
        let mut refs: Vec<(&PairKey, u64)> = pairs.iter().map(|(k, n)| (k, *n)).collect();
        write_scan(&mut out, &mut refs).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "domain,ip,messages\nc.example,192.0.2.1,5\nb.example,192.0.2.9,2\nb.example,192.0.2.10,2\nb.example,2001:db8::1,2\n'-x,,1\n<>,192.0.2.1,1\n\"'=x,\"\"y\"\"\",,1\na.example,192.0.2.1,1\n"
        );
        let mut rows = vec![PairRow {
            key: key("a.example", "192.0.2.1"),
            messages: 1,
            verdict: Verdict::Tempfail,
            matched: None,
            relays: std::sync::Arc::from(["r1.example".to_string(), "r2.example".to_string()]),
            reason: Some("x.example A: timeout; \"quoted\", comma".into()),
            authenticated: None,
            spf: None,
            days: Default::default(),
        }];
        let mut out = Vec::new();
        write_audit(&mut out, &mut rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "domain,ip,messages,verdict,matched,relays,reason,authenticated,spf\na.example,192.0.2.1,1,tempfail,,r1.example;r2.example,\"x.example A: timeout; \"\"quoted\"\", comma\",,\n"
        );
    }

    /// Enough rows for several chunks, some through the CSV writer: the piped writer's
    /// bytes are the serial one's; a failing output stops it with the output's error.
    #[test]
    fn the_piped_writer_writes_what_the_serial_one_does() {
        let senders: Vec<Sender> = (0..50_000u32)
            .map(|i| match i % 500 {
                0 => Sender::Malformed(format!("=x{i},\"y\"")),
                1 => Sender::Null,
                2 => Sender::Missing,
                _ => Sender::Domain(format!("d{i}.example")),
            })
            .collect();
        let rows = || {
            senders.iter().enumerate().map(|(i, s)| {
                let ip = match i % 3 {
                    0 => None,
                    1 => Some(IpAddr::from([10, 0, (i >> 8) as u8, i as u8])),
                    _ => Some(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16])),
                };
                (s, ip, (50_000 - i) as u64)
            })
        };
        let mut serial = Vec::new();
        write_scan_sorted(&mut serial, rows()).unwrap();
        let all: Vec<_> = rows().collect();
        let mut piped = Vec::new();
        write_scan_piped(&mut piped, all.len(), |i| all[i]).unwrap();
        assert!(all.len() > 2 * PIECE_ROWS, "{} rows", all.len());
        assert!(serial == piped, "the piped output differs");

        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = write_scan_piped(&mut Full(1 << 19), all.len(), |i| all[i]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn the_client_column_is_displays_spelling_only() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(is_ip_column("192.0.2.1", v4));
        for other in [
            "::ffff:192.0.2.1",
            "192.0.2.01",
            " 192.0.2.1",
            "192.0.2.2",
            "",
        ] {
            assert!(!is_ip_column(other, v4), "{other}");
        }
        assert!(is_ip_column("2001:db8::1", v6));
        for other in ["2001:DB8::1", "2001:db8:0::1", "IPv6:2001:db8::1"] {
            assert!(!is_ip_column(other, v6), "{other}");
        }
        for cell in [
            "192.0.2.1",
            "::ffff:192.0.2.1",
            "2001:db8::1",
            "2001:DB8::1",
            "x",
            "",
        ] {
            let want = parse_ip(cell).map(|ip| (ip, is_ip_column(cell, ip)));
            assert_eq!(read_ip_column(cell.as_bytes()), want, "{cell}");
        }
    }

    #[test]
    fn addresses_and_counts_are_written_as_display_writes_them() {
        let mut out = Vec::new();
        for a in [0u8, 1, 9, 10, 99, 100, 109, 200, 255] {
            for b in [0u8, 7, 42, 250] {
                let ip = std::net::Ipv4Addr::new(a, b, 255 - a, b / 3);
                out.clear();
                push_ipv4(&mut out, ip);
                assert_eq!(String::from_utf8(out.clone()).unwrap(), ip.to_string());
            }
        }
        for n in [0, 1, 9, 10, 4999, 1 << 40, u64::MAX - 1, u64::MAX] {
            out.clear();
            push_u64(&mut out, n);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), n.to_string());
        }
    }
}

//! Reading pairs files at the speed of the disk (docs/design.md §7, issue 16): the files this
//! tool writes are plain lines of unquoted cells, so a line is split at its commas where it
//! lies in the read buffer, with no allocation per row. A line holding a quote or a lone
//! carriage return (a hand-edited file, a spreadsheet's export) goes to the csv crate
//! instead, with the lines its quoted cell spans, so every file the csv crate read before
//! still reads the same. Lines longer than the limit are passed over without being held.

use std::io::{self, BufRead};
use std::net::IpAddr;

use crate::fileio::csv_cell::raw;
use crate::net::parse_ip;

/// A data row as read: the domain cell (a leading `'` the writer added removed), the
/// client cell as it stands (empty for none) and the count. The client is not read here: a
/// merge reads each distinct spelling once (issue 16 item 3), so a row whose client is no
/// address is known bad only by [`Row::client`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    pub domain: &'a str,
    pub ip: &'a str,
    pub messages: u64,
}

impl Row<'_> {
    /// The client: `Some(None)` for an empty cell, `None` when the cell is no address
    /// (the row is malformed).
    pub fn client(&self) -> Option<Option<IpAddr>> {
        match self.ip {
            "" => Some(None),
            text => parse_ip(text).map(Some),
        }
    }
}

/// What reading met, in file order.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A data row at this 1-based line; `None` when it has too few cells or no count.
    Row { line: u64, row: Option<Row<'a>> },
    /// A line longer than the limit, starting at this byte offset, was passed over.
    Oversized { offset: u64 },
}

/// Calls `on` for every data row and every line over `max_line` bytes; the first line
/// that is not empty is the header. Errors returned by `on` stop the read.
pub fn read<R: BufRead, E: From<io::Error>>(
    reader: R,
    max_line: usize,
    on: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut records = Records {
        on,
        header_seen: false,
        pending: Vec::new(),
        pending_line: 0,
        pending_offset: 0,
        max: max_line.max(1),
    };
    for_each_line(reader, max_line.max(1), &mut records)?;
    records.finish()
}

/// Turns lines into records: plain lines directly, the others through the csv crate.
struct Records<'o, E> {
    on: &'o mut dyn FnMut(Item<'_>) -> Result<(), E>,
    header_seen: bool,
    /// A record with quotes, possibly spanning lines, not yet complete.
    pending: Vec<u8>,
    pending_line: u64,
    pending_offset: u64,
    max: usize,
}

impl<E: From<io::Error>> Records<'_, E> {
    fn line(&mut self, number: u64, offset: u64, mut line: &[u8]) -> Result<(), E> {
        if number == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        if self.header_seen
            && self.pending.is_empty()
            && let Some(row) = fast_row(line)
        {
            return (self.on)(Item::Row { line: number, row });
        }
        if !self.pending.is_empty() || memchr::memchr2(b'"', b'\r', trim_cr(line)).is_some() {
            return self.quoted(number, offset, line);
        }
        let line = trim_cr(line);
        if line.is_empty() {
            return Ok(());
        }
        if !self.header_seen {
            self.header_seen = true;
            return Ok(());
        }
        (self.on)(Item::Row {
            line: number,
            row: plain_row(line),
        })
    }

    /// A line of a record with quotes: kept until its quotes balance, then read by csv.
    fn quoted(&mut self, number: u64, offset: u64, line: &[u8]) -> Result<(), E> {
        if self.pending.is_empty() {
            self.pending_line = number;
            self.pending_offset = offset;
        }
        if self.pending.len() + line.len() > self.max {
            self.pending.clear();
            return (self.on)(Item::Oversized {
                offset: self.pending_offset,
            });
        }
        self.pending.extend_from_slice(line);
        self.pending.push(b'\n');
        if memchr::memchr_iter(b'"', &self.pending)
            .count()
            .is_multiple_of(2)
        {
            return self.flush_pending();
        }
        Ok(())
    }

    fn flush_pending(&mut self) -> Result<(), E> {
        let text = std::mem::take(&mut self.pending);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_slice());
        let mut record = csv::StringRecord::new();
        let first = self.pending_line;
        let at = |p: Option<&csv::Position>| first + p.map_or(1, |p| p.line()) - 1;
        loop {
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) if !self.header_seen => self.header_seen = true,
                Ok(true) => (self.on)(Item::Row {
                    line: at(record.position()),
                    row: record_row(&record),
                })?,
                Err(e) => match e.kind() {
                    csv::ErrorKind::Io(_) => return Err(io::Error::other(e.to_string()).into()),
                    _ => (self.on)(Item::Row {
                        line: at(e.position()),
                        row: None,
                    })?,
                },
            }
        }
        let mut text = text;
        text.clear();
        self.pending = text;
        Ok(())
    }

    fn finish(mut self) -> Result<(), E> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.flush_pending()
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Every byte of a word set to `b`.
const fn splat(b: u8) -> u64 {
    u64::from_le_bytes([b; 8])
}

const HIGH: u64 = splat(0x80);
const LOW: u64 = splat(0x7f);

/// The high bit of every byte of `w` (whose bytes are all ASCII) that is zero.
fn zero_bytes(w: u64) -> u64 {
    !(w + LOW) & HIGH
}

/// A data line of plain ASCII cells (every line `scan` writes) read in one pass over its
/// bytes, eight at a time, with no UTF-8 check of its own and no search per comma: the
/// per-row cost of a merge (issue 16 item 3). `None` when the line needs the general path
/// ([`plain_row`] or the csv crate: a quote, a carriage return, a byte that is not ASCII),
/// which gives the same row for every line this reads (a property test holds them to it).
fn fast_row(line: &[u8]) -> Option<Option<Row<'_>>> {
    let line = trim_cr(line);
    if line.is_empty() {
        return None;
    }
    // Where the first three commas are (the end of the line for those missing).
    let mut commas = [line.len(); 3];
    let mut found = 0;
    let mut note = |at: usize| {
        if found < 3 {
            commas[found] = at;
        }
        found += 1;
    };
    let mut words = line.chunks_exact(8);
    let mut at = 0;
    for chunk in words.by_ref() {
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        if w & HIGH != 0 || zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\r')) != 0 {
            return None;
        }
        let mut commas_here = zero_bytes(w ^ splat(b','));
        while commas_here != 0 {
            note(at + commas_here.trailing_zeros() as usize / 8);
            commas_here &= commas_here - 1;
        }
        at += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        match b {
            b',' => note(at + i),
            b'"' | b'\r' | 0x80.. => return None,
            _ => {}
        }
    }
    if found < 2 {
        return Some(None);
    }
    let [first, second, end] = commas;
    Some(fast_cells(
        &line[..first],
        &line[first + 1..second],
        &line[second + 1..end],
    ))
}

/// The three cells of a plain ASCII line, as [`row_of`] reads them.
fn fast_cells<'a>(domain: &'a [u8], ip: &'a [u8], messages: &[u8]) -> Option<Row<'a>> {
    let messages = match plain_count(messages) {
        Some(n) => n,
        None => std::str::from_utf8(messages).ok()?.trim().parse().ok()?,
    };
    Some(Row {
        domain: raw(ascii_str(domain)),
        ip: ascii_str(ip),
        messages,
    })
}

/// Bytes [`fast_row`] has seen to be ASCII, as text. `from_utf8` cost a merge about a
/// hundred instructions per row on these few bytes, to find what is already known.
fn ascii_str(bytes: &[u8]) -> &str {
    debug_assert!(bytes.is_ascii());
    // SAFETY: `fast_row` returns before reading any cell when a byte of its line is not
    // ASCII (`HIGH` in a word, `0x80..` in the tail), and ASCII is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// A count of 1 to 19 plain digits (never overflows); `None` leaves anything else to
/// `str::parse`.
fn plain_count(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

/// A line of unquoted cells; only the first three matter.
fn plain_row(line: &[u8]) -> Option<Row<'_>> {
    let text = std::str::from_utf8(line).ok()?;
    let mut commas = memchr::memchr_iter(b',', line);
    let (first, second) = (commas.next()?, commas.next()?);
    let end = commas.next().unwrap_or(line.len());
    // Commas are ASCII, so every cut lies on a character boundary.
    row_of(
        &text[..first],
        &text[first + 1..second],
        &text[second + 1..end],
    )
}

fn record_row(record: &csv::StringRecord) -> Option<Row<'_>> {
    row_of(record.get(0)?, record.get(1)?, record.get(2)?)
}

fn row_of<'a>(domain: &'a str, ip: &'a str, messages: &str) -> Option<Row<'a>> {
    let messages = messages.trim().parse().ok()?;
    Some(Row {
        domain: raw(domain),
        ip,
        messages,
    })
}

/// Calls `records.line` for every line (without its `\n`) with its number and byte
/// offset, straight from the reader's buffer when the line lies in it whole; a line over
/// `max` bytes is consumed without being held and reported as oversized.
fn for_each_line<R: BufRead, E: From<io::Error>>(
    mut reader: R,
    max: usize,
    records: &mut Records<'_, E>,
) -> Result<(), E> {
    let mut carry: Vec<u8> = Vec::new();
    // Passing over a line too long to keep, which started at this offset.
    let mut skipping: Option<u64> = None;
    let (mut number, mut offset) = (0u64, 0u64);
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', buf) {
            number += 1;
            let piece = &buf[start..end];
            if let Some(at) = skipping.take() {
                (records.on)(Item::Oversized { offset: at })?;
            } else if !carry.is_empty() {
                if carry.len() + piece.len() > max {
                    (records.on)(Item::Oversized {
                        offset: offset - carry.len() as u64,
                    })?;
                } else {
                    let at = offset - carry.len() as u64;
                    carry.extend_from_slice(piece);
                    records.line(number, at, &carry)?;
                }
                carry.clear();
            } else if piece.len() > max {
                (records.on)(Item::Oversized { offset })?;
            } else {
                records.line(number, offset, piece)?;
            }
            offset += (end + 1 - start) as u64;
            start = end + 1;
        }
        let tail = &buf[start..];
        if skipping.is_none() {
            if carry.len() + tail.len() > max {
                skipping = Some(offset - carry.len() as u64);
                carry.clear();
            } else {
                carry.extend_from_slice(tail);
            }
        }
        offset += tail.len() as u64;
        reader.consume(len);
    }
    // The last line, without a line end.
    if let Some(at) = skipping {
        return (records.on)(Item::Oversized { offset: at });
    }
    if !carry.is_empty() {
        number += 1;
        let at = offset - carry.len() as u64;
        records.line(number, at, &carry)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything read, rows as (line, domain, ip, messages) and oversized lines as their
    /// offset, through a read buffer of `capacity` bytes.
    fn items(text: &[u8], max: usize, capacity: usize) -> Vec<String> {
        let mut out = Vec::new();
        let reader = io::BufReader::with_capacity(capacity, text);
        read::<_, io::Error>(reader, max, &mut |item| {
            out.push(match item {
                Item::Row { line, row: None } => format!("{line}: bad"),
                Item::Row { line, row: Some(r) } => match r.client() {
                    Some(ip) => format!("{line}: {} {:?} {}", r.domain, ip, r.messages),
                    None => format!("{line}: bad address {:?}", r.ip),
                },
                Item::Oversized { offset } => format!("oversized at {offset}"),
            });
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn plain_quoted_and_odd_lines_read_alike_whatever_the_buffer() {
        let text = b"\xef\xbb\xbfdomain,ip,messages\r\n\
            a.example,192.0.2.1,3\r\n\
            \n\
            \"b,\"\"x\"\"\nexample\",,2\n\
            '=c.example,2001:db8::1, 4 ,extra,cells\n\
            d.example,192.0.2.300,1\n\
            e.example,192.0.2.1,1\rf.example,192.0.2.2,5\n\
            last.example,192.0.2.9,7";
        let want = [
            "2: a.example Some(192.0.2.1) 3",
            "4: b,\"x\"\nexample None 2",
            "6: =c.example Some(2001:db8::1) 4",
            "7: bad address \"192.0.2.300\"",
            "8: e.example Some(192.0.2.1) 1",
            "8: f.example Some(192.0.2.2) 5",
            "9: last.example Some(192.0.2.9) 7",
        ];
        for capacity in [1, 2, 3, 7, 64, 8192] {
            assert_eq!(items(text, 1000, capacity), want, "buffer of {capacity}");
        }
    }

    #[test]
    fn lines_over_the_limit_are_passed_over_and_located() {
        let long = "x".repeat(50);
        let text = format!(
            "domain,ip,messages\na.example,192.0.2.1,1\n{long}\nb.example,192.0.2.2,2\n{long}"
        );
        let want = [
            "2: a.example Some(192.0.2.1) 1",
            "oversized at 41",
            "4: b.example Some(192.0.2.2) 2",
            "oversized at 114",
        ];
        for capacity in [1, 5, 30, 8192] {
            assert_eq!(
                items(text.as_bytes(), 30, capacity),
                want,
                "buffer of {capacity}"
            );
        }
    }

    /// Pieces of pairs lines, odd ones included, for the property test below.
    const PIECES: &[&[u8]] = &[
        b"a.example",
        b"Ex.ORG.",
        b"'",
        b"<>",
        b",",
        b",",
        b"192.0.2.1",
        b"10.0.0.255",
        b"01.2.3.4",
        b"256.1.1.1",
        b"2001:db8::1",
        b"::ffff:192.0.2.7",
        b"IPv6:2001:DB8::2",
        b"fe80::1%eth0",
        b"3",
        b"42",
        b"0",
        b"18446744073709551615",
        b"18446744073709551616",
        b"99999999999999999999",
        b"+7",
        b" 4 ",
        b"-1",
        b"x",
        b"\"",
        b"\r",
        b"\t",
        b"\xc3\xa9",
        b"\xff",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20000))]

        /// The one-pass reader of plain lines gives what the general path gives, for every
        /// line it takes (and it takes every plain ASCII line).
        #[test]
        fn the_fast_path_reads_as_the_general_one(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..12),
            crlf in proptest::bool::ANY,
        ) {
            let mut line: Vec<u8> = pieces.iter().flat_map(|&p| PIECES[p].iter().copied()).collect();
            if crlf {
                line.push(b'\r');
            }
            let general = trim_cr(&line);
            let plain = general.is_ascii() && memchr::memchr2(b'"', b'\r', general).is_none();
            match fast_row(&line) {
                Some(row) => proptest::prop_assert_eq!(row, plain_row(general), "{:?}", String::from_utf8_lossy(&line)),
                None => proptest::prop_assert!(!plain || general.is_empty(), "{:?}", String::from_utf8_lossy(&line)),
            }
        }
    }

    #[test]
    fn a_header_alone_or_nothing_has_no_rows() {
        assert!(items(b"domain,ip,messages\n", 100, 8).is_empty());
        assert!(items(b"", 100, 8).is_empty());
        assert!(items(b"\n\n", 100, 8).is_empty());
    }
}

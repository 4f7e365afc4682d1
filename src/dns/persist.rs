//! `--cache FILE`: DNS answers kept between runs (docs/design.md §4), so a nightly audit does not ask
//! yesterday's questions again while their TTLs last — or, with `--cache-max-age`, for as
//! long as the user accepts answers that old (an audit measures what a policy would have
//! done, so an answer of last night is usually good enough, whatever its TTL).
//!
//! The file is CSV written and read through serde like the tool's other files, sorted, so
//! it diffs well and 20,000 domains fit in a few megabytes: it holds the answer data the
//! check uses (MX targets, addresses, "no such name", "no such data"), never whole DNS
//! responses.
//!
//! ```text
//! repudiate_dns_cache_v3,type,outcome,expires,received,data
//! mail-from.example.net,MX,nxdomain,1767222600,1767222300,
//! mail-from.example.org,MX,found,1767225900,1767222300,10:mx1.example.org 20:mx2.example.org
//! mail-from.nomail.example,MX,found,1767222600,1767222300,0:.
//! mx1.example.org,A,found,1767225900,1767222300,192.0.2.25 192.0.2.26
//! mx1.example.org,AAAA,nodata,1767222600,1767222300,
//! end 5 fnv1a64:615c39c09e5a3610
//! ```
//!
//! SPF's questions are kept the same way: `example.org,TXT,found,...,"""v=spf1%20mx%20-all"""`
//! (one quoted item per record, its strings joined, bytes outside printable ASCII and `%` `"`
//! as `%XX`; CSV doubles the quotes) and `4.2.0.192.in-addr.arpa,PTR,found,...,mx1.example.org`.
//!
//! - The header row names the format and its version in its first column, which holds the
//!   name, so the first bytes say what the file is (the output-safety check reads them).
//! - One row per question: the name, the type, the outcome, the absolute expiry (Unix
//!   seconds: when the answer was received plus its TTL, or the negative TTL for
//!   `nxdomain`/`nodata`), when it was received, and for `found` the data, items separated
//!   by spaces: `PREFERENCE:EXCHANGE` per MX target (`.` is the root, RFC 7505's null MX),
//!   one address per item, one quoted text per TXT record, or one name per PTR record.
//!   Bytes of a name outside printable ASCII, and `%`, are written as `%XX`, so a data item
//!   never holds a space.
//! - The last line, after the CSV, counts the entries and carries an FNV-1a 64 checksum of
//!   every byte before it. CSV alone cannot tell a file cut after a complete row, or a
//!   changed address, from a good one; the tests require both to be refused (a count alone
//!   would miss the changed address). It guards against accidents, not attackers.
//!
//! Version 2 files (`repudiate-dns-cache 2`, the same fields separated by spaces, expiry
//! first) and version 1 files (no receipt time; entries live by their TTL only) are still
//! read, with the same trailer and the same item decoder, so the legacy reader is one short
//! function; every file written is version 3.
//! Temporary failures (SERVFAIL, timeouts, `offline`) are never written, nor are answers from
//! `--zone` files (they never enter the run's cache). A file that is missing is an empty
//! cache; one that is truncated, damaged or of another version is reported (file and line)
//! and ignored as a whole, never trusted in part. Entries too old to use are dropped on load.

use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Data, MxTarget, Outcome, QType};
use crate::fileio::guard::Kind;
use crate::fileio::output::write_output;

/// The first line (the CSV header) of every cache file this version writes and reads.
pub const HEADER: &str = "repudiate_dns_cache_v3,type,outcome,expires,received,data";
/// The first line of the files of version 2, the space-separated format before CSV.
const HEADER_V2: &str = "repudiate-dns-cache 2";
/// The first line of the files of version 1, which had no receipt times.
const HEADER_V1: &str = "repudiate-dns-cache 1";
const MAGIC: &str = "repudiate-dns-cache";
/// How the CSV versions (3 on) begin.
const MAGIC_CSV: &str = "repudiate_dns_cache_v";

/// What `--cache` writes, so a file that is not a cache (notes, a history) is refused and
/// never replaced; a cache of another version or a damaged one is still this tool's own,
/// and is replaced. It is read back, so only a regular file will do.
pub const KIND: Kind = Kind {
    what: "a repudiate DNS cache (first line `repudiate_dns_cache_vVERSION,...`)",
    is_ours: is_cache,
    regular_only: true,
};

fn is_cache(prefix: &[u8]) -> bool {
    prefix.starts_with(format!("{MAGIC} ").as_bytes()) || prefix.starts_with(MAGIC_CSV.as_bytes())
}

/// One remembered answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Lowercase ASCII without the trailing dot, as the run's cache keys it.
    pub name: String,
    pub qtype: QType,
    /// `Found`, `NxDomain` or `NoData`; a failure is never an entry.
    pub outcome: Outcome,
    /// Unix seconds when its TTL runs out.
    pub expires: u64,
    /// Unix seconds when it was received (0: unknown, from a version 1 file).
    pub received: u64,
}

impl Entry {
    /// Whether the answer may still be used at `now`: within its TTL, or not older than
    /// `max_age` seconds (`--cache-max-age`; 0 keeps to the TTL).
    pub fn usable(&self, now: u64, max_age: u64) -> bool {
        self.expires > now || (self.received > 0 && self.received.saturating_add(max_age) > now)
    }

    /// Seconds of life left at `now` (0 once expired), capped to a DNS TTL's range.
    pub fn ttl_at(&self, now: u64) -> u32 {
        u32::try_from(self.expires.saturating_sub(now)).unwrap_or(u32::MAX)
    }
}

/// Why a cache file was not used.
#[derive(Debug, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    /// 1-based line the problem was found on, when there is one.
    pub line: Option<usize>,
    pub why: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}", self.why)
    }
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Reads the entries of `path` still usable at `now` (see [`Entry::usable`]). A missing
/// file is an empty cache.
pub fn load(path: &Path, now: u64, max_age: u64) -> Result<Vec<Entry>, LoadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(LoadError {
                path: path.to_path_buf(),
                line: None,
                why: e.to_string(),
            });
        }
    };
    parse(&bytes, now, max_age).map_err(|(line, why)| LoadError {
        path: path.to_path_buf(),
        line: Some(line),
        why,
    })
}

/// Writes `entries` to `path` atomically (temporary file and rename).
pub fn save(path: &Path, entries: &[Entry]) -> io::Result<()> {
    let text = render(entries);
    write_output(Some(path), |w: &mut dyn Write| w.write_all(text.as_bytes()))
}

/// The columns of a version 3 file. The first column holds the name; its heading names the
/// format and its version, so the first bytes of the file say what it is.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    #[serde(rename = "repudiate_dns_cache_v3")]
    name: String,
    #[serde(rename = "type")]
    qtype: String,
    outcome: String,
    expires: u64,
    received: u64,
    /// Space-separated items, each encoded as in version 2 (see the module documentation).
    data: String,
}

/// The file text for `entries`, sorted by name and type so two runs diff cleanly.
pub fn render(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries
        .iter()
        .filter(|e| !matches!(e.outcome, Outcome::Failed(_)))
        .collect();
    sorted.sort_by(|a, b| (&a.name, a.qtype).cmp(&(&b.name, b.qtype)));
    let mut w = csv::Writer::from_writer(Vec::with_capacity(64 * (sorted.len() + 2)));
    for e in &sorted {
        let (outcome, data) = outcome_fields(&e.outcome);
        w.serialize(Row {
            name: encode_name(&e.name),
            qtype: e.qtype.as_str().to_string(),
            outcome: outcome.to_string(),
            expires: e.expires,
            received: e.received,
            data,
        })
        .expect("a CSV row of strings and numbers always serializes");
    }
    if sorted.is_empty() {
        w.write_record(HEADER.split(','))
            .expect("writing to memory cannot fail");
    }
    let mut text = String::from_utf8(w.into_inner().expect("writing to memory cannot fail"))
        .expect("the rows are UTF-8");
    let sum = fnv1a64(text.as_bytes());
    let _ = writeln!(text, "end {} fnv1a64:{sum:016x}", sorted.len());
    text
}

/// The outcome column and the data column of an answer.
fn outcome_fields(outcome: &Outcome) -> (&'static str, String) {
    let mut out = String::new();
    let word = match outcome {
        Outcome::NxDomain => "nxdomain",
        Outcome::NoData => "nodata",
        Outcome::Found(data) => {
            write_data(&mut out, data);
            "found"
        }
        Outcome::Failed(_) => unreachable!("failures are filtered out before writing"),
    };
    (word, out.trim_start().to_string())
}

fn write_data(out: &mut String, data: &Data) {
    match data {
        Data::Mx(targets) => {
            for t in targets.iter() {
                let exchange = if t.exchange.is_empty() {
                    ".".to_string()
                } else {
                    encode_name(&t.exchange)
                };
                let _ = write!(out, " {}:{exchange}", t.preference);
            }
        }
        Data::Addrs(addrs) => {
            for a in addrs {
                let _ = write!(out, " {a}");
            }
        }
        Data::Txt(texts) => {
            for t in texts {
                let _ = write!(out, " \"{}\"", encode_text(t));
            }
        }
        Data::Ptr(names) => {
            for n in names {
                let _ = write!(out, " {}", encode_name(n));
            }
        }
    }
}

/// Parses a whole file; on failure, the 1-based line and what is wrong with it. Entries
/// not usable at `now` under `max_age` are left out.
pub fn parse(bytes: &[u8], now: u64, max_age: u64) -> Result<Vec<Entry>, (usize, String)> {
    let lines: Vec<&[u8]> = match bytes.strip_suffix(b"\n") {
        Some(body) => body.split(|&b| b == b'\n').collect(),
        None if bytes.is_empty() => return Err((1, "the file is empty (truncated)".into())),
        None => {
            let n = bytes.split(|&b| b == b'\n').count();
            return Err((n, "truncated: the last line has no line end".into()));
        }
    };
    let first = lines[0].strip_suffix(b"\r").unwrap_or(lines[0]);
    let version = check_header(first)?;
    let end_no = lines.len();
    let (count, sum) = parse_end(lines[end_no - 1]).ok_or_else(|| {
        (
            end_no,
            "truncated: the end line with the entry count and checksum is missing".to_string(),
        )
    })?;
    let body_len = bytes.len() - lines[end_no - 1].len() - 1;
    if fnv1a64(&bytes[..body_len]) != sum {
        return Err((
            end_no,
            "checksum mismatch: the file was changed or damaged".into(),
        ));
    }
    let all = if version == 3 {
        parse_rows(&bytes[..body_len])?
    } else {
        parse_lines(&lines[1..end_no - 1], version)?
    };
    if all.len() as u64 != count {
        return Err((
            end_no,
            format!(
                "the end line counts {count} entries, the file holds {}",
                all.len()
            ),
        ));
    }
    Ok(all.into_iter().filter(|e| e.usable(now, max_age)).collect())
}

/// Version 3: CSV rows read through serde.
fn parse_rows(body: &[u8]) -> Result<Vec<Entry>, (usize, String)> {
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let mut entries = Vec::new();
    let mut record = csv::StringRecord::new();
    let headers = reader.headers().map_err(|e| (1, e.to_string()))?.clone();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err((line, format!("not a cache row: {e}"))),
        }
        let line = record.position().map_or(line, |p| p.line() as usize);
        let row: Row = record
            .deserialize(Some(&headers))
            .map_err(|e| (line, format!("not a cache row: {e}")))?;
        let data: Vec<&str> = if row.data.is_empty() {
            Vec::new()
        } else {
            row.data.split(' ').collect()
        };
        let entry = build_entry(
            &row.name,
            &row.qtype,
            &row.outcome,
            data,
            row.expires,
            row.received,
        )
        .map_err(|why| (line, why))?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Versions 1 and 2 (legacy, read only): space-separated fields, one line per entry.
fn parse_lines(lines: &[&[u8]], version: u8) -> Result<Vec<Entry>, (usize, String)> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| parse_entry(line, version).map_err(|why| (i + 2, why)))
        .collect()
}

/// The format version the first line names, if this build reads it.
fn check_header(line: &[u8]) -> Result<u8, (usize, String)> {
    if line == HEADER.as_bytes() {
        return Ok(3);
    }
    if line == HEADER_V2.as_bytes() {
        return Ok(2);
    }
    if line == HEADER_V1.as_bytes() {
        return Ok(1);
    }
    let text = String::from_utf8_lossy(line);
    let version = text.strip_prefix(MAGIC).or_else(|| {
        text.strip_prefix(MAGIC_CSV)
            .map(|rest| rest.split(',').next().unwrap_or(""))
    });
    let why = match version {
        Some(version) => format!(
            "cache format version {:?} is not supported (this build reads {HEADER:?})",
            version.trim()
        ),
        None => format!("not a repudiate DNS cache (the first line is not {HEADER:?})"),
    };
    Err((1, why))
}

/// `end COUNT fnv1a64:HEX`.
fn parse_end(line: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split(' ');
    if fields.next()? != "end" {
        return None;
    }
    let count = fields.next()?.parse().ok()?;
    let sum = u64::from_str_radix(fields.next()?.strip_prefix("fnv1a64:")?, 16).ok()?;
    fields.next().is_none().then_some((count, sum))
}

fn parse_entry(line: &[u8], version: u8) -> Result<Entry, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    let mut fields = text.split(' ');
    let mut next = |what: &str| fields.next().ok_or_else(|| format!("no {what}"));
    let expires = seconds("expiry", next("expiry")?)?;
    let received = if version >= 2 {
        seconds("receipt time", next("receipt time")?)?
    } else {
        0
    };
    let name = next("name")?;
    let qtype = next("type")?;
    let outcome = next("outcome")?;
    build_entry(name, qtype, outcome, fields.collect(), expires, received)
}

fn seconds(what: &str, field: &str) -> Result<u64, String> {
    field
        .parse::<u64>()
        .map_err(|_| format!("{what} {field:?} is not a number of seconds"))
}

/// An entry from its fields as written (names and data items encoded).
fn build_entry(
    name: &str,
    qtype: &str,
    outcome: &str,
    data: Vec<&str>,
    expires: u64,
    received: u64,
) -> Result<Entry, String> {
    let name = decode_name(name)?;
    let qtype = match qtype {
        "MX" => QType::Mx,
        "A" => QType::A,
        "AAAA" => QType::Aaaa,
        "TXT" => QType::Txt,
        "PTR" => QType::Ptr,
        other => return Err(format!("unknown record type {other:?}")),
    };
    let outcome = match outcome {
        "found" => Outcome::Found(parse_data(qtype, data)?),
        _ if !data.is_empty() => return Err("data after a negative outcome".into()),
        "nxdomain" => Outcome::NxDomain,
        "nodata" => Outcome::NoData,
        other => return Err(format!("unknown outcome {other:?}")),
    };
    Ok(Entry {
        name,
        qtype,
        outcome,
        expires,
        received,
    })
}

fn parse_data(qtype: QType, fields: Vec<&str>) -> Result<Data, String> {
    if fields.is_empty() {
        return Err("a found answer without data".into());
    }
    match qtype {
        QType::Mx => fields
            .iter()
            .map(|f| parse_mx(f))
            .collect::<Result<Vec<_>, _>>()
            .map(|mx| Data::Mx(mx.into())),
        QType::A | QType::Aaaa => fields
            .iter()
            .map(|f| {
                let ip: IpAddr = f.parse().map_err(|_| format!("{f:?} is not an address"))?;
                if QType::for_ip(ip) == qtype {
                    Ok(ip)
                } else {
                    Err(format!("{ip} is not an address of type {}", qtype.as_str()))
                }
            })
            .collect::<Result<_, _>>()
            .map(Data::Addrs),
        QType::Txt => fields
            .iter()
            .map(|f| {
                let inner = f
                    .strip_prefix('"')
                    .and_then(|f| f.strip_suffix('"'))
                    .ok_or_else(|| format!("TXT data {f:?} is not quoted"))?;
                decode_bytes(inner).ok_or_else(|| format!("TXT data {f:?} is badly encoded"))
            })
            .collect::<Result<_, _>>()
            .map(Data::Txt),
        QType::Ptr => fields
            .iter()
            .map(|f| decode_name(f))
            .collect::<Result<_, _>>()
            .map(Data::Ptr),
    }
}

fn parse_mx(field: &str) -> Result<MxTarget, String> {
    let bad = || format!("{field:?} is not PREFERENCE:EXCHANGE");
    let (preference, exchange) = field.split_once(':').ok_or_else(bad)?;
    Ok(MxTarget {
        preference: preference.parse().map_err(|_| bad())?,
        exchange: if exchange == "." {
            String::new()
        } else {
            decode_name(exchange)?
        },
    })
}

/// Names as the file writes them: printable ASCII except `%`, other bytes as `%XX`.
fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// TXT text as the file writes it: like names, and `"` encoded too (it delimits the field).
fn encode_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_graphic() && b != b'%' && b != b'"' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn decode_name(field: &str) -> Result<String, String> {
    match decode_bytes(field) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(format!("name {field:?} is badly encoded")),
    }
}

/// Undoes `%XX`; `None` for a bad escape or bytes that are not UTF-8.
fn decode_bytes(field: &str) -> Option<String> {
    let raw = field.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = field.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// FNV-1a, 64 bits: a few lines, no dependency, and enough to notice accidental damage.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                name: "mail-from.example.org".into(),
                qtype: QType::Mx,
                outcome: Outcome::Found(Data::Mx(
                    vec![
                        MxTarget {
                            preference: 10,
                            exchange: "mx1.example.org".into(),
                        },
                        MxTarget {
                            preference: 20,
                            exchange: "mx2.example.org".into(),
                        },
                    ]
                    .into(),
                )),
                expires: NOW + 300,
                received: NOW - 100,
            },
            Entry {
                name: "mx1.example.org".into(),
                qtype: QType::Aaaa,
                outcome: Outcome::Found(Data::Addrs(vec!["2001:db8::25".parse().unwrap()])),
                expires: NOW + 60,
                received: NOW - 100,
            },
            Entry {
                name: "mx1.example.org".into(),
                qtype: QType::A,
                outcome: Outcome::Found(Data::Addrs(vec![
                    "192.0.2.25".parse().unwrap(),
                    "192.0.2.26".parse().unwrap(),
                ])),
                expires: NOW + 60,
                received: NOW - 100,
            },
            Entry {
                name: "mail-from.example.net".into(),
                qtype: QType::Mx,
                outcome: Outcome::NxDomain,
                expires: NOW + 1,
                received: NOW - 100,
            },
            Entry {
                name: "mail-from.nomail.example".into(),
                qtype: QType::Mx,
                outcome: Outcome::Found(Data::Mx(
                    vec![MxTarget {
                        preference: 0,
                        exchange: String::new(),
                    }]
                    .into(),
                )),
                expires: NOW + 3600,
                received: NOW - 100,
            },
            Entry {
                name: "example.org".into(),
                qtype: QType::Txt,
                outcome: Outcome::Found(Data::Txt(vec![
                    "v=spf1 mx -all".into(),
                    String::new(),
                    "say \"%\u{e9}\"".into(),
                ])),
                expires: NOW + 300,
                received: NOW - 100,
            },
            Entry {
                name: "25.2.0.192.in-addr.arpa".into(),
                qtype: QType::Ptr,
                outcome: Outcome::Found(Data::Ptr(vec!["mx1.example.org".into()])),
                expires: NOW + 300,
                received: NOW - 100,
            },
            Entry {
                name: "odd name%\u{e9}.example".into(),
                qtype: QType::A,
                outcome: Outcome::NoData,
                expires: NOW + 5,
                received: NOW - 100,
            },
        ]
    }

    fn sorted(mut v: Vec<Entry>) -> Vec<Entry> {
        v.sort_by(|a, b| (&a.name, a.qtype).cmp(&(&b.name, b.qtype)));
        v
    }

    #[test]
    fn round_trip_keeps_every_entry_sorted() {
        let text = render(&entries());
        assert!(text.starts_with(&format!("{HEADER}\n")), "{text}");
        assert!(
            text.contains(&format!(
                "\nmail-from.example.org,MX,found,{},{},10:mx1.example.org 20:mx2.example.org\n",
                NOW + 300,
                NOW - 100
            )),
            "{text}"
        );
        assert!(
            text.contains("\nmail-from.nomail.example,MX,found,"),
            "{text}"
        );
        assert!(text.contains(",0:.\n"), "{text}");
        assert!(
            text.contains("\nodd%20name%25%C3%A9.example,A,nodata,"),
            "{text}"
        );
        assert!(
            text.contains(
                r#","""v=spf1%20mx%20-all"" """" ""say%20%22%25%C3%A9%22"""
"#
            ),
            "{text}"
        );
        assert!(
            text.contains("\n25.2.0.192.in-addr.arpa,PTR,found,"),
            "{text}"
        );
        assert!(text.contains("\nend 8 fnv1a64:"), "{text}");
        assert_eq!(parse(text.as_bytes(), NOW, 0).unwrap(), sorted(entries()));
        // the same entries in another order give the same bytes
        let mut reversed = entries();
        reversed.reverse();
        assert_eq!(render(&reversed), text);
    }

    #[test]
    fn expired_entries_are_dropped_and_failures_never_written() {
        let mut with_failure = entries();
        with_failure.push(Entry {
            name: "down.example".into(),
            qtype: QType::A,
            outcome: Outcome::Failed(super::super::Failure::ServFail),
            expires: NOW + 300,
            received: NOW - 100,
        });
        let text = render(&with_failure);
        assert!(!text.contains("down.example"), "{text}");
        let later = parse(text.as_bytes(), NOW + 60, 0).unwrap();
        let names: Vec<(&str, QType)> = later.iter().map(|e| (e.name.as_str(), e.qtype)).collect();
        assert_eq!(
            names,
            [
                ("25.2.0.192.in-addr.arpa", QType::Ptr),
                ("example.org", QType::Txt),
                ("mail-from.example.org", QType::Mx),
                ("mail-from.nomail.example", QType::Mx)
            ]
        );
        assert_eq!(later[2].ttl_at(NOW + 60), 240);
    }

    #[test]
    fn every_truncation_is_detected() {
        let text = render(&entries());
        for cut in 0..text.len() {
            let r = parse(&text.as_bytes()[..cut], NOW, 0);
            assert!(r.is_err(), "cut at {cut} was accepted: {r:?}");
        }
    }

    #[test]
    fn damage_is_detected_and_located() {
        let text = render(&entries());
        let damaged = text.replacen("192.0.2.25", "192.0.2.99", 1);
        let (line, why) = parse(damaged.as_bytes(), NOW, 0).unwrap_err();
        assert_eq!(line, 10, "the end line");
        assert!(why.contains("checksum"), "{why}");

        let (line, why) = parse(b"something else\nend 0 fnv1a64:0\n", NOW, 0).unwrap_err();
        assert_eq!(line, 1);
        assert!(why.contains("not a repudiate DNS cache"), "{why}");

        let (line, why) = parse(b"repudiate-dns-cache 9\nend 0 fnv1a64:0\n", NOW, 0).unwrap_err();
        assert_eq!(line, 1);
        assert!(why.contains("version \"9\""), "{why}");

        let (line, why) =
            parse(b"repudiate_dns_cache_v9,type\nend 0 fnv1a64:0\n", NOW, 0).unwrap_err();
        assert_eq!(line, 1);
        assert!(why.contains("version \"9\""), "{why}");
    }

    /// A file whose checksum is right but whose entries are not (another writer, a hand
    /// edit with a recomputed sum) still fails on the line at fault.
    #[test]
    fn a_bad_entry_behind_a_good_checksum_names_its_line() {
        let cases = [
            ("x 1 mail-from.a.example MX nxdomain", "expiry"),
            ("1900000000 a.example MX nxdomain", "receipt time"),
            ("1900000000 1 a.example SPF nodata", "record type"),
            ("1900000000 1 a.example TXT found v=spf1", "not quoted"),
            ("1900000000 1 a.example TXT found \"%zz\"", "badly encoded"),
            (
                "1900000000 1 a.example A found 2001:db8::1",
                "not an address of type A",
            ),
            ("1900000000 1 a.example A found", "without data"),
            (
                "1900000000 1 a.example MX found mx.example",
                "PREFERENCE:EXCHANGE",
            ),
            (
                "1900000000 1 a.example MX nxdomain extra",
                "after a negative",
            ),
            ("1900000000 1 a%zz.example A nodata", "badly encoded"),
            ("1900000000 1 a.example MX maybe", "unknown outcome"),
        ];
        for (line, expected) in cases {
            let mut body = format!("{HEADER_V2}\n1900000000 1 ok.example A nodata\n{line}\n");
            let sum = fnv1a64(body.as_bytes());
            body.push_str(&format!("end 2 fnv1a64:{sum:016x}\n"));
            let (at, why) = parse(body.as_bytes(), NOW, 0).unwrap_err();
            assert_eq!(at, 3, "{line}");
            assert!(why.contains(expected), "{line}: {why}");
        }
        let mut body = format!("{HEADER_V2}\n1900000000 1 ok.example A nodata\n");
        let sum = fnv1a64(body.as_bytes());
        body.push_str(&format!("end 5 fnv1a64:{sum:016x}\n"));
        let (at, why) = parse(body.as_bytes(), NOW, 0).unwrap_err();
        assert_eq!((at, why.contains("counts 5 entries")), (3, true), "{why}");
    }

    /// The example in this module's documentation (and docs/usage.md) is a valid file.
    #[test]
    fn the_documented_example_parses() {
        let doc: String = include_str!("persist.rs")
            .lines()
            .skip_while(|l| *l != "//! ```text")
            .skip(1)
            .take_while(|l| *l != "//! ```")
            .map(|l| format!("{}\n", l.trim_start_matches("//! ")))
            .collect();
        let entries = parse(doc.as_bytes(), 1_767_222_000, 0).unwrap();
        assert_eq!(entries.len(), 5);
        let usage = include_str!("../../docs/usage.md");
        let indented: String = doc.lines().map(|l| format!("    {l}\n")).collect();
        assert!(
            usage.contains(&indented),
            "docs/usage.md shows the same file"
        );
    }

    #[test]
    fn load_reports_the_file_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dns.cache");
        assert_eq!(load(&path, NOW, 0).unwrap(), []);
        save(&path, &entries()).unwrap();
        assert_eq!(load(&path, NOW, 0).unwrap(), sorted(entries()));
        std::fs::write(&path, "repudiate-dns-cache 2\n1900000000 1 a.exa").unwrap();
        let e = load(&path, NOW, 0).unwrap_err();
        assert_eq!(e.line, Some(2));
        let shown = e.to_string();
        assert!(shown.contains("dns.cache line 2: truncated"), "{shown}");
    }

    #[test]
    fn max_age_keeps_answers_past_their_ttl_but_not_past_itself() {
        let text = render(&entries());
        let day = 86_400;
        // A day later every TTL has run out: without a max age nothing is left.
        assert_eq!(parse(text.as_bytes(), NOW + day, 0).unwrap(), []);
        // With a week's max age everything received 100 s before NOW is still usable...
        let week = 7 * day;
        let kept = parse(text.as_bytes(), NOW + day, week).unwrap();
        assert_eq!(kept, sorted(entries()));
        assert_eq!(
            kept[0].ttl_at(NOW + day),
            0,
            "a stale answer has no TTL left"
        );
        // ...until a week after it was received.
        assert_eq!(parse(text.as_bytes(), NOW - 100 + week, week).unwrap(), []);
    }

    #[test]
    fn version_1_files_are_read_and_live_by_their_ttl_only() {
        let mut body = format!("{HEADER_V1}\n{} ok.example A nodata\n", NOW + 60);
        let sum = fnv1a64(body.as_bytes());
        body.push_str(&format!("end 1 fnv1a64:{sum:016x}\n"));
        let entries = parse(body.as_bytes(), NOW, 0).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].expires, entries[0].received), (NOW + 60, 0));
        let week = 7 * 86_400;
        assert_eq!(parse(body.as_bytes(), NOW + 61, week).unwrap(), []);
    }

    /// The CSV rows are checked like the legacy lines: a bad row behind a good checksum
    /// names its line.
    #[test]
    fn a_bad_csv_row_behind_a_good_checksum_names_its_line() {
        let cases = [
            ("ok.example,A,nodata,x,1,", "not a cache row"),
            ("ok.example,A,nodata,1900000000,1", "not a cache row"),
            ("a.example,SPF,nodata,1900000000,1,", "record type"),
            ("a.example,TXT,found,1900000000,1,v=spf1", "not quoted"),
            (
                "a.example,A,found,1900000000,1,2001:db8::1",
                "not an address of type A",
            ),
            ("a.example,A,found,1900000000,1,", "without data"),
            (
                "a.example,MX,nxdomain,1900000000,1,10:mx.example",
                "after a negative",
            ),
            ("a%zz.example,A,nodata,1900000000,1,", "badly encoded"),
        ];
        for (row, expected) in cases {
            let mut body = format!("{HEADER}\nok.example,A,nodata,1900000000,1,\n{row}\n");
            let sum = fnv1a64(body.as_bytes());
            body.push_str(&format!("end 2 fnv1a64:{sum:016x}\n"));
            let (at, why) = parse(body.as_bytes(), NOW, 0).unwrap_err();
            assert_eq!(at, 3, "{row}: {why}");
            assert!(why.contains(expected), "{row}: {why}");
        }
    }

    /// A file written by the previous release (format 2) still loads, entries and all.
    #[test]
    fn version_2_files_are_still_read() {
        let mut body = format!(
            "{HEADER_V2}\n{} {} odd%20name.example TXT found \"v=spf1%20-all\"\n",
            NOW + 60,
            NOW - 5
        );
        let sum = fnv1a64(body.as_bytes());
        body.push_str(&format!("end 1 fnv1a64:{sum:016x}\n"));
        let entries = parse(body.as_bytes(), NOW, 0).unwrap();
        assert_eq!(
            entries,
            [Entry {
                name: "odd name.example".into(),
                qtype: QType::Txt,
                outcome: Outcome::Found(Data::Txt(vec!["v=spf1 -all".into()])),
                expires: NOW + 60,
                received: NOW - 5,
            }]
        );
        // and is written back as version 3
        assert!(render(&entries).starts_with(&format!("{HEADER}\n")));
    }

    #[test]
    fn an_empty_cache_is_a_header_and_a_trailer() {
        let text = render(&[]);
        assert!(
            text.starts_with(&format!("{HEADER}\nend 0 fnv1a64:")),
            "{text}"
        );
        assert_eq!(parse(text.as_bytes(), NOW, 0).unwrap(), []);
    }
}

//! The sidecar of a pairs file (`pairs.csv` → `pairs.csv.meta`): what the pairs were made
//! from, so that merging `scan` files is lossless (docs/design.md §7, issue 13). It holds the skipped
//! records by reason and the inputs read, which the pairs rows cannot carry without
//! breaking the CSV for spreadsheets (a comment row would be a data row to them). An audit
//! over merged scans adds these up and reports the totals one audit over all logs would.
//!
//! The sidecar names the pairs file's length and checksum; one that does not match (the
//! CSV was edited, or replaced without it) is ignored and said so, never half-trusted.
//! It is itself CSV: `repudiate-pairs-meta,1`, then `pairs,BYTES,FNV1A64`, `inputs,N`, one
//! `skipped,REASON,N` per reason and one `input,PATH` per path the inputs were named by.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::fileio::csv_cell::{neutralise, raw};
use crate::model::SkipReason;

const MAGIC: &str = "repudiate-pairs-meta";
const VERSION: &str = "1";

/// What a pairs file was made from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Skipped records by reason, indexed as [`SkipReason::ALL`].
    pub skipped: [u64; SkipReason::ALL.len()],
    /// How many inputs were read (files, a maildir's messages each; through any number of
    /// merges, the original inputs).
    pub inputs_read: usize,
    /// The paths those inputs were named by (the command line's, a merged pairs file's
    /// replaced by those of its sidecar).
    pub inputs: Vec<String>,
    /// Length and checksum of the pairs file this sidecar belongs to.
    pub pairs: Sum,
}

/// Where the sidecar of `pairs` lives.
pub fn sidecar_path(pairs: &Path) -> PathBuf {
    let mut name = pairs.as_os_str().to_owned();
    name.push(".meta");
    PathBuf::from(name)
}

/// Length and FNV-1a checksum of a byte stream: enough to tell a sidecar from a stale
/// one (it guards against accidents, not against forgery).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sum {
    pub bytes: u64,
    pub fnv: u64,
}

impl Default for Sum {
    fn default() -> Self {
        Sum {
            bytes: 0,
            fnv: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl Sum {
    pub fn update(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        for &b in data {
            self.fnv = (self.fnv ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// A writer (or reader) that sums what passes through it.
pub struct Summing<T> {
    pub inner: T,
    pub sum: Sum,
    /// False when nothing will read the sum: the bytes only pass through.
    summing: bool,
}

impl<T> Summing<T> {
    pub fn new(inner: T) -> Self {
        Summing {
            inner,
            sum: Sum::default(),
            summing: true,
        }
    }

    /// A pass-through that leaves `sum` at its start: for a pairs file with no sidecar to
    /// check, where the byte-at-a-time checksum was a tenth of a merge's time.
    pub fn unsummed(inner: T) -> Self {
        Summing {
            summing: false,
            ..Summing::new(inner)
        }
    }
}

impl<T: Write> Write for Summing<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.summing {
            self.sum.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Summing<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.summing {
            self.sum.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// True when `bytes` start as a sidecar does (a damaged one may be replaced, anything
/// else may not).
pub fn is_sidecar(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC.as_bytes())
}

/// Writes `meta` as its CSV.
pub fn write(out: &mut dyn Write, meta: &Meta) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    w.write_record([MAGIC, VERSION])?;
    let (bytes, fnv) = (
        meta.pairs.bytes.to_string(),
        format!("{:016x}", meta.pairs.fnv),
    );
    w.write_record(["pairs", &bytes, &fnv])?;
    w.write_record(["inputs", &meta.inputs_read.to_string()])?;
    for reason in SkipReason::ALL {
        let n = meta.skipped[reason.index()].to_string();
        w.write_record(["skipped", reason.as_str(), &n])?;
    }
    // A path may start with `=` or `-`: spreadsheet-safe like every CSV the tool writes.
    for input in &meta.inputs {
        w.write_record(["input", &neutralise(input)])?;
    }
    w.flush()
}

/// Parses a sidecar; the error says what is wrong with it.
pub fn parse(text: &[u8]) -> Result<Meta, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut meta = Meta::default();
    let mut records = r.records();
    match records.next() {
        Some(Ok(first)) if first.get(0) == Some(MAGIC) && first.get(1) == Some(VERSION) => {}
        _ => return Err(format!("not a {MAGIC} {VERSION} file")),
    }
    let mut has_sum = false;
    let mut inputs_read = None;
    for (i, record) in records.enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let field = |n: usize| record.get(n).unwrap_or("");
        match field(0) {
            "pairs" => {
                meta.pairs = Sum {
                    bytes: field(1)
                        .parse()
                        .map_err(|_| format!("line {line}: bad length"))?,
                    fnv: u64::from_str_radix(field(2), 16)
                        .map_err(|_| format!("line {line}: bad checksum"))?,
                };
                has_sum = true;
            }
            "skipped" => {
                let reason = SkipReason::ALL
                    .into_iter()
                    .find(|r| r.as_str() == field(1))
                    .ok_or_else(|| format!("line {line}: unknown reason {:?}", field(1)))?;
                let n: u64 = field(2)
                    .parse()
                    .map_err(|_| format!("line {line}: bad count"))?;
                let slot = &mut meta.skipped[reason.index()];
                *slot = slot.saturating_add(n);
            }
            "inputs" => {
                let n = field(1).parse();
                inputs_read = Some(n.map_err(|_| format!("line {line}: bad input count"))?);
            }
            "input" => meta.inputs.push(raw(field(1)).to_string()),
            other => return Err(format!("line {line}: unknown key {other:?}")),
        }
    }
    if !has_sum {
        return Err("no pairs line".into());
    }
    meta.inputs_read = inputs_read.unwrap_or(meta.inputs.len());
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_awkward_names() {
        let mut meta = Meta::default();
        meta.skipped[SkipReason::Internal.index()] = 7;
        meta.skipped[SkipReason::Malformed.index()] = u64::MAX;
        meta.inputs = vec![
            "/var/log/mail.log".into(),
            "a,\"b\"\nc".into(),
            "=cmd|' /c calc'!a0".into(),
        ];
        meta.inputs_read = 7;
        let mut s = Summing::new(Vec::new());
        s.write_all(b"domain,ip,messages\n").unwrap();
        meta.pairs = s.sum;
        let mut out = Vec::new();
        write(&mut out, &meta).unwrap();
        assert!(out.starts_with(b"repudiate-pairs-meta,1\npairs,19,"));
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("\ninput,'=cmd"), "{text}");
        assert_eq!(parse(&out).unwrap(), meta);
    }

    #[test]
    fn damaged_sidecars_are_refused_with_a_reason() {
        for (bad, why) in [
            (&b""[..], "not a"),
            (b"domain,ip,messages\n", "not a"),
            (b"repudiate-pairs-meta,1\n", "no pairs"),
            (b"repudiate-pairs-meta,1\npairs,x,0\n", "bad length"),
            (
                b"repudiate-pairs-meta,1\npairs,1,0\nskipped,bogus,1\n",
                "unknown reason",
            ),
            (
                b"repudiate-pairs-meta,1\npairs,1,0\nskipped,local,-1\n",
                "bad count",
            ),
            (
                b"repudiate-pairs-meta,1\npairs,1,0\nwhat,1\n",
                "unknown key",
            ),
            (
                b"repudiate-pairs-meta,1\npairs,1,0\ninputs,x\n",
                "bad input count",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn sums_see_every_byte() {
        let mut a = Sum::default();
        a.update(b"ab");
        let mut b = Sum::default();
        b.update(b"ba");
        assert_ne!(a, b);
        let mut r = Summing::new(&b"ab"[..]);
        io::copy(&mut r, &mut io::sink()).unwrap();
        assert_eq!(r.sum, a);
        assert_eq!(
            sidecar_path(Path::new("x/p.csv")),
            Path::new("x/p.csv.meta")
        );
    }
}

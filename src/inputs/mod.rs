//! Inputs: expands paths, opens each file, detects its format and streams it through the
//! matching extractor into a per-input [`Tally`]. Files are read in parallel (rayon); a file
//! that fails is named in an [`InputError`] and the others are still read (SPEC §6).

pub mod decompress;
pub mod detect;
mod gzip;
pub mod log_reader;
pub mod mbox;
mod mbox_ranges;
pub mod oversize;
mod reports;
pub mod rotation;
pub mod walk;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::aggregate::Tally;
use crate::extract::logs::LogExtractor;
use crate::extract::{ExtractOptions, message};
use crate::model::{Record, SkipReason};
use crate::pairs_file;
pub use detect::Format;
use mbox::{MboxReader, MboxSplit};
use oversize::{BoundedLines, CappedReader, Line, LineLimit, Oversized};
pub use walk::Input;

/// How many bytes detection looks at.
const DETECT_BYTES: usize = 8192;
const READ_BUFFER: usize = 256 * 1024;

#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub extract: ExtractOptions,
    /// `--format`: skip detection.
    pub format: Option<Format>,
    /// `--strict`: the first malformed record fails its input.
    pub strict: bool,
    /// `--max-line-bytes`: a longer line or header block is skipped as oversized.
    pub max_line_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            extract: ExtractOptions::default(),
            format: None,
            strict: false,
            max_line_bytes: oversize::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// An input that could not be read completely, and where it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub input: String,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

/// An input in which lines or header blocks over the limit were skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversizedInput {
    pub input: String,
    pub oversized: Oversized,
    /// The limit they were over.
    pub max: usize,
}

impl std::fmt::Display for OversizedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.oversized.count;
        write!(
            f,
            "{}: {n} line{} or header block{} longer than {} bytes skipped as oversized",
            self.input,
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            self.max
        )?;
        if let Some(at) = self.oversized.first_offset {
            write!(f, ", the first at byte {at}")?;
        }
        f.write_str(" (--max-line-bytes raises the limit)")
    }
}

/// Everything the inputs stage produced.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub tally: Tally,
    pub errors: Vec<InputError>,
    /// The inputs that held oversized items, in input order.
    pub oversized: Vec<OversizedInput>,
    /// Inputs read to the end without error.
    pub inputs_ok: usize,
    pub inputs_total: usize,
}

/// Reads every path; never stops at the first failure. `progress` counts the bytes read
/// from disk (compressed bytes for compressed files) against their total size.
pub fn read_all(paths: &[PathBuf], opts: &ReadOptions, progress: &ProgressBar) -> ReadReport {
    let (inputs, walk_errors) = walk::expand(paths);
    if !progress.is_hidden() {
        // A stat per file is only worth it when someone watches the bar.
        match walk::total_size(&inputs) {
            Some(total) => progress.set_length(total),
            None => progress.unset_length(),
        }
    }
    let mut errors: Vec<InputError> = walk_errors
        .into_iter()
        .map(|e| InputError {
            input: e.path.display().to_string(),
            message: e.error.to_string(),
        })
        .collect();
    // Each rayon thread folds its jobs into one tally, so memory follows the distinct
    // pairs, not the number of files (a maildir may hold millions). A job is one file, or
    // a rotation set read in order.
    let jobs = rotation::group(inputs.clone());
    let (tally, mut read_errors, mut oversized, inputs_ok) = jobs
        .par_iter()
        .fold(
            || (Tally::default(), Vec::new(), Vec::new(), 0usize),
            |(mut tally, mut errs, mut long, mut ok), job| {
                let job_errors = read_job(job, opts, &mut tally, &mut long, progress);
                ok += job.len() - job_errors.len();
                errs.extend(job_errors);
                (tally, errs, long, ok)
            },
        )
        .reduce(
            || (Tally::default(), Vec::new(), Vec::new(), 0usize),
            |(mut a, mut ae, mut al, ao), (b, be, bl, bo)| {
                a.merge(b);
                ae.extend(be);
                al.extend(bl);
                (a, ae, al, ao + bo)
            },
        );
    // Threads finish in any order; errors are reported in input order.
    if read_errors.len() + oversized.len() > 1 {
        let order: std::collections::HashMap<String, usize> = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| (input.name(), i))
            .collect();
        read_errors.sort_by_key(|e| order.get(&e.input).copied());
        oversized.sort_by_key(|o| order.get(&o.input).copied());
    }
    let inputs_total = inputs.len() + errors.len();
    errors.extend(read_errors);
    ReadReport {
        tally,
        inputs_total,
        inputs_ok,
        errors,
        oversized,
    }
}

/// Reads the inputs of one job in order; log lines of all of them go through one
/// extractor, which is finished after the last. Returns the inputs that failed.
fn read_job(
    job: &[Input],
    opts: &ReadOptions,
    tally: &mut Tally,
    oversized: &mut Vec<OversizedInput>,
    progress: &ProgressBar,
) -> Vec<InputError> {
    let mut log = LogExtractor::new(opts.extract.clone());
    let errors = job
        .iter()
        .filter_map(|input| {
            let mut limit = LineLimit::new(opts.max_line_bytes);
            let error = read_input(input, opts, tally, &mut log, &mut limit, progress);
            if limit.oversized.count > 0 {
                oversized.push(OversizedInput {
                    input: input.name(),
                    oversized: limit.oversized,
                    max: limit.max,
                });
            }
            error
        })
        .collect();
    log.finish(&mut |record| tally.add(record));
    errors
}

/// Reads one input into `tally`. What was read before a failure is kept; the error says
/// where it stopped.
fn read_input(
    input: &Input,
    opts: &ReadOptions,
    tally: &mut Tally,
    log: &mut LogExtractor,
    limit: &mut LineLimit,
    progress: &ProgressBar,
) -> Option<InputError> {
    let fail = |message: String| {
        Some(InputError {
            input: input.name(),
            message,
        })
    };
    let reader: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(progress.wrap_read(io::stdin())),
        Input::File(path) => {
            let file = match File::open(path) {
                Ok(f) => f,
                Err(e) => return fail(e.to_string()),
            };
            // Positional reads only: when the range reader declines, the file is still
            // at its start for the stream below, so each input is opened once.
            if let Some(result) = mbox_ranges::read_if_suited(&file, opts, tally, limit, progress) {
                return result
                    .err()
                    .and_then(|e| fail(ReadError::Io(e).to_string()));
            }
            Box::new(progress.wrap_read(file))
        }
    };
    let (head, rest) = match read_head(reader)
        .and_then(decompressed)
        .and_then(skip_leading_nuls)
    {
        Ok(x) => x,
        Err(e) => return fail(e.to_string()),
    };
    let format = match opts.format.or_else(|| detect::detect(&head)) {
        Some(f) => f,
        None if head.is_empty() => return None,
        None => return fail("unrecognised format (use --format to say what it is)".into()),
    };
    let reader = Cursor::new(head).chain(rest);
    let buffered = |reader| BufReader::with_capacity(READ_BUFFER, reader);
    let mut sink = Sink {
        tally,
        strict: opts.strict,
        limit,
    };
    let result = match format {
        Format::Mbox => read_mbox(buffered(reader), opts, &mut sink),
        Format::Message => read_message(buffered(reader), opts, &mut sink),
        // Reads in windows of its own, no BufReader copy.
        Format::Log => read_log(reader, opts, &mut sink, log),
        Format::Pairs => read_pairs(buffered(reader), &mut sink),
        Format::Dmarc => {
            reports::read_report_file(reader, opts, sink.tally).map_err(ReadError::Report)
        }
        Format::ReportMailbox => reports::read_report_mailbox(buffered(reader), opts, sink.tally)
            .map_err(ReadError::Report),
    };
    result.err().and_then(|e| fail(e.to_string()))
}

/// Where and why reading stopped.
#[derive(Debug)]
enum ReadError {
    Io(io::Error),
    Malformed {
        line: u64,
        what: &'static str,
    },
    /// `--strict`: a line or header block over the limit, at this byte offset.
    Oversized {
        offset: u64,
        max: usize,
    },
    /// A DMARC report (or a message delivering one) that could not be read.
    Report(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "read error: {e}"),
            ReadError::Malformed { line, what } => {
                write!(f, "line {line}: malformed {what} (--strict)")
            }
            ReadError::Oversized { offset, max } => write!(
                f,
                "byte {offset}: line or header block longer than {max} bytes (--strict; \
                 --max-line-bytes raises the limit)"
            ),
            ReadError::Report(e) => f.write_str(e),
        }
    }
}

/// Replaces a compressed stream by its decompressed one, and re-reads the head from it.
fn decompressed(
    (head, rest): (Vec<u8>, Box<dyn Read + Send>),
) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    match decompress::Compression::sniff(&head) {
        None => Ok((head, rest)),
        Some(c) => read_head(decompress::on_own_thread(
            c.decoder(Box::new(Cursor::new(head).chain(rest)))?,
        )?),
    }
}

/// Drops NUL bytes at the start of a stream. logrotate's `copytruncate` leaves the new file
/// starting with a hole of NULs as long as the old file (the daemon goes on writing at its
/// old offset), far longer than detection looks. NUL is no line break, so line numbers stay.
fn skip_leading_nuls(
    (mut head, mut rest): (Vec<u8>, Box<dyn Read + Send>),
) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    loop {
        match head.iter().position(|&b| b != 0) {
            Some(0) => return Ok((head, rest)),
            Some(n) => {
                head.drain(..n);
                return read_head(Box::new(Cursor::new(head).chain(rest)));
            }
            None if head.is_empty() => return Ok((head, rest)),
            None => (head, rest) = read_head(rest)?,
        }
    }
}

fn read_head(mut reader: Box<dyn Read + Send>) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(DETECT_BYTES);
    (&mut reader)
        .take(DETECT_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok((head, reader))
}

/// Where the records of one input go.
struct Sink<'a> {
    tally: &'a mut Tally,
    strict: bool,
    limit: &'a mut LineLimit,
}

impl Sink<'_> {
    /// Adds a record; in strict mode a malformed one stops the input at `line`.
    fn add(&mut self, record: Record, line: u64, what: &'static str) -> Result<(), ReadError> {
        if self.strict && record == Record::Skipped(SkipReason::Malformed) {
            return Err(ReadError::Malformed { line, what });
        }
        self.tally.add(record);
        Ok(())
    }

    /// Counts an item over the limit at `offset`; in strict mode it stops the input.
    fn oversized(&mut self, offset: u64) -> Result<(), ReadError> {
        self.limit.oversized.note(offset);
        if self.strict {
            return Err(ReadError::Oversized {
                offset,
                max: self.limit.max,
            });
        }
        self.tally.add(Record::Skipped(SkipReason::Oversized));
        Ok(())
    }

    /// [`Self::add`] for an item of a split mbox, which says where it started.
    fn add_split(&mut self, split: Split) -> Result<(), ReadError> {
        match split.offset {
            Some(offset) => self.oversized(offset),
            None => self.add(split.record, split.line, split.what),
        }
    }
}

/// Header bytes split off before a batch of messages is parsed: enough to keep every thread
/// busy, few enough that memory stays bounded whatever the size of the mbox.
const MBOX_BATCH_BYTES: usize = 2 << 20;
const MBOX_BATCH_MESSAGES: usize = 4096;

/// Split messages waiting to be parsed; their header blocks share one buffer.
#[derive(Default)]
struct MboxBatch {
    headers: Vec<u8>,
    items: Vec<MboxSplit>,
}

/// One mbox file: split sequentially (cheap, memmem), header blocks parsed in parallel one
/// batch at a time while the next batch is split (SPEC §7). Records are added in file
/// order, so `--strict` stops at the same message as a sequential read. A large plain mbox
/// file read without `--strict` goes by byte ranges instead ([`mbox_ranges`]).
fn read_mbox(
    reader: impl BufRead + Send,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let mut mbox = MboxReader::new(reader).with_limit(opts.max_line_bytes);
    if !opts.strict {
        mbox = mbox.without_line_numbers();
    }
    let mut batch = MboxBatch::default();
    let mut next = MboxBatch::default();
    let mut split = split_batch(&mut mbox, &mut batch);
    while !batch.items.is_empty() {
        let (records, next_split) = if matches!(split, Ok(true)) {
            rayon::join(
                || parse_batch(&batch, opts),
                || split_batch(&mut mbox, &mut next),
            )
        } else {
            (parse_batch(&batch, opts), Ok(false))
        };
        for split in records {
            sink.add_split(split)?;
        }
        // A read error counts only after everything read before it.
        split?;
        std::mem::swap(&mut batch, &mut next);
        next.headers.clear();
        next.items.clear();
        split = next_split;
    }
    split.map(drop).map_err(ReadError::from)
}

/// Splits messages into `batch` until it is full; false when the input has ended.
fn split_batch<R: Read>(mbox: &mut MboxReader<R>, batch: &mut MboxBatch) -> io::Result<bool> {
    while batch.headers.len() < MBOX_BATCH_BYTES && batch.items.len() < MBOX_BATCH_MESSAGES {
        match mbox.next_into(&mut batch.headers)? {
            Some(item) => batch.items.push(item),
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Each item of a batch to its record, in order.
fn parse_batch(batch: &MboxBatch, opts: &ReadOptions) -> Vec<Split> {
    batch
        .items
        .par_iter()
        .with_min_len(32)
        .map(|item| split_record(item, &batch.headers, opts))
        .collect()
}

/// What one item of a split mbox amounts to.
struct Split {
    record: Record,
    /// The line it starts at (0 when lines are not counted).
    line: u64,
    what: &'static str,
    /// Set for a message whose header block was over the limit: where it starts.
    offset: Option<u64>,
}

/// A split item's record; `headers` holds its header block.
fn split_record(item: &MboxSplit, headers: &[u8], opts: &ReadOptions) -> Split {
    match item {
        MboxSplit::Preamble { line } => Split {
            record: Record::Skipped(SkipReason::Malformed),
            line: *line,
            what: "text before the first From line",
            offset: None,
        },
        MboxSplit::Message {
            line,
            oversized: true,
            offset,
            ..
        } => Split {
            record: Record::Skipped(SkipReason::Oversized),
            line: *line,
            what: "message (header block too large)",
            offset: Some(*offset),
        },
        MboxSplit::Message {
            envelope,
            header,
            line,
            ..
        } => Split {
            record: message::extract(&headers[header.clone()], Some(envelope), &opts.extract),
            line: *line,
            what: "message",
            offset: None,
        },
    }
}

/// A single stored message: its header block, read line by line up to the limit.
fn read_message(
    reader: impl BufRead,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let mut lines = BoundedLines::new(reader, opts.max_line_bytes);
    let mut header = Vec::new();
    let mut line = Vec::new();
    let mut envelope = None;
    loop {
        match lines.next_line(&mut line)? {
            Line::End => break,
            // One line over the limit is a header block over it too.
            Line::Oversized(_) => return sink.oversized(0),
            Line::Read if matches!(&line[..], b"\n" | b"\r\n") => break,
            Line::Read => {}
        }
        // Some tools save one message behind an undated `From addr` line: an envelope line,
        // not a header field (`From:` and the obsolete `From  :` are fields).
        if header.is_empty() && envelope.is_none() && detect::is_envelope_line(&line) {
            envelope = Some(mbox::envelope_sender(&line));
            continue;
        }
        if header.len() + line.len() > opts.max_line_bytes {
            return sink.oversized(0);
        }
        header.extend_from_slice(&line);
    }
    if reports::read_report_message(&header, &line, lines.into_inner(), opts, sink.tally, "")
        .map_err(ReadError::Report)?
    {
        return Ok(());
    }
    let record = message::extract(&header, envelope.as_deref(), &opts.extract);
    sink.add(record, 1, "message")
}

fn read_log(
    reader: impl Read + Send,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
    log: &mut LogExtractor,
) -> Result<(), ReadError> {
    let max = sink.limit.max;
    log_reader::read_log(reader, log, sink.tally, opts.strict, sink.limit).map_err(
        |stop| match stop {
            log_reader::Stop::Io(e) => ReadError::Io(e),
            log_reader::Stop::Malformed { line } => ReadError::Malformed {
                line,
                what: "log line",
            },
            log_reader::Stop::Oversized { offset } => ReadError::Oversized { offset, max },
        },
    )
}

/// A pairs file; the CSV parser sees each line over the limit as an empty line.
fn read_pairs(reader: impl BufRead, sink: &mut Sink<'_>) -> Result<(), ReadError> {
    let noted = std::cell::Cell::new(Oversized::default());
    let mut capped = CappedReader::new(reader, sink.limit.max, &noted);
    let mut counted = 0;
    // Lines over the limit are counted in file order, before the row that follows them.
    let mut catch_up = |sink: &mut Sink<'_>| -> Result<(), ReadError> {
        let seen = noted.get();
        while counted < seen.count {
            counted += 1;
            // Only the first offset is kept, which is the one strict mode names.
            sink.oversized(seen.first_offset.unwrap_or(0))?;
        }
        Ok(())
    };
    pairs_file::read(&mut capped, &mut |line, row| {
        catch_up(sink)?;
        match row {
            Some((key, messages)) => {
                sink.tally.add_pair(key, messages);
                Ok(())
            }
            None => sink.add(Record::Skipped(SkipReason::Malformed), line, "pairs row"),
        }
    })?;
    catch_up(sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PairKey;
    use crate::model::Sender;

    fn read_bytes(bytes: &[u8], strict: bool) -> Result<Tally, ReadError> {
        let opts = ReadOptions {
            strict,
            ..ReadOptions::default()
        };
        let mut tally = Tally::default();
        let mut limit = LineLimit::new(opts.max_line_bytes);
        let mut sink = Sink {
            tally: &mut tally,
            strict,
            limit: &mut limit,
        };
        read_mbox(bytes, &opts, &mut sink).map(|_| tally)
    }

    fn key(sender: Sender, ip: &str) -> PairKey {
        PairKey {
            sender,
            ip: ip.parse().ok(),
        }
    }

    #[test]
    fn crlf_mbox_without_return_path_next_to_null_sender() {
        let mbox = b"From a@x.example Tue Jun  4 10:00:00 2024\r\nReceived: from m (m [192.0.2.1]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\r\n\r\nFrom the start of the body\r\n\r\n>From quoted\r\n\r\nFrom b@y.example Tue Jun  4 10:00:01 2024\r\nReturn-Path: <>\r\nReceived: from n (n [192.0.2.2]) by mx with ESMTP id 2; Tue, 4 Jun 2024 10:00:01 +0000\r\n\r\nbody\r\n";
        assert_eq!(detect::detect(mbox), Some(Format::Mbox));
        let t = read_bytes(mbox, true).unwrap();
        assert_eq!(t.pairs.len(), 2, "{:?}", t.pairs);
        assert_eq!(
            t.pairs[&key(Sender::Domain("x.example".into()), "192.0.2.1")],
            1,
            "From_ line fills in"
        );
        assert_eq!(
            t.pairs[&key(Sender::Null, "192.0.2.2")],
            1,
            "Return-Path <> wins over the From_ line"
        );
        assert_eq!(t.skipped_total(), 0);
    }

    #[test]
    fn strict_stops_at_the_first_malformed_message() {
        let mbox = b"preamble\n\nFrom a@x.example Tue Jun  4 10:00:00 2024\nReturn-Path: <a@x.example>\n\n";
        assert!(matches!(
            read_bytes(mbox, true),
            Err(ReadError::Malformed { line: 1, .. })
        ));
        let t = read_bytes(mbox, false).unwrap();
        assert_eq!(t.skipped[SkipReason::Malformed.index()], 1);
        assert_eq!(t.messages(), 1);
    }

    #[test]
    fn a_leading_hole_of_nuls_is_skipped_before_detection() {
        let line = b"Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\n";
        let mut bytes = vec![0u8; 3 * DETECT_BYTES + 5];
        bytes.extend_from_slice(line);
        let (head, mut rest) = read_head(Box::new(Cursor::new(bytes)))
            .and_then(skip_leading_nuls)
            .unwrap();
        assert_eq!(head, line, "the whole first line survives");
        assert_eq!(detect::detect(&head), Some(Format::Log));
        assert_eq!(rest.read(&mut [0u8; 8]).unwrap(), 0);
        // NULs inside the text are left alone; a file of NULs only holds nothing.
        let (head, _) = read_head(Box::new(Cursor::new(b"a\0b".to_vec())))
            .and_then(skip_leading_nuls)
            .unwrap();
        assert_eq!(head, b"a\0b");
        let (head, _) = read_head(Box::new(Cursor::new(vec![0u8; 20_000])))
            .and_then(skip_leading_nuls)
            .unwrap();
        assert!(head.is_empty());
    }

    #[test]
    fn read_all_folds_every_file_and_reports_errors_in_input_order() {
        let d = tempfile::tempdir().unwrap();
        let msg = "Return-Path: <a@x.example>\nReceived: from m (m [192.0.2.1]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\n\n";
        for i in 0..20 {
            std::fs::write(d.path().join(format!("m{i:02}.eml")), msg).unwrap();
        }
        std::fs::write(d.path().join("z-bad1"), "\x00junk").unwrap();
        std::fs::write(d.path().join("a-bad0"), "\x00junk").unwrap();
        let opts = ReadOptions::default();
        let missing = d.path().join("missing");
        let r = read_all(
            &[d.path().to_path_buf(), missing],
            &opts,
            &ProgressBar::hidden(),
        );
        assert_eq!(r.inputs_ok, 20);
        assert_eq!(r.inputs_total, 23);
        assert_eq!(
            r.tally.pairs[&key(Sender::Domain("x.example".into()), "192.0.2.1")],
            20
        );
        let names: Vec<&str> = r
            .errors
            .iter()
            .map(|e| e.input.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            names,
            ["missing", "a-bad0", "z-bad1"],
            "walk errors first, then input order"
        );
    }
    #[test]
    fn a_large_mbox_is_read_in_batches_in_order() {
        // More messages than one batch holds; one message with no header field at all.
        let bad = 6_000;
        let mut mbox = Vec::new();
        for i in 0..10_000u32 {
            mbox.extend_from_slice(b"From a@x.example Tue Jun  4 10:00:00 2024\n");
            if i == bad {
                mbox.extend_from_slice(b"no field here\n\nbody\n\n");
            } else {
                let ip = format!("192.0.2.{}", i % 200 + 1);
                mbox.extend_from_slice(
                    format!("Return-Path: <a@x{}.example>\nReceived: from m (m [{ip}]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\n\nbody\n\n", i % 3).as_bytes(),
                );
            }
        }
        let t = read_bytes(&mbox, false).unwrap();
        assert_eq!(t.messages(), 9_999);
        assert_eq!(t.skipped_total(), 1);
        assert_eq!(t.skipped[SkipReason::Malformed.index()], 1);
        assert_eq!(
            t.pairs[&key(Sender::Domain("x1.example".into()), "192.0.2.2")],
            10_000 / 600 + 1,
            "i = 1 + 600k: x1 and 192.0.2.2 together"
        );
        match read_bytes(&mbox, true) {
            Err(ReadError::Malformed { line, .. }) => assert_eq!(line, u64::from(bad) * 6 + 1),
            other => panic!("{other:?}"),
        }
    }
}

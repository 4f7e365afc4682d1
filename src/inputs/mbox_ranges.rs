//! One large plain mbox file read as byte ranges in parallel (docs/design.md §7): splitting is a
//! quarter of the work, so one sequential splitter would cap what a second core can give.
//!
//! Each range starts at the first separator (a dated `From ` line after a blank line) from
//! a guessed offset on and ends where the next range starts; its own splitter reads on
//! past that end to where it would itself start the next message. A `From ` line inside a
//! `Content-Length` body can look like a separator, so the next range is right only when
//! it started exactly there; otherwise it is read again from the true start (rare, and
//! correct before fast). Strict mode (line numbers), stdin, compressed and small inputs
//! keep the sequential reader.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressBar;
use rayon::prelude::*;

use super::mbox::MboxReader;
use super::oversize::{LineLimit, Oversized};
use super::{DETECT_BYTES, Format, ReadOptions, decompress, detect, split_record};
use crate::aggregate::Tally;

/// Below this a file is read by one splitter: ranges would not pay for themselves.
const MIN_PARALLEL_BYTES: u64 = 8 << 20;
/// No range is guessed smaller than this.
const MIN_RANGE_BYTES: u64 = 4 << 20;
/// Several ranges per thread, so a thread slowed by other work costs only a small range.
const RANGES_PER_THREAD: u64 = 4;

/// Reads `file` by ranges when it is a large plain mbox file that needs no line numbers
/// and more than one thread can read; `None` when it is not (the caller reads it, from the
/// start: only positional reads happen here).
pub(super) fn read_if_suited(
    file: &File,
    opts: &ReadOptions,
    tally: &mut Tally,
    limit: &mut LineLimit,
    progress: &ProgressBar,
) -> Option<io::Result<()>> {
    let threads = rayon::current_num_threads() as u64;
    if opts.strict || threads < 2 {
        return None;
    }
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < MIN_PARALLEL_BYTES {
        return None;
    }
    let mut head = vec![0u8; DETECT_BYTES];
    file.read_exact_at(&mut head, 0).ok()?;
    let plain = decompress::Compression::sniff(&head).is_none() && head[0] != 0;
    let format = opts.format.or_else(|| detect::detect(&head));
    if !plain || format != Some(Format::Mbox) {
        return None;
    }
    let guesses = guessed_offsets(meta.len(), threads);
    Some(read_ranges(
        file,
        meta.len(),
        &guesses,
        opts,
        tally,
        limit,
        progress,
    ))
}

/// Where ranges 1.. are guessed to start: equal parts of the file.
fn guessed_offsets(len: u64, threads: u64) -> Vec<u64> {
    let ranges = (threads * RANGES_PER_THREAD)
        .min(len / MIN_RANGE_BYTES)
        .max(1);
    (1..ranges).map(|k| len / ranges * k).collect()
}

/// Reads `file` (`len` bytes) as ranges guessed to start at `guesses` (ascending, each
/// in `1..len`) into `tally`. What was read before an error is kept.
fn read_ranges(
    file: &File,
    len: u64,
    guesses: &[u64],
    opts: &ReadOptions,
    tally: &mut Tally,
    limit: &mut LineLimit,
    progress: &ProgressBar,
) -> io::Result<()> {
    let counted = AtomicU64::new(0);
    // Each range counts its guessed share of the bytes on the progress bar.
    let bounds: Vec<u64> = std::iter::once(0)
        .chain(guesses.iter().copied())
        .chain(std::iter::once(len))
        .collect();
    let reader_at = |k: usize| RangeReader {
        file,
        at: bounds[k],
        quota: bounds[k + 1] - bounds[k],
        counted: &counted,
        progress,
    };
    // Each range's splitter, positioned at its first separator (an error: recomputed).
    let mut splitters: Vec<io::Result<MboxReader<RangeReader>>> = (0..bounds.len() - 1)
        .into_par_iter()
        .map(|k| match k {
            0 => Ok(MboxReader::new(reader_at(0))
                .without_line_numbers()
                .with_limit(opts.max_line_bytes)),
            _ => MboxReader::after_offset(reader_at(k), bounds[k], opts.max_line_bytes),
        })
        .collect();
    let starts: Vec<Option<Option<u64>>> = splitters
        .iter()
        .map(|s| s.as_ref().ok().map(MboxReader::next_start))
        .collect();
    let stop = |k: usize| match starts.get(k + 1) {
        Some(Some(Some(next))) => *next,
        _ => u64::MAX,
    };
    let results: Vec<RangeResult> = splitters
        .par_drain(..)
        .enumerate()
        .map(|(k, splitter)| match splitter {
            Ok(splitter) => drain(splitter.stop_before(stop(k)), opts),
            Err(e) => RangeResult::failed(e),
        })
        .collect();
    let mut expected = Some(0);
    for (k, mut result) in results.into_iter().enumerate() {
        if k > 0 && starts[k] != Some(expected) {
            result = reread_from(file, expected, stop(k), opts, &counted, progress);
        }
        tally.merge(result.tally);
        limit.oversized.merge(result.oversized);
        if let Some(e) = result.error {
            return Err(e);
        }
        expected = result.next;
    }
    progress.inc(len.saturating_sub(counted.load(Ordering::Relaxed)));
    Ok(())
}

/// A range read again from where the range before it really ended (`None`: the end).
fn reread_from(
    file: &File,
    start: Option<u64>,
    stop: u64,
    opts: &ReadOptions,
    counted: &AtomicU64,
    progress: &ProgressBar,
) -> RangeResult {
    let Some(start) = start else {
        return RangeResult::default();
    };
    let reader = RangeReader {
        file,
        at: start,
        quota: 0,
        counted,
        progress,
    };
    match MboxReader::at_separator(reader, start, opts.max_line_bytes) {
        Ok(splitter) => drain(splitter.stop_before(stop), opts),
        Err(e) => RangeResult::failed(e),
    }
}

/// What one range produced, and where the message after its last one starts.
#[derive(Default)]
struct RangeResult {
    tally: Tally,
    oversized: Oversized,
    error: Option<io::Error>,
    next: Option<u64>,
}

impl RangeResult {
    fn failed(e: io::Error) -> Self {
        RangeResult {
            error: Some(e),
            ..RangeResult::default()
        }
    }
}

/// Splits and parses every message of one range.
fn drain<R: Read>(mut splitter: MboxReader<R>, opts: &ReadOptions) -> RangeResult {
    let mut result = RangeResult::default();
    let mut headers = Vec::new();
    loop {
        headers.clear();
        match splitter.next_into(&mut headers) {
            Ok(Some(item)) => {
                let split = split_record(&item, &headers, opts);
                if let Some(offset) = split.offset {
                    result.oversized.note(offset);
                }
                result.tally.add_at(split.record, split.when);
            }
            Ok(None) => break,
            Err(e) => {
                result.error = Some(e);
                return result;
            }
        }
    }
    result.next = splitter.next_start();
    result
}

/// Reads a file from `at` on by positional reads, so ranges share one open file. The
/// first `quota` bytes go on the progress bar (and on `counted`).
struct RangeReader<'a> {
    file: &'a File,
    at: u64,
    quota: u64,
    counted: &'a AtomicU64,
    progress: &'a ProgressBar,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(out, self.at)?;
        self.at += n as u64;
        let shown = self.quota.min(n as u64);
        if shown > 0 {
            self.quota -= shown;
            self.counted.fetch_add(shown, Ordering::Relaxed);
            self.progress.inc(shown);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ExtractOptions;
    use std::io::Write;

    fn opts() -> ReadOptions {
        ReadOptions {
            extract: ExtractOptions::default(),
            ..ReadOptions::default()
        }
    }

    fn sequential(bytes: &[u8]) -> Tally {
        let mut tally = Tally::default();
        let mut limit = LineLimit::new(opts().max_line_bytes);
        let mut sink = super::super::Sink {
            tally: &mut tally,
            strict: false,
            limit: &mut limit,
        };
        super::super::read_mbox(bytes, &opts(), &mut sink).unwrap();
        tally
    }

    fn by_ranges(file: &File, len: u64, guesses: &[u64]) -> (Tally, u64) {
        let mut tally = Tally::default();
        let progress = ProgressBar::hidden();
        progress.set_length(len);
        let mut limit = LineLimit::new(opts().max_line_bytes);
        read_ranges(
            file,
            len,
            guesses,
            &opts(),
            &mut tally,
            &mut limit,
            &progress,
        )
        .unwrap();
        (tally, progress.position())
    }

    fn message(i: usize, body: &str) -> String {
        format!(
            "From a{i}@x{i}.example Tue Jun  4 10:00:00 2024\nReturn-Path: <a{i}@x{}.example>\nReceived: from m (m [192.0.2.{}]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\nContent-Length: {}\n\n{body}",
            i % 7,
            i % 250 + 1,
            body.len()
        )
    }

    /// mboxcl2: every body holds a blank line and a dated `From ` line, so a range guessed
    /// to start inside a body takes a message start that is none.
    fn adversarial_mbox() -> (Vec<u8>, Vec<u64>) {
        let mut mbox = String::new();
        let mut hidden = Vec::new();
        for i in 0..60 {
            let hidden_from = format!("From z{i}@forged.example Tue Jun  4 10:00:00 2024\n");
            let body = format!(
                "text\n\n{hidden_from}Received: from f (f [198.51.100.{}])\n\nmore\n",
                i + 1
            );
            let start = mbox.len();
            mbox.push_str(&message(i, &body));
            hidden.push((start + mbox[start..].find(&hidden_from).unwrap()) as u64);
            // No blank line between messages: Content-Length alone says where they end.
        }
        (mbox.into_bytes(), hidden)
    }

    fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        f
    }

    fn assert_same(a: &Tally, b: &Tally) {
        assert_eq!(a.pairs, b.pairs);
        assert_eq!(a.skipped, b.skipped);
    }

    #[test]
    fn ranges_starting_at_forged_from_lines_are_read_again() {
        let (bytes, hidden) = adversarial_mbox();
        let expected = sequential(&bytes);
        assert_eq!(expected.messages(), 60, "the forged lines are no messages");
        let f = temp_file(&bytes);
        let len = bytes.len() as u64;
        // Guesses just before the forged lines' blank lines: each range starts at one.
        for step in [1, 2, 3, 7] {
            let guesses: Vec<u64> = hidden.iter().step_by(step).map(|h| h - 3).collect();
            let (got, shown) = by_ranges(f.as_file(), len, &guesses);
            assert_same(&got, &expected);
            assert_eq!(shown, len, "every byte counted once on the progress bar");
        }
    }

    #[test]
    fn every_guessed_offset_gives_the_sequential_result() {
        let (mut bytes, _) = adversarial_mbox();
        // Ordinary messages too, and a preamble.
        bytes.splice(0..0, b"preamble\n\n".iter().copied());
        for i in 0..30 {
            bytes.extend_from_slice(
                format!("\nFrom b@y.example Tue Jun  4 10:00:0{} 2024\nReceived: from n (n [192.0.2.{}]) by mx; Tue, 4 Jun 2024 10:00:00 +0000\n\nFrom the body\n", i % 10, i + 1)
                    .as_bytes(),
            );
        }
        let expected = sequential(&bytes);
        let f = temp_file(&bytes);
        let len = bytes.len() as u64;
        for g in (1..len).step_by(37) {
            let guesses = [g, (g + 501).min(len - 1), (g + 900).min(len - 1)];
            let (got, _) = by_ranges(f.as_file(), len, &guesses);
            assert_same(&got, &expected);
        }
    }

    #[test]
    fn guesses_split_the_file_evenly() {
        assert_eq!(
            guessed_offsets(3 * MIN_RANGE_BYTES, 8),
            [MIN_RANGE_BYTES, 2 * MIN_RANGE_BYTES]
        );
        assert!(guessed_offsets(MIN_RANGE_BYTES, 8).is_empty());
        assert_eq!(guessed_offsets(1 << 40, 2).len(), 7);
    }
}

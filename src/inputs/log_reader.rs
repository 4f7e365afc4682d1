//! The bulk reader of one MTA log (SPEC §7): parses one file on every core while postfix
//! queue-id joins stay exactly as if the lines had been read one by one.
//!
//! The log is read in windows of a few megabytes cut at line ends (so memory does not follow
//! the file size). Each window is split into chunks that threads classify on their own into
//! per-line events ([`LogLineParser::classify`]: most lines are dismissed there, on their
//! first bytes, without a copy or a UTF-8 check). The events are then applied to the one
//! [`LogExtractor`] strictly in file order, which is what joins a `client=` line to its qmgr
//! line across chunks, windows and the files of a rotation set. Applying window k runs while
//! window k+1 is read and classified (`rayon::join`), so the sequential part overlaps the
//! parallel one.

use std::io::{self, Read};

use rayon::prelude::*;

use crate::aggregate::Tally;
use crate::extract::logs::{LogEvent, LogExtractor, LogLineParser};
use crate::model::{Record, SkipReason};

/// Bytes read per window; two windows are alive at a time (one applied, one parsed). Unit
/// tests use small windows so that small inputs cross many borders.
const WINDOW: usize = if cfg!(test) { 64 << 10 } else { 1 << 20 };
/// Bytes per chunk: enough chunks per window for the threads to balance their work.
const CHUNK: usize = if cfg!(test) { 4 << 10 } else { 64 << 10 };

/// Why reading stopped early.
#[derive(Debug)]
pub enum Stop {
    Io(io::Error),
    /// `--strict`: the (1-based) line of the first malformed record.
    Malformed {
        line: u64,
    },
}

/// How a window's read ended.
#[derive(Debug)]
enum End {
    /// More may follow; the window ends with a line end.
    More,
    Eof,
    /// The read failed; the complete lines before the failure are still applied.
    Err(io::Error),
}

/// The events of one chunk, each with the offset of its line in the chunk.
struct Chunk<'a> {
    text: &'a [u8],
    events: Vec<(usize, LogEvent<'a>)>,
}

/// A window read and classified, waiting to be applied.
struct Window<'a> {
    chunks: Vec<Chunk<'a>>,
    /// The start of a line the window cut; it begins the next window.
    tail: &'a [u8],
    end: End,
}

/// Reads a whole log through `log`, adding its records to `tally`. With `strict` it stops
/// after the first line that yields a malformed record. Lines are numbered as `\n` ends
/// them; a line's trailing `\r`s are not part of it.
pub fn read_log<R: Read + Send>(
    mut reader: R,
    log: &mut LogExtractor,
    tally: &mut Tally,
    strict: bool,
) -> Result<(), Stop> {
    let parser = log.parser().clone();
    let mut applier = Applier {
        log,
        tally,
        strict,
        lines_done: 0,
    };
    // Two buffers take turns: one holds the window being applied, the other is filled.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut current = window(&parser, &mut reader, &mut a, &[]);
    loop {
        let Some(next) = applier.step(&parser, &mut reader, current, &mut b)? else {
            return Ok(());
        };
        let Some(after) = applier.step(&parser, &mut reader, next, &mut a)? else {
            return Ok(());
        };
        current = after;
    }
}

/// The sequential side: the extractor, the tally and the line count so far.
struct Applier<'l> {
    log: &'l mut LogExtractor,
    tally: &'l mut Tally,
    strict: bool,
    lines_done: u64,
}

impl Applier<'_> {
    /// Applies `current` while the next window is read into `next` and classified; returns
    /// that window, or `None` after the last one.
    fn step<'n, R: Read + Send>(
        &mut self,
        parser: &LogLineParser,
        reader: &mut R,
        current: Window<'_>,
        next: &'n mut Vec<u8>,
    ) -> Result<Option<Window<'n>>, Stop> {
        let Window { chunks, tail, end } = current;
        let more = matches!(end, End::More);
        let (applied, next) = rayon::join(
            || self.apply(chunks),
            || more.then(|| window(parser, reader, next, tail)),
        );
        applied?;
        match end {
            End::More => Ok(next),
            End::Eof => Ok(None),
            End::Err(e) => Err(Stop::Io(e)),
        }
    }

    fn apply(&mut self, chunks: Vec<Chunk<'_>>) -> Result<(), Stop> {
        let tally = &mut *self.tally;
        for chunk in chunks {
            for (offset, event) in chunk.events {
                let mut malformed = false;
                self.log.apply(event, &mut |record| {
                    malformed |= record == Record::Skipped(SkipReason::Malformed);
                    tally.add(record);
                });
                if self.strict && malformed {
                    return Err(Stop::Malformed {
                        line: self.lines_done + line_ends(&chunk.text[..offset]) + 1,
                    });
                }
            }
            // Only --strict names lines, so only it pays for counting them.
            if self.strict {
                self.lines_done += line_ends(chunk.text);
            }
        }
        Ok(())
    }
}

/// Reads the next window into `buf` (after `tail`, the cut line of the previous one) and
/// classifies its complete lines.
fn window<'a, R: Read>(
    parser: &LogLineParser,
    reader: &mut R,
    buf: &'a mut Vec<u8>,
    tail: &[u8],
) -> Window<'a> {
    let (filled, end) = fill(reader, buf, tail);
    let buf: &'a [u8] = &buf[..filled];
    let complete = match end {
        End::Eof => buf.len(),
        End::More | End::Err(_) => memchr::memrchr(b'\n', buf).map_or(0, |nl| nl + 1),
    };
    Window {
        chunks: classify(parser, &buf[..complete]),
        tail: &buf[complete..],
        end,
    }
}

/// Fills `buf` with `tail` and then up to [`WINDOW`] bytes, and on until the window holds a
/// line end (a line longer than a window makes it grow) or the input ends; returns how many
/// bytes it holds. The buffer stays initialised between windows and grows by doubling from
/// one chunk, so a small log costs a small buffer and no window is zeroed twice.
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, tail: &[u8]) -> (usize, End) {
    let mut filled = tail.len();
    if buf.len() < filled + CHUNK {
        buf.resize(filled + CHUNK, 0);
    }
    buf[..filled].copy_from_slice(tail);
    let mut unsearched = 0;
    loop {
        if filled == buf.len() {
            if filled >= WINDOW && memchr::memrchr(b'\n', &buf[unsearched..]).is_some() {
                return (filled, End::More);
            }
            if filled >= WINDOW {
                unsearched = filled;
            }
            buf.resize(buf.len() * 2, 0);
        }
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return (filled, End::Eof),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, End::Err(e)),
        }
    }
}

/// Cuts complete lines into chunks at line ends and classifies the chunks in parallel;
/// the result keeps the chunks in file order.
fn classify<'a>(parser: &LogLineParser, text: &'a [u8]) -> Vec<Chunk<'a>> {
    let mut pieces = Vec::with_capacity(text.len() / CHUNK + 1);
    let mut start = 0;
    while start < text.len() {
        let end = match text.get(start + CHUNK..) {
            Some(rest) => {
                memchr::memchr(b'\n', rest).map_or(text.len(), |nl| start + CHUNK + nl + 1)
            }
            None => text.len(),
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
        .into_par_iter()
        .map(|piece| classify_chunk(parser, piece))
        .collect()
}

/// Classifies the lines of a chunk that hold a needle of
/// [`LogLineParser::next_candidate`]; the others cannot be events and are passed over.
fn classify_chunk<'a>(parser: &LogLineParser, text: &'a [u8]) -> Chunk<'a> {
    let mut events = Vec::new();
    let mut from = 0;
    while let Some(hit) = parser.next_candidate(text, from) {
        let start = memchr::memrchr(b'\n', &text[..hit]).map_or(0, |nl| nl + 1);
        let end = memchr::memchr(b'\n', &text[hit..]).map_or(text.len(), |nl| hit + nl);
        let mut line = &text[start..end];
        while let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if let Some(event) = parser.classify(line) {
            events.push((start, event));
        }
        from = end + 1;
    }
    Chunk { text, events }
}

/// How many lines end in `text` (vectorised by the compiler).
fn line_ends(text: &[u8]) -> u64 {
    text.iter().filter(|&&c| c == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ExtractOptions;
    use crate::model::PairKey;
    use crate::model::Sender;

    /// A reader that hands out at most `step` bytes per call and fails after `fail_at`.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.pos >= f) {
                return Err(io::Error::other("disk on fire"));
            }
            let limit = self.fail_at.unwrap_or(self.data.len()).min(self.data.len());
            let n = out.len().min(self.step).min(limit - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn message(i: usize) -> String {
        let qid = format!("{:010X}", i + 0x1_0000_0000);
        format!(
            "Jun  1 19:00:55 mx postfix/smtpd[1]: {qid}: client=h[192.0.2.{}]\n\
             Jun  1 19:00:55 mx postfix/postscreen[9]: CONNECT from [192.0.2.1]:4242 to [192.0.2.2]:25\n\
             Jun  1 19:00:56 mx postfix/qmgr[2]: {qid}: from=<a@d{}.example>, size=1, nrcpt=1 (queue active)\r\n\
             Jun  1 19:00:57 mx postfix/qmgr[2]: {qid}: removed\n",
            i % 250 + 1,
            i % 7
        )
    }

    /// Reads `data` both line by line through `feed` and through the bulk reader.
    fn both(data: &[u8], step: usize, fail_at: Option<usize>, strict: bool) {
        let mut one_by_one = Tally::default();
        let mut log = LogExtractor::new(ExtractOptions::default());
        let cut = fail_at.map_or(data.len(), |f| {
            data[..f]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
        });
        let mut expected_stop = None;
        for (i, line) in data[..cut].split_inclusive(|&b| b == b'\n').enumerate() {
            let text = String::from_utf8_lossy(line);
            let mut malformed = false;
            log.feed(text.trim_end_matches(['\n', '\r']), &mut |r| {
                malformed |= r == Record::Skipped(SkipReason::Malformed);
                one_by_one.add(r);
            });
            if strict && malformed {
                expected_stop = Some(i as u64 + 1);
                break;
            }
        }
        log.finish(&mut |r| one_by_one.add(r));

        let mut bulk = Tally::default();
        let mut log = LogExtractor::new(ExtractOptions::default());
        let reader = Trickle {
            data: data.to_vec(),
            pos: 0,
            step,
            fail_at,
        };
        let result = read_log(reader, &mut log, &mut bulk, strict);
        log.finish(&mut |r| bulk.add(r));
        match (result, expected_stop) {
            (Err(Stop::Malformed { line }), Some(expected)) => assert_eq!(line, expected),
            (Err(Stop::Io(_)), None) => assert!(fail_at.is_some()),
            (Ok(()), None) => assert!(fail_at.is_none()),
            (other, expected) => panic!("{other:?}, expected stop at {expected:?}"),
        }
        assert_eq!(bulk.pairs, one_by_one.pairs);
        assert_eq!(bulk.skipped, one_by_one.skipped);
    }

    #[test]
    fn joins_across_chunks_and_windows_as_line_by_line() {
        // About 3.5 windows, so records straddle chunk and window borders.
        let data: String = (0..(WINDOW * 7 / 2) / 330).map(message).collect();
        assert!(data.len() > 3 * WINDOW);
        for step in [usize::MAX, 4093] {
            both(data.as_bytes(), step, None, false);
        }
        let mut t = Tally::default();
        let mut log = LogExtractor::new(ExtractOptions::default());
        read_log(data.as_bytes(), &mut log, &mut t, false).unwrap();
        let key = PairKey {
            sender: Sender::Domain("d0.example".into()),
            ip: "192.0.2.1".parse().ok(),
        };
        assert!(t.pairs[&key] > 0);
        assert_eq!(
            t.skipped_total(),
            0,
            "every client line found its qmgr line"
        );
    }

    #[test]
    fn strict_names_the_line_of_the_first_malformed_record() {
        let mut data: String = (0..4_000).map(message).collect();
        let first_bad = data.lines().count() as u64 + 1;
        data.push_str("Jun  1 19:00:58 mx postfix/smtpd[1]: ABCDE12345: client=anon\n");
        data.push_str("Jun  1 19:00:59 mx postfix/smtpd[1]: ABCDE12346: client=anon\n");
        data.extend((4_000..4_100).map(message));
        both(data.as_bytes(), usize::MAX, None, true);
        let mut log = LogExtractor::new(ExtractOptions::default());
        let stop = read_log(data.as_bytes(), &mut log, &mut Tally::default(), true);
        assert!(
            matches!(stop, Err(Stop::Malformed { line }) if line == first_bad),
            "{stop:?}"
        );
    }

    #[test]
    fn a_read_error_keeps_the_complete_lines_before_it() {
        let data: String = (0..3_000).map(message).collect();
        for fail_at in [0, 5, WINDOW + 17, data.len() - 3] {
            both(data.as_bytes(), 1000, Some(fail_at), false);
        }
    }

    #[test]
    fn long_lines_crlf_and_a_last_line_without_end() {
        let mut data = String::new();
        data.push_str(&message(1));
        // A line longer than a window, then the rest.
        data.push_str("Jun  1 19:00:55 mx postfix/smtpd[1]: ");
        data.push_str(&"x".repeat(WINDOW + CHUNK + 5));
        data.push('\n');
        data.push_str(&message(2).replace('\n', "\r\n"));
        data.push_str(message(3).trim_end());
        for step in [usize::MAX, 1 << 16] {
            both(data.as_bytes(), step, None, false);
            both(data.as_bytes(), step, None, true);
        }
        both(b"", 1, None, false);
        both(b"\n\n\r\n", 1, None, false);
    }
}

//! The bulk reader of one MTA log (docs/design.md §7): parses one file on every core while postfix
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
//!
//! A line longer than `--max-line-bytes` never makes a window grow past that: it is read
//! through to its end and dropped, and counted `oversized` at its byte offset.

use std::io::{self, Read};

use rayon::prelude::*;

use super::oversize::LineLimit;
use crate::aggregate::Tally;
use crate::extract::log_time;
use crate::extract::logs::{LogEvent, LogExtractor, LogLineParser};
use crate::model::{Record, SkipReason, When};

/// How the log is cut: the same code runs with every size, so unit tests pass small ones
/// (and small inputs cross many borders) while the binary uses [`Sizes::default`].
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Bytes read per window; two windows are alive at a time (one applied, one parsed).
    window: usize,
    /// Bytes per chunk: enough chunks per window for the threads to balance their work.
    chunk: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            window: 1 << 20,
            chunk: 64 << 10,
        }
    }
}

/// Why reading stopped early.
#[derive(Debug)]
pub enum Stop {
    Io(io::Error),
    /// `--strict`: the (1-based) line of the first malformed record, and its text.
    Malformed {
        line: u64,
        text: String,
    },
    /// `--strict`: the byte offset of the first line longer than the limit.
    Oversized {
        offset: u64,
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
    /// The offset of `text` in the input.
    base: u64,
    events: Vec<(usize, Found<'a>)>,
}

/// What a line of a chunk amounts to.
enum Found<'a> {
    Event(LogEvent<'a>),
    /// A line longer than the limit that still fitted in the window.
    Oversized,
}

/// A window read and classified, waiting to be applied.
struct Window<'a> {
    chunks: Vec<Chunk<'a>>,
    /// The start of a line the window cut; it begins the next window.
    tail: &'a [u8],
    end: End,
    /// A line longer than the limit followed the window's lines (and was dropped); it
    /// started at this offset.
    oversized: Option<u64>,
}

/// The input with the count of bytes read from it, which places an oversized line.
struct Source<R> {
    reader: R,
    read: u64,
}

/// Reads a whole log through `log`, adding its records to `tally`. With `strict` it stops
/// after the first line that yields a malformed record or is longer than `limit.max`.
/// Lines are numbered as `\n` ends them; a line's trailing `\r`s are not part of it.
pub fn read_log<R: Read + Send>(
    reader: R,
    log: &mut LogExtractor,
    tally: &mut Tally,
    strict: bool,
    limit: &mut LineLimit,
) -> Result<(), Stop> {
    read_log_in(reader, log, tally, strict, limit, Sizes::default())
}

/// [`read_log`] with the window and chunk sizes given.
fn read_log_in<R: Read + Send>(
    reader: R,
    log: &mut LogExtractor,
    tally: &mut Tally,
    strict: bool,
    limit: &mut LineLimit,
    sizes: Sizes,
) -> Result<(), Stop> {
    read_windows(reader, log, tally, strict, limit, sizes)
}

fn read_windows<R: Read + Send>(
    reader: R,
    log: &mut LogExtractor,
    tally: &mut Tally,
    strict: bool,
    limit: &mut LineLimit,
    sizes: Sizes,
) -> Result<(), Stop> {
    let parser = log.parser().clone();
    let max_line = limit.max;
    let mut applier = Applier {
        log,
        tally,
        strict,
        lines_done: 0,
        limit,
    };
    let mut source = Source { reader, read: 0 };
    let reader = &mut source;
    // Two buffers take turns: one holds the window being applied, the other is filled.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let cut = Cut { max_line, sizes };
    let mut current = window(&parser, reader, &mut a, &[], cut);
    loop {
        let Some(next) = applier.step(&parser, reader, current, &mut b, cut)? else {
            return Ok(());
        };
        let Some(after) = applier.step(&parser, reader, next, &mut a, cut)? else {
            return Ok(());
        };
        current = after;
    }
}

/// Where lines and windows are cut: the longest line kept, and the window and chunk sizes.
#[derive(Debug, Clone, Copy)]
struct Cut {
    max_line: usize,
    sizes: Sizes,
}

/// The sequential side: the extractor, the tally and the line count so far.
struct Applier<'l> {
    log: &'l mut LogExtractor,
    tally: &'l mut Tally,
    strict: bool,
    lines_done: u64,
    limit: &'l mut LineLimit,
}

impl Applier<'_> {
    /// Applies `current` while the next window is read into `next` and classified; returns
    /// that window, or `None` after the last one.
    fn step<'n, R: Read + Send>(
        &mut self,
        parser: &LogLineParser,
        reader: &mut Source<R>,
        current: Window<'_>,
        next: &'n mut Vec<u8>,
        cut: Cut,
    ) -> Result<Option<Window<'n>>, Stop> {
        let Window {
            chunks,
            tail,
            end,
            oversized,
        } = current;
        let more = matches!(end, End::More);
        let (applied, next) = rayon::join(
            || self.apply(chunks),
            || more.then(|| window(parser, reader, next, tail, cut)),
        );
        applied?;
        if let Some(offset) = oversized {
            self.oversized(offset)?;
        }
        match end {
            End::More => Ok(next),
            End::Eof => Ok(None),
            End::Err(e) => Err(Stop::Io(e)),
        }
    }

    /// Counts the dropped line that followed the window's lines.
    fn oversized(&mut self, offset: u64) -> Result<(), Stop> {
        self.tally.add(Record::Skipped(SkipReason::Oversized));
        self.limit.oversized.note(offset);
        if self.strict {
            return Err(Stop::Oversized { offset });
        }
        Ok(())
    }

    fn apply(&mut self, chunks: Vec<Chunk<'_>>) -> Result<(), Stop> {
        for chunk in chunks {
            for (offset, found) in chunk.events {
                let event = match found {
                    Found::Event(event) => event,
                    Found::Oversized => {
                        self.oversized(chunk.base + offset as u64)?;
                        continue;
                    }
                };
                let mut malformed = false;
                let tally = &mut *self.tally;
                let rest = &chunk.text[offset..];
                let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
                let anchor = self.log.anchor();
                // A postfix line's stamp was read already, for the joiner's window: the
                // record it completes is dated from it rather than by reading it again.
                let stamp = match &event {
                    LogEvent::Postfix(_, stamp) => *stamp,
                    _ => None,
                };
                self.log.apply_line(event, line, &mut |record| {
                    malformed |= record == Record::Skipped(SkipReason::Malformed);
                    // Only a record that counts a message is dated, so skipped lines and
                    // most of the log cost nothing more (issue 15 item 5).
                    let when = match (&record, stamp) {
                        (Record::Observed(_), Some(stamp)) => {
                            stamp.date(anchor).map_or(When::Unparseable, When::At)
                        }
                        (Record::Observed(_), None) => log_time::line_date(line, anchor),
                        _ => When::Absent,
                    };
                    tally.add_at(record, when);
                });
                if self.strict && malformed {
                    let rest = &chunk.text[offset..];
                    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    return Err(Stop::Malformed {
                        line: self.lines_done + line_ends(&chunk.text[..offset]) + 1,
                        text: String::from_utf8_lossy(&rest[..end])
                            .trim_end_matches('\r')
                            .to_string(),
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
    source: &mut Source<R>,
    buf: &'a mut Vec<u8>,
    tail: &[u8],
    cut: Cut,
) -> Window<'a> {
    let base = source.read - tail.len() as u64;
    let filled = fill(source, buf, tail, cut);
    let buf: &'a [u8] = &buf[..filled.len];
    let complete = match (&filled.end, filled.oversized_at) {
        (_, Some(line_start)) => line_start,
        (End::Eof, None) => buf.len(),
        (End::More | End::Err(_), None) => memchr::memrchr(b'\n', buf).map_or(0, |nl| nl + 1),
    };
    Window {
        chunks: classify(parser, &buf[..complete], base, cut),
        tail: &buf[complete..],
        end: filled.end,
        oversized: filled.oversized_at.map(|at| base + at as u64),
    }
}

/// What [`fill`] left in the buffer.
struct Filled {
    len: usize,
    end: End,
    /// A line longer than the limit started here and was read through and dropped: the
    /// lines before it are the window, what followed its end is the next window's start.
    oversized_at: Option<usize>,
}

/// Fills `buf` with `tail` and then up to a window's bytes, and on until the window holds a
/// line end (a line longer than a window makes it grow, up to `max_line`) or the input
/// ends. The buffer stays initialised between windows and grows by doubling from one
/// chunk, so a small log costs a small buffer and no window is zeroed twice.
fn fill<R: Read>(source: &mut Source<R>, buf: &mut Vec<u8>, tail: &[u8], cut: Cut) -> Filled {
    let Cut { max_line, sizes } = cut;
    let mut filled = tail.len();
    if buf.len() < filled + sizes.chunk {
        buf.resize(filled + sizes.chunk, 0);
    }
    buf[..filled].copy_from_slice(tail);
    // The start of the line the buffer ends in, as far as `scanned` bytes tell.
    let (mut line_start, mut scanned) = (0, 0);
    loop {
        if filled == buf.len() {
            if let Some(nl) = memchr::memrchr(b'\n', &buf[scanned..filled]) {
                line_start = scanned + nl + 1;
            }
            scanned = filled;
            if filled - line_start > max_line {
                let (len, end) = skip_line(source, buf, line_start);
                return Filled {
                    len,
                    end,
                    oversized_at: Some(line_start),
                };
            }
            if filled >= sizes.window && line_start > 0 {
                return Filled {
                    len: filled,
                    end: End::More,
                    oversized_at: None,
                };
            }
            // Never more than the limit needs to see that a line is too long.
            let grown = (buf.len() * 2).min(line_start.saturating_add(max_line).saturating_add(1));
            buf.resize(grown.max(buf.len() + 1), 0);
        }
        match source.read(&mut buf[filled..]) {
            Ok(0) => {
                return Filled {
                    len: filled,
                    end: End::Eof,
                    oversized_at: None,
                };
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Filled {
                    len: filled,
                    end: End::Err(e),
                    oversized_at: None,
                };
            }
        }
    }
}

/// Drops the line that starts at `buf[line_start]` by reading through its end into the
/// space it took; what follows the line end is moved to `line_start`. Returns the bytes the
/// buffer then holds and how the input stands.
fn skip_line<R: Read>(source: &mut Source<R>, buf: &mut [u8], line_start: usize) -> (usize, End) {
    loop {
        let n = match source.read(&mut buf[line_start..]) {
            Ok(0) => return (line_start, End::Eof),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (line_start, End::Err(e)),
        };
        if let Some(nl) = memchr::memchr(b'\n', &buf[line_start..line_start + n]) {
            let rest = line_start + nl + 1..line_start + n;
            let len = line_start + rest.len();
            buf.copy_within(rest, line_start);
            return (len, End::More);
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(out)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Cuts complete lines into chunks at line ends and classifies the chunks in parallel;
/// the result keeps the chunks in file order. `text` starts at offset `base` of the input.
fn classify<'a>(parser: &LogLineParser, text: &'a [u8], base: u64, cut: Cut) -> Vec<Chunk<'a>> {
    let Cut { max_line, sizes } = cut;
    let chunk = sizes.chunk;
    let mut pieces = Vec::with_capacity(text.len() / chunk + 1);
    let mut start = 0;
    while start < text.len() {
        let end = match text.get(start + chunk..) {
            Some(rest) => {
                memchr::memchr(b'\n', rest).map_or(text.len(), |nl| start + chunk + nl + 1)
            }
            None => text.len(),
        };
        pieces.push((start, &text[start..end]));
        start = end;
    }
    pieces
        .into_par_iter()
        .map(|(start, piece)| {
            let base = base + start as u64;
            if piece.len() > max_line {
                classify_long(parser, piece, base, max_line)
            } else {
                classify_chunk(parser, piece, base)
            }
        })
        .collect()
}

/// Bytes of log per event expected, for the capacity of a chunk's events.
const EVENT_BYTES_HINT: usize = 128;

/// Classifies the lines of a chunk that hold a needle of
/// [`LogLineParser::next_candidate`]; the others cannot be events and are passed over.
fn classify_chunk<'a>(parser: &LogLineParser, text: &'a [u8], base: u64) -> Chunk<'a> {
    // Sized for a busy log (an event per two or three lines of gen.py's), so it rarely
    // grows: an event is 160 bytes, and growing by doubling copied them all again (a
    // fifth of a log scan's memcpy).
    let mut events = Vec::with_capacity(text.len() / EVENT_BYTES_HINT);
    let mut from = 0;
    while let Some(hit) = parser.next_candidate(text, from) {
        let start = memchr::memrchr(b'\n', &text[..hit]).map_or(0, |nl| nl + 1);
        let end = memchr::memchr(b'\n', &text[hit..]).map_or(text.len(), |nl| hit + nl);
        if let Some(event) = classify_line(parser, &text[start..end]) {
            events.push((start, Found::Event(event)));
        }
        from = end + 1;
    }
    Chunk { text, base, events }
}

/// A chunk long enough to hold a line over the limit: every line is looked at, and the
/// long ones are [`Found::Oversized`] (rare: only limits below a window's size get here).
fn classify_long<'a>(
    parser: &LogLineParser,
    text: &'a [u8],
    base: u64,
    max_line: usize,
) -> Chunk<'a> {
    let mut events = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |nl| start + nl);
        let line = &text[start..end];
        if line.len() > max_line {
            events.push((start, Found::Oversized));
        } else if let Some(event) = classify_line(parser, line) {
            events.push((start, Found::Event(event)));
        }
        start = end + 1;
    }
    Chunk { text, base, events }
}

/// One line (without its `\n`; trailing `\r`s are dropped here) to its event.
fn classify_line<'a>(parser: &LogLineParser, mut line: &'a [u8]) -> Option<LogEvent<'a>> {
    while let [rest @ .., b'\r'] = line {
        line = rest;
    }
    parser.classify(line)
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

    /// Small windows, so that small inputs cross many chunk and window borders.
    const WINDOW: usize = 64 << 10;
    const CHUNK: usize = 4 << 10;
    const SMALL: Sizes = Sizes {
        window: WINDOW,
        chunk: CHUNK,
    };

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
            log.feed_dated(text.trim_end_matches(['\n', '\r']), &mut |r, when| {
                malformed |= r == Record::Skipped(SkipReason::Malformed);
                one_by_one.add_at(r, when);
            });
            if strict && malformed {
                expected_stop = Some(i as u64 + 1);
                break;
            }
        }
        let anchor = log.anchor();
        log.finish(&mut |r| one_by_one.add(r));

        let mut bulk = Tally::default();
        let mut log = LogExtractor::new(ExtractOptions::default());
        log.set_anchor(anchor);
        let reader = Trickle {
            data: data.to_vec(),
            pos: 0,
            step,
            fail_at,
        };
        let result = read_log_in(
            reader,
            &mut log,
            &mut bulk,
            strict,
            &mut LineLimit::new(1 << 30),
            SMALL,
        );
        log.finish(&mut |r| bulk.add(r));
        match (result, expected_stop) {
            (Err(Stop::Malformed { line, .. }), Some(expected)) => assert_eq!(line, expected),
            (Err(Stop::Io(_)), None) => assert!(fail_at.is_some()),
            (Ok(()), None) => assert!(fail_at.is_none()),
            (other, expected) => panic!("{other:?}, expected stop at {expected:?}"),
        }
        // Counts and days: the days lists are sorted by day, so equal pairs are equal maps.
        assert_eq!(bulk.pairs, one_by_one.pairs);
        assert_eq!(bulk.skipped, one_by_one.skipped);
    }

    /// Message `i` of a log spread over days and stamp forms: its client line and the qmgr
    /// line that completes it are a day apart for some, RFC 3339 for others.
    fn dated_message(i: usize) -> String {
        let qid = format!("{:010X}", i + 0x2_0000_0000);
        let day = i / 40 % 28 + 1;
        let (client, qmgr) = if i.is_multiple_of(5) {
            let at = |h| format!("2026-03-{day:02}T{h}:00:00.000000+01:00");
            (at("00"), at("01"))
        } else if i.is_multiple_of(7) {
            (
                format!("Feb {day:2} 23:59:59"),
                format!("Feb {:2} 00:00:01", day + 1),
            )
        } else {
            let stamp = format!("Mar {day:2} 12:00:00");
            (stamp.clone(), stamp)
        };
        format!(
            "{client} mx postfix/smtpd[1]: {qid}: client=h[192.0.2.{}]\n\
             {qmgr} mx postfix/qmgr[2]: {qid}: from=<a@d{}.example>, size=1, nrcpt=1 (queue active)\n\
             {qmgr} mx postfix/qmgr[2]: {qid}: removed\n",
            i % 3 + 1,
            i % 4
        )
    }

    #[test]
    fn dates_each_message_as_line_by_line_across_chunks_and_windows() {
        let data: String = (0..(WINDOW * 5 / 2) / 250).map(dated_message).collect();
        assert!(data.len() > 2 * WINDOW);
        for step in [usize::MAX, 4093] {
            both(data.as_bytes(), step, None, false);
        }
        let mut t = Tally::default();
        let mut log = LogExtractor::new(ExtractOptions::default());
        let mut limit = LineLimit::new(1 << 30);
        read_log_in(data.as_bytes(), &mut log, &mut t, false, &mut limit, SMALL).unwrap();
        let days: std::collections::BTreeSet<_> = t
            .pairs
            .values()
            .flat_map(|p| p.days.iter().map(|(day, _)| day))
            .collect();
        assert!(days.len() > 28, "the log spans many days: {}", days.len());
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
        read_log_in(
            data.as_bytes(),
            &mut log,
            &mut t,
            false,
            &mut LineLimit::new(1 << 30),
            SMALL,
        )
        .unwrap();
        let key = PairKey {
            sender: Sender::Domain("d0.example".into()),
            ip: "192.0.2.1".parse().ok(),
        };
        assert!(t.pairs[&key].messages > 0);
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
        let stop = read_log_in(
            data.as_bytes(),
            &mut log,
            &mut Tally::default(),
            true,
            &mut LineLimit::new(1 << 30),
            SMALL,
        );
        assert!(
            matches!(stop, Err(Stop::Malformed { line, .. }) if line == first_bad),
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

    #[test]
    fn lines_over_the_limit_are_dropped_counted_and_placed() {
        let limit = WINDOW / 4;
        let mut data = message(1);
        let first = data.len() as u64;
        data.push_str("Jun  1 19:00:55 mx postfix/smtpd[1]: ");
        data.push_str(&"x".repeat(3 * WINDOW));
        data.push('\n');
        data.push_str(&message(2));
        // Fits in a window: found among the window's lines.
        data.push_str(&"y".repeat(limit + 1));
        data.push('\n');
        // Exactly the limit (line end not counted): kept.
        data.push_str(&"w".repeat(limit));
        data.push('\n');
        data.push_str(&message(3));
        data.push_str(&"z".repeat(limit + 1));
        let short: String = [message(1), message(2), message(3)].concat();
        let mut expected = Tally::default();
        let mut log = LogExtractor::new(ExtractOptions::default());
        read_log_in(
            short.as_bytes(),
            &mut log,
            &mut expected,
            false,
            &mut LineLimit::new(limit),
            SMALL,
        )
        .unwrap();
        log.finish(&mut |r| expected.add(r));
        expected.skipped[SkipReason::Oversized.index()] = 3;
        for step in [usize::MAX, 4093, 100] {
            let mut t = Tally::default();
            let mut log = LogExtractor::new(ExtractOptions::default());
            let mut seen = LineLimit::new(limit);
            let reader = Trickle {
                data: data.clone().into_bytes(),
                pos: 0,
                step,
                fail_at: None,
            };
            read_log_in(reader, &mut log, &mut t, false, &mut seen, SMALL).unwrap();
            log.finish(&mut |r| t.add(r));
            assert_eq!(t.pairs, expected.pairs, "step {step}");
            assert_eq!(t.skipped, expected.skipped, "step {step}");
            assert_eq!(seen.oversized.count, 3);
            assert_eq!(seen.oversized.first_offset, Some(first));
        }
        let mut log = LogExtractor::new(ExtractOptions::default());
        let stop = read_log_in(
            data.as_bytes(),
            &mut log,
            &mut Tally::default(),
            true,
            &mut LineLimit::new(limit),
            SMALL,
        );
        assert!(
            matches!(stop, Err(Stop::Oversized { offset }) if offset == first),
            "{stop:?}"
        );
        // No limit at all (the largest one): every line is kept, and nothing overflows.
        let mut log = LogExtractor::new(ExtractOptions::default());
        let mut unlimited = LineLimit::new(usize::MAX);
        read_log_in(
            data.as_bytes(),
            &mut log,
            &mut Tally::default(),
            false,
            &mut unlimited,
            SMALL,
        )
        .unwrap();
        assert_eq!(unlimited.oversized.count, 0);
    }
}

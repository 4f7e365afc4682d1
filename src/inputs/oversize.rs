//! Bounded memory for long lines (docs/design.md §7, issue 14.3): a line or header block longer than
//! `--max-line-bytes` is skipped as `oversized` without ever being held whole, and the input
//! remembers where the first one was, so the run can name the file and byte offset.
//!
//! [`BoundedLines`] is the line reader of the readers that go line by line (a single stored
//! message, pairs files); the bulk log reader and the mbox splitter apply the same limit in
//! their own windows.

use std::cell::Cell;
use std::io::{self, BufRead, Read};

/// The default `--max-line-bytes`: far above any real log line or header block (postfix
/// caps a header block at 100 kB by default), and small enough that a few of them in flight
/// on every thread fit in memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 32 << 20;

/// The oversized items of one input: how many, and the byte offset of the first (in the
/// decompressed stream for a compressed input).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Oversized {
    pub count: u64,
    pub first_offset: Option<u64>,
}

impl Oversized {
    pub fn note(&mut self, offset: u64) {
        self.count += 1;
        self.first_offset = Some(self.first_offset.map_or(offset, |o| o.min(offset)));
    }

    pub fn merge(&mut self, other: Oversized) {
        self.count += other.count;
        if let Some(offset) = other.first_offset {
            self.first_offset = Some(self.first_offset.map_or(offset, |o| o.min(offset)));
        }
    }
}

/// The limit a reader applies, and what it skipped under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineLimit {
    /// Longest line kept, in bytes, its line end not counted (a header block: all of it).
    pub max: usize,
    pub oversized: Oversized,
}

impl LineLimit {
    pub fn new(max: usize) -> Self {
        LineLimit {
            max: max.max(1),
            oversized: Oversized::default(),
        }
    }
}

/// What [`BoundedLines::next_line`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (with its `\n`, unless it is the last one) is in the caller's buffer.
    Read,
    /// A line longer than the limit, starting at this offset, was passed over; the buffer
    /// is empty.
    Oversized(u64),
    End,
}

/// Reads lines of at most `max` bytes (line end included); longer ones are consumed and
/// dropped as they are read, never held.
pub struct BoundedLines<R> {
    reader: R,
    max: usize,
    offset: u64,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        BoundedLines {
            reader,
            max: max.max(1),
            offset: 0,
        }
    }

    /// The reader, positioned after the last line returned (a message's body, say).
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// Bytes consumed so far: the offset of the next line.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Replaces `line` by the next line.
    pub fn next_line(&mut self, line: &mut Vec<u8>) -> io::Result<Line> {
        line.clear();
        let start = self.offset;
        let mut oversized = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(match (oversized, start == self.offset) {
                    (true, _) => Line::Oversized(start),
                    (false, true) => Line::End,
                    (false, false) => Line::Read,
                });
            }
            let (take, done) = match memchr::memchr(b'\n', buf) {
                Some(nl) => (nl + 1, true),
                None => (buf.len(), false),
            };
            // The limit is on what the line holds; its line end does not count.
            if !oversized && line.len() + take - usize::from(done) > self.max {
                oversized = true;
                line.clear();
                line.shrink_to(self.max.min(64 << 10));
            }
            if !oversized {
                line.extend_from_slice(&buf[..take]);
            }
            self.reader.consume(take);
            self.offset += take as u64;
            if done {
                return Ok(if oversized {
                    Line::Oversized(start)
                } else {
                    Line::Read
                });
            }
        }
    }
}

/// A reader that yields what `lines` yields, with each oversized line replaced by an empty
/// one (so line numbers after it stay right) and noted in `noted`, where the consumer of
/// the stream sees it at once. For readers such as the CSV parser that take a stream and
/// would otherwise hold a whole line.
pub struct CappedReader<'a, R> {
    lines: BoundedLines<R>,
    line: Vec<u8>,
    pos: usize,
    noted: &'a Cell<Oversized>,
}

impl<'a, R: BufRead> CappedReader<'a, R> {
    pub fn new(reader: R, max: usize, noted: &'a Cell<Oversized>) -> Self {
        CappedReader {
            lines: BoundedLines::new(reader, max),
            line: Vec::new(),
            pos: 0,
            noted,
        }
    }
}

impl<R: BufRead> Read for CappedReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CappedReader<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.line.len() {
            self.pos = 0;
            match self.lines.next_line(&mut self.line)? {
                Line::Read | Line::End => {}
                Line::Oversized(offset) => {
                    let mut noted = self.noted.get();
                    noted.note(offset);
                    self.noted.set(noted);
                    self.line.push(b'\n');
                }
            }
        }
        Ok(&self.line[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.line.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max: usize, buffer: usize) -> Vec<Result<Vec<u8>, u64>> {
        let mut lines = BoundedLines::new(io::BufReader::with_capacity(buffer, text), max);
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            match lines.next_line(&mut line).unwrap() {
                Line::Read => out.push(Ok(line.clone())),
                Line::Oversized(at) => out.push(Err(at)),
                Line::End => return out,
            }
        }
    }

    #[test]
    fn long_lines_are_dropped_with_their_offsets_whatever_the_buffer() {
        let text = b"ok\n0123456789\nfine\n0123456789abcdef";
        for buffer in [1, 3, 7, 64] {
            assert_eq!(
                lines(text, 8, buffer),
                [
                    Ok(b"ok\n".to_vec()),
                    Err(3),
                    Ok(b"fine\n".to_vec()),
                    Err(19)
                ],
                "buffer {buffer}"
            );
        }
        // The line end does not count: a line of exactly `max` bytes is kept.
        assert_eq!(lines(b"12345678\n", 8, 4), [Ok(b"12345678\n".to_vec())]);
        assert_eq!(lines(b"123456789\n", 8, 4), [Err(0)]);
        assert_eq!(lines(b"", 8, 4), []);
    }

    #[test]
    fn the_capped_reader_keeps_line_numbers_and_notes_each_long_line() {
        let text = b"a,b\nxxxxxxxxxxxxxxxxxxxxxxxx\nc,d\nyyyyyyyyyyyyyyyyyyyy";
        let noted = Cell::new(Oversized::default());
        let mut capped = CappedReader::new(io::BufReader::with_capacity(5, &text[..]), 10, &noted);
        let mut out = String::new();
        capped.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a,b\n\nc,d\n\n");
        assert_eq!(
            noted.get(),
            Oversized {
                count: 2,
                first_offset: Some(4)
            }
        );
    }
}

//! The project's own mbox splitter (docs/design.md §3). mail-parser's iterator splits on every line
//! that starts with `From `; here a `From ` line starts a message only at the start of the
//! file or after an empty line, and only when it ends in a date (a time and a year), so an
//! unquoted `From the warehouse: ...` paragraph in a body stays in the body. Only
//! header blocks are kept: bodies are skipped by searching a 1 MiB window for `\nFrom ` at
//! once (memmem) and looking only there line by line, so `>From ` unquoting
//! (mboxrd) never matters and memory stays bounded by the largest header block.
//!
//! mboxcl and mboxcl2 do not quote `From ` in bodies and say where a body ends with
//! `Content-Length`. A length is trusted only when the bytes after it agree (end of file,
//! or an optional blank line and then a `From ` line); otherwise the window is rewound to
//! the first line inside the counted bytes that could start a message (kept for that, up
//! to 16 MiB) and the blank-line rule decides, so a wrong or forged length in an ordinary
//! mbox costs nothing. The line-by-line splitter this replaced stays in the tests as the
//! specification the window-based one is compared with.
//!
//! Memory is bounded whatever the input (issue 14.3): a header block longer than the limit
//! (`--max-line-bytes`) is dropped as it is read and the message is `oversized`; a `From `
//! line longer than the limit is no separator (a real one is a few dozen bytes), so the
//! window never grows to hold it; bodies and other long lines are searched, never held.

use std::io::{self, Read};
use std::ops::Range;

use memchr::memmem;

use crate::model::{When, date};

/// The default limit on a header block: larger is not a header block, and the message is
/// skipped as oversized.
pub const MAX_HEADER_BYTES: usize = super::oversize::DEFAULT_MAX_LINE_BYTES;

/// How much of a body that a `Content-Length` covers is kept for replay, from the first
/// line inside it that could start a message. Beyond this the length is not trusted.
const MAX_REPLAY_BYTES: u64 = 16 << 20;

/// How much is read at a time. Bodies are skipped by searching this much at once, so it
/// is large; it grows only to hold one line that must be seen whole.
const READ_BYTES: usize = 1 << 20;

/// One message's envelope line and header block.
#[derive(Debug, Default)]
pub struct MboxMessage {
    /// The sender written on the `From ` line.
    pub envelope: String,
    /// The date written on the `From ` line.
    pub date: When,
    /// Header lines up to (excluding) the blank line; empty when oversized.
    pub header: Vec<u8>,
    /// True when the header block exceeded the limit ([`MAX_HEADER_BYTES`] by default).
    pub oversized: bool,
    /// 1-based line number of the `From ` line.
    pub line: u64,
}

/// What the splitter yields.
#[derive(Debug)]
pub enum MboxItem {
    Message(MboxMessage),
    /// Non-blank text before the first `From ` line, starting at this line.
    Preamble {
        line: u64,
    },
}

/// What [`MboxReader::next_into`] yields: like [`MboxItem`], with the header block left in
/// the caller's buffer so that many messages share one allocation.
#[derive(Debug)]
pub enum MboxSplit {
    Message {
        envelope: String,
        /// The date on the `From ` line.
        date: When,
        /// Where the header block is in the caller's buffer; empty when oversized.
        header: Range<usize>,
        oversized: bool,
        line: u64,
        /// The byte offset of the `From ` line in the input.
        offset: u64,
    },
    Preamble {
        line: u64,
    },
}

/// Where a search for the next separator ended.
enum Seek {
    /// A separator line starts at this offset.
    Found(u64),
    /// No separator starts before the limit; this is the first line start at or after it,
    /// and whether the line before it is blank.
    Stopped { at: u64, prev_blank: bool },
    /// The input ended first.
    End,
}

/// Splits an mbox read from `R`. Offsets are absolute positions in the input; the window
/// `buf[..end]` holds the input from `base` on, and nothing before `pos` is needed again.
pub struct MboxReader<R> {
    reader: R,
    buf: Vec<u8>,
    end: usize,
    pos: usize,
    base: u64,
    eof: bool,
    /// Newlines before `buf[counted]` number `lines`; counting is lazy and never goes back.
    counted: usize,
    lines: u64,
    /// False when nobody needs line numbers: counting them is most of the cost of skipping a
    /// body, and only `--strict` names a line.
    numbered: bool,
    /// The separator read ahead of the message it starts: its sender and line number.
    pending: Option<(String, u64)>,
    /// Where the pending separator starts.
    pending_at: u64,
    /// The date on the pending separator.
    pending_date: When,
    /// No message that starts at or after this offset is yielded (a byte range's end).
    stop_at: u64,
    started: bool,
    separator: memmem::Finder<'static>,
    /// The longest header block kept, and the longest line that can be a separator.
    max_header: usize,
}

impl<R: Read> MboxReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_buffer(reader, READ_BYTES)
    }

    /// A reader whose window starts at `bytes` ([`Self::new`] uses the production size;
    /// tests and the fuzz targets use tiny windows to reach every refill path).
    pub fn with_buffer(reader: R, bytes: usize) -> Self {
        MboxReader {
            reader,
            buf: vec![0; bytes.max(8)],
            end: 0,
            pos: 0,
            base: 0,
            eof: false,
            counted: 0,
            lines: 0,
            numbered: true,
            pending: None,
            pending_at: 0,
            pending_date: When::Absent,
            stop_at: u64::MAX,
            started: false,
            separator: memmem::Finder::new(b"\nFrom ").into_owned(),
            max_header: MAX_HEADER_BYTES,
        }
    }

    /// Sets the limit on a header block (and on a separator line) before reading starts.
    pub fn with_limit(mut self, max: usize) -> Self {
        self.max_header = max.max(1);
        self
    }

    /// The next item, with the message's header copied out. The binary uses the
    /// allocation-free split underneath; this is part of the library API the fuzz targets
    /// and property tests use.
    pub fn next_item(&mut self) -> io::Result<Option<MboxItem>> {
        let mut header = Vec::new();
        Ok(self.next_into(&mut header)?.map(|split| match split {
            MboxSplit::Preamble { line } => MboxItem::Preamble { line },
            MboxSplit::Message {
                envelope,
                date,
                oversized,
                line,
                ..
            } => MboxItem::Message(MboxMessage {
                envelope,
                date,
                header,
                oversized,
                line,
            }),
        }))
    }

    /// A splitter for the part of an input from `base` on, which `reader` yields (one byte
    /// range of a large file). It starts at the first separator after a blank line from the
    /// first line start after `base` on; nothing before it is yielded, not even a preamble.
    /// Lines are not numbered; `max` is the limit of [`Self::with_limit`].
    pub fn after_offset(reader: R, base: u64, max: usize) -> io::Result<Self> {
        let mut mbox = Self::new(reader).without_line_numbers().with_limit(max);
        mbox.base = base;
        mbox.started = true;
        let mut searched = 0;
        loop {
            if let Some(q) = memchr::memchr(b'\n', &mbox.buf[searched..mbox.end]) {
                let q = searched + q;
                // The line before `base` is unknown: a line ending right after it is taken
                // as not blank, which is safe (see `next_start`).
                let prev_blank = line_before_is_blank(&mbox.buf, 0, false, q);
                mbox.seek_next(mbox.offset(q + 1), prev_blank)?;
                return Ok(mbox);
            }
            // No line start yet: nothing read so far is needed again.
            mbox.pos = mbox.end;
            if !mbox.fill()? {
                return Ok(mbox);
            }
            searched = 0;
        }
    }

    /// A splitter for the input from `at` on, where a sequential splitter of the whole input
    /// takes a separator (its [`next_start`](Self::next_start)): from there on it yields
    /// what that one yields. Lines are not numbered; `max` is the limit of
    /// [`Self::with_limit`].
    pub fn at_separator(reader: R, at: u64, max: usize) -> io::Result<Self> {
        let mut mbox = Self::new(reader).without_line_numbers().with_limit(max);
        mbox.base = at;
        mbox.started = true;
        mbox.seek_next(at, true)?;
        Ok(mbox)
    }

    /// Yields no message that starts at or after `stop`; the splitter still reads on to
    /// the start of the next message, which [`next_start`](Self::next_start) then says.
    pub fn stop_before(mut self, stop: u64) -> Self {
        self.stop_at = stop;
        self
    }

    /// Where the next message starts (`None`: no more messages). After the last message
    /// below the stop, this is where a sequential splitter of the whole input starts its
    /// next message too, even when a splitter that began at an arbitrary offset took a
    /// `From ` line inside a body as a start: the range that follows is right exactly when
    /// it started here.
    pub fn next_start(&self) -> Option<u64> {
        self.pending.as_ref().map(|_| self.pending_at)
    }

    /// Stops counting lines: messages then say line 0 (a preamble still says line 1).
    pub fn without_line_numbers(mut self) -> Self {
        self.numbered = false;
        self
    }

    /// The next item; a message's header block is appended to `headers`.
    pub fn next_into(&mut self, headers: &mut Vec<u8>) -> io::Result<Option<MboxSplit>> {
        if !self.started {
            self.started = true;
            if self.seek_first()? {
                return Ok(Some(MboxSplit::Preamble { line: 1 }));
            }
        }
        if self.pending.is_some() && self.pending_at >= self.stop_at {
            return Ok(None);
        }
        let Some((envelope, line)) = self.pending.take() else {
            return Ok(None);
        };
        let start = headers.len();
        let offset = self.pending_at;
        let (ended_blank, oversized) = self.read_header(headers, start)?;
        if ended_blank {
            let body = self.offset(self.pos);
            // An oversized block was dropped, so its Content-Length is not known either.
            match content_length(&headers[start..]) {
                Some(len) => self.skip_by_length(body, len)?,
                None => self.seek_next(body, true)?,
            }
        }
        Ok(Some(MboxSplit::Message {
            envelope,
            date: self.pending_date,
            header: start..headers.len(),
            oversized,
            line,
            offset,
        }))
    }

    fn offset(&self, index: usize) -> u64 {
        self.base + index as u64
    }

    /// The window index of an offset at or after `base`.
    fn index(&self, offset: u64) -> usize {
        (offset - self.base) as usize
    }

    /// Reads more input behind the window, first dropping what lies before `pos`. False at
    /// the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.count_lines_to(self.pos);
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.base += self.pos as u64;
            self.counted = 0;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// True when the input has at least `n` bytes from `at` on (`pos <= at`).
    fn has_bytes(&mut self, at: u64, n: u64) -> io::Result<bool> {
        while self.offset(self.end) < at + n {
            if !self.fill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn count_lines_to(&mut self, index: usize) {
        if self.numbered {
            self.lines += count_newlines(&self.buf[self.counted..index]);
        }
        self.counted = index;
    }

    /// The end of the line starting at `at` (after its `\n`, or the end of the input),
    /// reading until the window holds it whole; `None` when the input ends at `at`.
    fn line_end(&mut self, at: u64) -> io::Result<Option<u64>> {
        let mut searched = at;
        loop {
            let from = self.index(searched);
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                return Ok(Some(self.offset(from + i + 1)));
            }
            searched = self.offset(self.end);
            if !self.fill()? {
                return Ok((searched > at).then_some(searched));
            }
        }
    }

    /// [`Self::line_end`] for a line of at most `max` bytes (its line end not counted);
    /// `None` for a longer one, which is read no further than that.
    fn line_end_within(&mut self, at: u64, max: usize) -> io::Result<Option<u64>> {
        let bound = at.saturating_add(max as u64).saturating_add(1);
        let mut searched = at;
        loop {
            let from = self.index(searched);
            let stop = self.end.min(self.index(bound.max(self.base)).max(from));
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..stop]) {
                return Ok(Some(self.offset(from + i + 1)));
            }
            searched = self.offset(stop);
            if searched >= bound {
                return Ok(None);
            }
            if !self.fill()? {
                return Ok((searched > at).then_some(searched));
            }
        }
    }

    /// The end of the line at `at` when that line is blank.
    fn blank_at(&mut self, at: u64) -> io::Result<Option<u64>> {
        self.has_bytes(at, 2)?;
        let i = self.index(at);
        Ok(match &self.buf[i..self.end.min(i + 2)] {
            [b'\n', ..] => Some(at + 1),
            b"\r\n" => Some(at + 2),
            _ => None,
        })
    }

    /// Whether a separator line starts at `at`. Only a line that starts with `From ` is
    /// read whole.
    fn separator_at(&mut self, at: u64) -> io::Result<bool> {
        const FROM: &[u8] = b"From ";
        self.has_bytes(at, FROM.len() as u64)?;
        let i = self.index(at);
        if !self.buf[i..self.end].starts_with(FROM) {
            return Ok(false);
        }
        let Some(end) = self.line_end_within(at, self.max_header)? else {
            return Ok(false);
        };
        let (i, j) = (self.index(at), self.index(end));
        Ok(is_separator(&self.buf[i..j]))
    }

    /// Takes the separator line at `at` as the start of the next message.
    fn take_separator(&mut self, at: u64) -> io::Result<()> {
        let end = self.line_end(at)?.unwrap_or(at);
        let (i, j) = (self.index(at), self.index(end));
        self.count_lines_to(i);
        let line = if self.numbered { self.lines + 1 } else { 0 };
        self.pending = Some((envelope_sender(&self.buf[i..j]), line));
        self.pending_date = from_line_date(&self.buf[i..j]);
        self.pending_at = at;
        self.pos = j;
        Ok(())
    }

    /// At the start of the file: blank lines, then either a separator or text (a preamble,
    /// after which the usual rule looks for the first separator). True when there is text.
    fn seek_first(&mut self) -> io::Result<bool> {
        let mut at = 0;
        loop {
            self.pos = self.index(at);
            if !self.has_bytes(at, 1)? {
                return Ok(false);
            }
            if let Some(end) = self.blank_at(at)? {
                at = end;
            } else if self.separator_at(at)? {
                self.take_separator(at)?;
                return Ok(false);
            } else {
                self.seek_next(at, false)?;
                return Ok(true);
            }
        }
    }

    /// Finds the next separator from the line start `at` and takes it, or reaches the end.
    fn seek_next(&mut self, at: u64, prev_blank: bool) -> io::Result<()> {
        match self.seek(at, prev_blank, u64::MAX)? {
            Seek::Found(sep) => self.take_separator(sep),
            Seek::Stopped { .. } | Seek::End => Ok(()),
        }
    }

    /// Searches from the line start `at` for the first separator (a `From ` line after a
    /// blank line, or at `at` when `prev_blank`) that starts before `limit`. Whole windows
    /// are searched for `\nFrom ` at once; only those places are looked at line by line.
    fn seek(&mut self, mut at: u64, mut prev_blank: bool, limit: u64) -> io::Result<Seek> {
        // `at` is a line start, or with `mid_line` a place inside a line already known to
        // be neither blank nor a separator.
        let mut mid_line = false;
        loop {
            self.pos = self.index(at);
            if !mid_line {
                if at >= limit {
                    return Ok(Seek::Stopped { at, prev_blank });
                }
                if prev_blank && self.separator_at(at)? {
                    return Ok(Seek::Found(at));
                }
            }
            let i = self.index(at);
            // A `\nFrom ` match at p is a candidate line at p + 1, which must be < limit.
            let limit_index = limit.saturating_sub(self.base).min(self.end as u64) as usize;
            let hay_end = self.end.min(limit_index.saturating_add(4));
            if i < hay_end
                && let Some(m) = self.separator.find(&self.buf[i..hay_end])
            {
                let p = i + m;
                prev_blank = line_before_is_blank(&self.buf, i, !mid_line, p);
                at = self.offset(p + 1);
                mid_line = false;
                continue;
            }
            if limit <= self.offset(self.end) {
                // No separator before the limit: stop at the first line start after it.
                let from = i.max(self.index(limit.max(self.base + 1) - 1));
                if let Some(q) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                    let q = from + q;
                    self.pos = q + 1;
                    return Ok(Seek::Stopped {
                        at: self.offset(q + 1),
                        prev_blank: line_before_is_blank(&self.buf, i, !mid_line, q),
                    });
                }
            }
            if self.eof {
                self.pos = self.end;
                return Ok(Seek::End);
            }
            // Keep only the last line start (a `\nFrom` may be cut off at the end), or
            // nothing of a long line that is known to be no separator.
            match memchr::memrchr(b'\n', &self.buf[i..self.end]) {
                Some(q) => {
                    let q = i + q;
                    prev_blank = line_before_is_blank(&self.buf, i, !mid_line, q);
                    at = self.offset(q + 1);
                    mid_line = false;
                }
                None if self.end - i >= 2 => {
                    at = self.offset(self.end);
                    mid_line = true;
                }
                None => {}
            }
            self.pos = self.index(at);
            self.fill()?;
        }
    }

    /// Copies the header block (up to the first blank line) into `headers` from `start`.
    /// Returns whether a blank line ended it (not the end of input) and whether it was
    /// oversized.
    fn read_header(&mut self, headers: &mut Vec<u8>, start: usize) -> io::Result<(bool, bool)> {
        let mut oversized = false;
        let mut at_line_start = true;
        loop {
            let window = &self.buf[self.pos..self.end];
            match find_blank_line(window, at_line_start) {
                BlankLine::At(b) => {
                    append_header(
                        headers,
                        start,
                        &window[..b],
                        self.max_header,
                        &mut oversized,
                    );
                    let blank = if window[b] == b'\n' { 1 } else { 2 };
                    self.pos += b + blank;
                    return Ok((true, oversized));
                }
                BlankLine::NotYet { checked, mid_line } => {
                    if self.eof {
                        append_header(headers, start, window, self.max_header, &mut oversized);
                        self.pos = self.end;
                        return Ok((false, oversized));
                    }
                    append_header(
                        headers,
                        start,
                        &window[..checked],
                        self.max_header,
                        &mut oversized,
                    );
                    self.pos += checked;
                    at_line_start = !mid_line;
                    self.fill()?;
                }
            }
        }
    }

    /// mboxcl/mboxcl2: a body of `len` bytes from `body`. The length is trusted only when the
    /// bytes after it agree; otherwise the blank-line rule decides, from the first line
    /// inside the counted bytes that could start a message.
    fn skip_by_length(&mut self, body: u64, len: u64) -> io::Result<()> {
        let target = body.saturating_add(len);
        match self.seek(body, true, target)? {
            Seek::End => Ok(()),
            Seek::Stopped { at, prev_blank } => {
                if at == target && self.length_agrees(at)? {
                    return Ok(());
                }
                self.seek_next(at, prev_blank)
            }
            Seek::Found(sep) => {
                // Counted bytes end with a whole line no further than the replay bound.
                let counted_end = self.line_start_after(sep, target)?;
                if counted_end == Some(target) && self.length_agrees(target)? {
                    return Ok(());
                }
                self.pos = self.index(sep);
                self.take_separator(sep)
            }
        }
    }

    /// The first line start at or after `target` (the end of the input counts), keeping the
    /// window from `keep` on; `None` when the input ends before `target` or that line start
    /// lies more than [`MAX_REPLAY_BYTES`] after `keep`.
    fn line_start_after(&mut self, keep: u64, target: u64) -> io::Result<Option<u64>> {
        self.pos = self.index(keep);
        let bound = keep + MAX_REPLAY_BYTES;
        let mut from = target - 1;
        loop {
            if !self.has_bytes(from, 1)? {
                return Ok(None);
            }
            let stop = self.offset(self.end).min(bound);
            let (i, j) = (self.index(from), self.index(stop));
            if i < j
                && let Some(q) = memchr::memchr(b'\n', &self.buf[i..j])
            {
                return Ok(Some(self.offset(i + q + 1)));
            }
            if stop == bound {
                return Ok(None);
            }
            from = stop;
            if !self.has_bytes(from, 1)? {
                // The last line ends with the input.
                return Ok(Some(from));
            }
        }
    }

    /// After the counted bytes: the end of input, or an optional blank line and then the end
    /// of input or a separator (taken). Leaves `pos` where it was otherwise.
    fn length_agrees(&mut self, at: u64) -> io::Result<bool> {
        if !self.has_bytes(at, 1)? {
            return Ok(true);
        }
        let mut line = at;
        if let Some(end) = self.blank_at(at)? {
            if !self.has_bytes(end, 1)? {
                return Ok(true);
            }
            line = end;
        }
        if self.separator_at(line)? {
            self.take_separator(line)?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Whether the line that ends with the `\n` at `p` is blank. `start <= p` is a line start,
/// or (`!at_line_start`) a place inside a line already longer than a blank one.
fn line_before_is_blank(buf: &[u8], start: usize, at_line_start: bool, p: usize) -> bool {
    if p == start {
        return at_line_start;
    }
    match buf[p - 1] {
        b'\n' => true,
        b'\r' if p - 1 == start => at_line_start,
        b'\r' => buf[p - 2] == b'\n',
        _ => false,
    }
}

enum BlankLine {
    /// A blank line starts here.
    At(usize),
    /// None in the window: this much of it holds only header lines (the rest may be the
    /// start of a blank line); `mid_line` when that ends inside a line.
    NotYet { checked: usize, mid_line: bool },
}

/// The first blank line in `window` whose start is at 0 (when `at_line_start`) or after a
/// `\n`.
fn find_blank_line(window: &[u8], at_line_start: bool) -> BlankLine {
    let starts_blank = |rest: &[u8]| rest.starts_with(b"\n") || rest.starts_with(b"\r\n");
    let undecided = |rest: &[u8]| rest.is_empty() || rest == b"\r";
    if at_line_start {
        if starts_blank(window) {
            return BlankLine::At(0);
        }
        if undecided(window) {
            return BlankLine::NotYet {
                checked: 0,
                mid_line: false,
            };
        }
    }
    for q in memchr::memchr_iter(b'\n', window) {
        let rest = &window[q + 1..];
        if starts_blank(rest) {
            return BlankLine::At(q + 1);
        }
        if undecided(rest) {
            return BlankLine::NotYet {
                checked: q + 1,
                mid_line: false,
            };
        }
    }
    // The window ends inside a line of two bytes or more: no blank line.
    BlankLine::NotYet {
        checked: window.len(),
        mid_line: true,
    }
}

/// Appends header bytes, dropping the whole block once it grows past `max`.
fn append_header(
    headers: &mut Vec<u8>,
    start: usize,
    bytes: &[u8],
    max: usize,
    oversized: &mut bool,
) {
    if *oversized {
        return;
    }
    if headers.len() - start + bytes.len() > max {
        *oversized = true;
        headers.truncate(start);
        return;
    }
    headers.extend_from_slice(bytes);
}

/// The sum of the eight bytes of `lanes`: pairs into 16-bit lanes, then a multiply adds
/// those into the top 16 bits.
fn sum_byte_lanes(lanes: u64) -> u64 {
    const EVEN: u64 = 0x00ff_00ff_00ff_00ff;
    let pairs = (lanes & EVEN) + ((lanes >> 8) & EVEN);
    pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48
}

/// `\n` bytes in `bytes`, eight at a time in a `u64` (SWAR).
fn count_newlines(bytes: &[u8]) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let mut words = bytes.chunks_exact(8);
    let mut total = 0u64;
    let mut lanes = 0u64;
    for (n, word) in words.by_ref().enumerate() {
        let x = u64::from_ne_bytes(word.try_into().unwrap_or_default()) ^ (ONES * u64::from(b'\n'));
        // A byte of `x` is zero exactly where a `\n` is; only there does its top bit stay
        // clear here, with no carry between bytes.
        let t = ((x & LOW7) + LOW7) | x;
        lanes += (!t >> 7) & ONES;
        // A byte lane holds at most 255.
        if n % 255 == 254 {
            total += sum_byte_lanes(lanes);
            lanes = 0;
        }
    }
    total += sum_byte_lanes(lanes);
    total + words.remainder().iter().filter(|&&b| b == b'\n').count() as u64
}

/// The value of the first `Content-Length:` header field that is a number.
fn content_length(header: &[u8]) -> Option<u64> {
    const NAME: &[u8] = b"content-length:";
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', header).map(|i| i + 1));
    line_starts.into_iter().find_map(|start| {
        let line = &header[start..];
        let head = line.get(..NAME.len())?;
        if !head.eq_ignore_ascii_case(NAME) {
            return None;
        }
        let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        std::str::from_utf8(&line[NAME.len()..])
            .ok()?
            .trim()
            .parse()
            .ok()
    })
}

/// `From sender date`: the date must hold a time (`hh:mm` or `hh:mm:ss`) and a year, in
/// any of the orders real writers use (asctime, zone names, no seconds).
pub fn is_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let mut time = false;
    let mut year = false;
    for token in rest.split(|b| b.is_ascii_whitespace()).skip(1) {
        time |= is_time(token);
        year |= token.len() == 4 && token.iter().all(u8::is_ascii_digit);
    }
    time && year
}

/// `h:mm` or `hh:mm:ss`: two or three parts of one or two digits each.
fn is_time(t: &[u8]) -> bool {
    let mut parts = 0;
    t.split(|b| *b == b':').all(|p| {
        parts += 1;
        parts <= 3 && (1..=2).contains(&p.len()) && p.iter().all(u8::is_ascii_digit)
    }) && parts >= 2
}

#[cfg(test)]
fn is_blank(line: &[u8]) -> bool {
    matches!(line, b"\n" | b"\r\n")
}

/// The date on a `From ` line; a separator always holds one (else it is no separator),
/// so one that does not read is unparseable.
pub fn from_line_date(line: &[u8]) -> When {
    match date::parse_from_line(&String::from_utf8_lossy(line)) {
        Some(t) => When::At(t),
        None => When::Unparseable,
    }
}

/// The sender on a `From ` line: `From addr date`. A quoted local part may hold spaces.
pub fn envelope_sender(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let rest = text
        .strip_prefix("From ")
        .unwrap_or(&text)
        .trim_start_matches([' ', '\t']);
    let space = |s: &str| s.find([' ', '\t', '\r', '\n']).unwrap_or(s.len());
    // A quoted local part may hold spaces: the sender ends at the first space after it.
    let end = match rest.strip_prefix('"').and_then(|r| r.find('"')) {
        Some(q) => q + 2 + space(&rest[q + 2..]),
        None => space(rest),
    };
    let sender = &rest[..end];
    // Mailman's archives hide the address as `From user at example.org  Wed Dec ...`.
    let after = rest[end..].trim_start_matches([' ', '\t']);
    if let Some(domain) = after.strip_prefix("at ") {
        let domain = domain.trim_start_matches([' ', '\t']);
        let domain = &domain[..space(domain)];
        let domain = domain.trim_matches(['"', '\u{201c}', '\u{201d}']);
        if !sender.contains('@') && domain.contains('.') {
            return format!("{sender}@{domain}");
        }
    }
    sender.to_string()
}

/// The line-by-line splitter this module replaced, kept as the executable specification
/// the window-based one is compared with.
#[cfg(test)]
mod reference {
    use std::io::{self, BufRead};

    use super::{
        MAX_HEADER_BYTES, MAX_REPLAY_BYTES, MboxItem, MboxMessage, content_length, envelope_sender,
        is_blank, is_separator,
    };

    pub struct ReferenceReader<R> {
        reader: R,
        /// Bytes read ahead and handed back (a `Content-Length` that did not agree), read
        /// before `reader` from `replay_pos` on.
        replay: Vec<u8>,
        replay_pos: usize,
        line: Vec<u8>,
        line_no: u64,
        /// The separator line read ahead of the message it starts.
        pending: Option<(String, u64)>,
        started: bool,
        done: bool,
    }

    impl<R: BufRead> ReferenceReader<R> {
        pub fn new(reader: R) -> Self {
            ReferenceReader {
                reader,
                replay: Vec::new(),
                replay_pos: 0,
                line: Vec::with_capacity(256),
                line_no: 0,
                pending: None,
                started: false,
                done: false,
            }
        }

        /// Reads one line into `self.line`; false at end of input.
        fn read_line(&mut self) -> io::Result<bool> {
            self.line.clear();
            if self.replay_pos < self.replay.len() {
                let rest = &self.replay[self.replay_pos..];
                let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
                self.line.extend_from_slice(&rest[..end]);
                self.replay_pos += end;
                if self.replay_pos == self.replay.len() {
                    self.replay = Vec::new();
                    self.replay_pos = 0;
                }
            }
            if !self.line.ends_with(b"\n") {
                self.reader.read_until(b'\n', &mut self.line)?;
            }
            if !self.line.is_empty() {
                self.line_no += 1;
            }
            Ok(!self.line.is_empty())
        }

        /// Hands `bytes` back to be read again before anything not yet replayed.
        fn unread(&mut self, bytes: Vec<u8>) {
            let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64
                + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
            self.line_no -= lines;
            let mut replay = bytes;
            replay.extend_from_slice(&self.replay[self.replay_pos..]);
            self.replay = replay;
            self.replay_pos = 0;
        }

        /// Skips a body of `len` bytes (mboxcl/mboxcl2). Returns true when the bytes after it
        /// agree, with `pending` or `done` set for the next message; otherwise hands back what
        /// it read past the first possible separator and returns false with the blank-line
        /// state to resume with.
        fn skip_by_length(&mut self, len: u64) -> io::Result<Result<(), bool>> {
            let mut consumed = 0u64;
            let mut prev_blank = true;
            let mut held: Vec<u8> = Vec::new();
            while consumed < len && self.read_line()? {
                consumed += self.line.len() as u64;
                if !held.is_empty() || (prev_blank && is_separator(&self.line)) {
                    held.extend_from_slice(&self.line);
                    if held.len() as u64 > MAX_REPLAY_BYTES {
                        self.unread(held);
                        return Ok(Err(true));
                    }
                }
                prev_blank = is_blank(&self.line);
            }
            if consumed < len {
                // The file ended inside the counted bytes: the length was wrong.
                let resume_blank = held.is_empty() && prev_blank || !held.is_empty();
                self.unread(held);
                return Ok(Err(resume_blank));
            }
            let mut lookahead = Vec::new();
            if consumed == len {
                if !self.read_line()? {
                    self.done = true;
                    return Ok(Ok(()));
                }
                if is_blank(&self.line) {
                    lookahead.extend_from_slice(&self.line);
                    if !self.read_line()? {
                        self.done = true;
                        return Ok(Ok(()));
                    }
                }
                if is_separator(&self.line) {
                    self.pending = Some((envelope_sender(&self.line), self.line_no));
                    return Ok(Ok(()));
                }
                lookahead.extend_from_slice(&self.line);
            }
            // Disagreement: replay from the first possible separator in the body, else from the
            // end of the counted bytes.
            let resume_blank = if held.is_empty() { prev_blank } else { true };
            held.extend_from_slice(&lookahead);
            self.unread(held);
            Ok(Err(resume_blank))
        }

        /// Skips lines until the next separator (or end of input); remembers it in `pending`.
        /// Returns whether any non-blank line was passed over.
        fn seek_separator(&mut self, mut prev_blank: bool) -> io::Result<bool> {
            let mut saw_text = false;
            while self.read_line()? {
                if prev_blank && is_separator(&self.line) {
                    self.pending = Some((envelope_sender(&self.line), self.line_no));
                    return Ok(saw_text);
                }
                prev_blank = is_blank(&self.line);
                saw_text |= !prev_blank;
            }
            self.done = true;
            Ok(saw_text)
        }

        pub fn next_item(&mut self) -> io::Result<Option<MboxItem>> {
            if !self.started {
                self.started = true;
                // The start of the file counts as "after an empty line".
                if self.seek_separator(true)? {
                    return Ok(Some(MboxItem::Preamble { line: 1 }));
                }
            }
            let Some((envelope, line)) = self.pending.take() else {
                return Ok(None);
            };
            let mut msg = MboxMessage {
                envelope,
                line,
                ..Default::default()
            };
            // Header block: up to the first blank line.
            let mut ended_blank = false;
            while self.read_line()? {
                if is_blank(&self.line) {
                    ended_blank = true;
                    break;
                }
                if msg.oversized {
                    continue;
                }
                if msg.header.len() + self.line.len() > MAX_HEADER_BYTES {
                    msg.oversized = true;
                    msg.header = Vec::new();
                    continue;
                }
                msg.header.extend_from_slice(&self.line);
            }
            if !ended_blank {
                self.done = true;
            } else {
                let by_length = match content_length(&msg.header) {
                    Some(len) => self.skip_by_length(len)?,
                    None => Err(true),
                };
                if let Err(prev_blank) = by_length {
                    self.seek_separator(prev_blank)?;
                }
            }
            Ok(Some(MboxItem::Message(msg)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<MboxItem> {
        let mut r = MboxReader::new(input);
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(item);
        }
        out
    }

    fn messages(input: &[u8]) -> Vec<(String, String, u64)> {
        split(input)
            .into_iter()
            .filter_map(|i| match i {
                MboxItem::Message(m) => {
                    Some((m.envelope, String::from_utf8(m.header).unwrap(), m.line))
                }
                MboxItem::Preamble { .. } => None,
            })
            .collect()
    }

    #[test]
    fn unquoted_from_in_body_is_not_a_separator() {
        let mbox = b"From a@one.example Tue Jun  4 10:00:00 2024\nSubject: 1\n\nbody\nFrom here on it is body\n\nFrom the warehouse: your parcel left at 10:30 today.\n\nFrom b@two.example Tue Jun  4 10:00:01 2024\nSubject: 2\n\nx\n";
        let m = messages(mbox);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "a@one.example");
        assert_eq!(m[0].1, "Subject: 1\n");
        assert_eq!(m[1].0, "b@two.example");
        assert_eq!(m[1].2, 9);
    }

    #[test]
    fn mboxrd_quoted_lines_stay_in_body() {
        let mbox = b"From a@one.example Tue Jun  4 10:00:00 2024\nSubject: 1\n\n>From quoted\n\n>>From twice\n\nFrom b@two.example Tue Jun  4 10:00:01 2024\nSubject: 2\n\n";
        assert_eq!(messages(mbox).len(), 2);
    }

    #[test]
    fn crlf_mbox() {
        let mbox = b"From a@one.example Tue Jun  4 10:00:00 2024\r\nSubject: 1\r\n\r\nbody\r\nFrom inside body\r\n\r\nFrom b@two.example Tue Jun  4 10:00:01 2024\r\nSubject: 2\r\n\r\nx\r\n";
        let m = messages(mbox);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].1, "Subject: 1\r\n");
        assert_eq!(m[1].0, "b@two.example");
    }

    #[test]
    fn preamble_is_reported_and_blank_preamble_is_not() {
        let items = split(b"garbage\n\nFrom a@b.example Tue Jun  4 10:00:00 2024\nX: 1\n\n");
        assert!(matches!(items[0], MboxItem::Preamble { line: 1 }));
        assert_eq!(items.len(), 2);
        let items = split(b"\n\nFrom a@b.example Tue Jun  4 10:00:00 2024\nX: 1\n\n");
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn message_without_body_or_final_newline() {
        let m = messages(b"From a@b.example Tue Jun  4 10:00:00 2024\nX: 1");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].1, "X: 1");
    }

    #[test]
    fn separator_dates() {
        for ok in [
            &b"From yves@example.org  Wed Nov 11 21:29:20 2009\n"[..],
            b"From magick-owner@unca-don.wizards.dupont.com Wed Feb  9 22:02 MET 2000\n",
            b"From goran at domain.com  Wed Dec  1 08:26:40 2010\n",
            b"From MAILER-DAEMON Tue Jun  4 10:00:00 2024\r\n",
        ] {
            assert!(is_separator(ok), "{}", String::from_utf8_lossy(ok));
        }
        for no in [
            &b"From here on\n"[..],
            b"From the warehouse: at 10:30\n",
            b"From: a@b\n",
            b"From 2024\n",
        ] {
            assert!(!is_separator(no), "{}", String::from_utf8_lossy(no));
        }
    }

    #[test]
    fn envelope_sender_forms() {
        assert_eq!(
            envelope_sender(b"From yves@example.org  Wed Nov 11 21:29:20 2009\n"),
            "yves@example.org"
        );
        assert_eq!(
            envelope_sender(b"From MAILER-DAEMON Wed Nov 11 21:29:20 2009\n"),
            "MAILER-DAEMON"
        );
        assert_eq!(
            envelope_sender(b"From \"jane doe\"@example.com  Tue Jun  4 10:00:00 2024\n"),
            "\"jane doe\"@example.com"
        );
        assert!(
            envelope_sender(b"From \xff\xfe@example.org Tue Jun  4 10:00:00 2024\n")
                .ends_with("@example.org")
        );
        assert_eq!(
            envelope_sender(b"From goran at domain.com  Wed Dec  1 08:26:40 2010\n"),
            "goran@domain.com"
        );
        assert_eq!(
            envelope_sender(
                "From christian at \u{201c}example.org\u{201d}  Thu Jan 15 13:22:25 2015\n"
                    .as_bytes()
            ),
            "christian@example.org"
        );
        assert_eq!(
            envelope_sender(b"From MAILER-DAEMON Wed Nov 11 21:29:20 2009\n"),
            "MAILER-DAEMON",
            "a weekday is not a Mailman domain"
        );
    }

    const CL_BODY: &str =
        "line one\n\nFrom the unquoted body Tue Jun  4 10:00:00 2024\nstill body\n";

    fn with_length(len: usize, body: &str) -> Vec<u8> {
        format!(
            "From a@one.example Tue Jun  4 10:00:00 2024\nContent-Length: {len}\n\n{body}\nFrom b@two.example Tue Jun  4 10:00:01 2024\nSubject: 2\n\nx\n"
        )
        .into_bytes()
    }

    #[test]
    fn mboxcl2_content_length_that_agrees_decides_the_end() {
        let m = messages(&with_length(CL_BODY.len(), CL_BODY));
        let envelopes: Vec<&str> = m.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(envelopes, ["a@one.example", "b@two.example"]);
        assert_eq!(m[1].2, 9, "line numbers stay right");
    }

    #[test]
    fn content_length_that_disagrees_is_ignored() {
        // Too short, too long, and past the end of the file: the blank-line rule decides,
        // so the unquoted `From ` line in the body starts a message of its own.
        for len in [3, CL_BODY.len() + 5, 100_000] {
            let m = messages(&with_length(len, CL_BODY));
            let envelopes: Vec<&str> = m.iter().map(|m| m.0.as_str()).collect();
            assert_eq!(
                envelopes,
                ["a@one.example", "the", "b@two.example"],
                "Content-Length {len}"
            );
            assert_eq!(m[2].2, 9, "Content-Length {len}: line numbers after replay");
        }
    }

    #[test]
    fn content_length_crlf_and_last_message() {
        let body = "a\r\n\r\nFrom x Tue Jun  4 10:00:00 2024\r\n";
        let mbox = format!(
            "From a@one.example Tue Jun  4 10:00:00 2024\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let m = messages(mbox.as_bytes());
        assert_eq!(m.len(), 1, "{m:?}");
    }

    #[test]
    fn oversized_header_is_flagged_not_kept() {
        let mut mbox = b"From a@b.example Tue Jun  4 10:00:00 2024\nX: ".to_vec();
        mbox.extend(std::iter::repeat_n(b'a', MAX_HEADER_BYTES + 10));
        mbox.extend_from_slice(b"\n\nbody\n\nFrom c@d.example Tue Jun  4 10:00:00 2024\nY: 2\n\n");
        let items = split(&mbox);
        assert_eq!(items.len(), 2);
        match &items[0] {
            MboxItem::Message(m) => assert!(m.oversized && m.header.is_empty()),
            other => panic!("{other:?}"),
        }
    }
    /// Everything the splitter says about an input, for comparing splitters.
    fn summary(items: Vec<MboxItem>) -> Vec<(String, Vec<u8>, bool, u64)> {
        items
            .into_iter()
            .map(|item| match item {
                MboxItem::Message(m) => (m.envelope, m.header, m.oversized, m.line),
                MboxItem::Preamble { line } => ("<preamble>".into(), Vec::new(), false, line),
            })
            .collect()
    }

    fn reference_split(input: &[u8]) -> Vec<MboxItem> {
        let mut r = reference::ReferenceReader::new(input);
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(item);
        }
        out
    }

    /// Reads in pieces of at most `piece` bytes, so that refills happen everywhere.
    struct Trickle<'a> {
        data: &'a [u8],
        piece: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.len().min(self.piece).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn windowed_split(input: &[u8], window: usize, piece: usize) -> Vec<MboxItem> {
        let mut r = MboxReader::with_buffer(Trickle { data: input, piece }, window);
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(item);
        }
        out
    }

    fn assert_same_as_reference(input: &[u8]) {
        let want = summary(reference_split(input));
        let mut unnumbered = MboxReader::new(input).without_line_numbers();
        let mut got = Vec::new();
        while let Some(item) = unnumbered.next_item().unwrap() {
            got.push(item);
        }
        let mut want_unnumbered = want.clone();
        for m in want_unnumbered.iter_mut().filter(|m| m.0 != "<preamble>") {
            m.3 = 0;
        }
        assert_eq!(summary(got), want_unnumbered, "without line numbers");
        for (window, piece) in [(8, 1), (8, 3), (16, 7), (64, 64), (1 << 20, 1 << 20)] {
            let got = summary(windowed_split(input, window, piece));
            assert_eq!(
                got,
                want,
                "window {window}, reads of {piece}: {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    const TOKENS: &[&str] = &[
        "From a@b.example Tue Jun  4 10:00:00 2024\n",
        "From x Tue Jun  4 10:00:00 2024\r\n",
        "From a@b.example Tue Jun  4 10:00:00 2024",
        "From ",
        "From",
        ">From ",
        "\n",
        "\r\n",
        "\r",
        "\n\n",
        " \n",
        "Content-Length: ",
        "content-length:",
        "0",
        "1",
        "2",
        "12",
        "40",
        "Subject: x\n",
        "body line\n",
        "a long body line that goes on and on and on past any tiny window\n",
        "Return-Path: <a@b.example>\n",
        "\tfolded\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn splits_like_the_line_by_line_reader(
            tokens in proptest::collection::vec(0..TOKENS.len(), 0..40)
        ) {
            let input: Vec<u8> = tokens.iter().flat_map(|&t| TOKENS[t].bytes()).collect();
            assert_same_as_reference(&input);
        }
    }

    #[test]
    fn content_length_cases_split_like_the_reference() {
        let bodies = [
            CL_BODY,
            "",
            "x",
            "\n",
            "a\r\n\r\nFrom x Tue Jun  4 10:00:00 2024\r\n",
            "no newline at the end",
        ];
        for body in bodies {
            for len in 0..body.len() + 50 {
                for tail in [
                    "",
                    "\n",
                    "From b@two.example Tue Jun  4 10:00:01 2024\nX: 2\n\n",
                ] {
                    let mbox = format!(
                        "From a@one.example Tue Jun  4 10:00:00 2024\nContent-Length: {len}\n\n{body}{tail}"
                    );
                    assert_same_as_reference(mbox.as_bytes());
                    assert_same_as_reference(with_length(len, body).as_slice());
                }
            }
        }
    }

    #[test]
    fn replay_bound_splits_like_the_reference() {
        // A Content-Length that agrees but covers a possible separator followed by more
        // than MAX_REPLAY_BYTES, and one just within it.
        for extra in [-100i64, 100] {
            let filler_len = (MAX_REPLAY_BYTES as i64 + extra) as usize;
            let mut body = b"x\n\nFrom c@d.example Tue Jun  4 10:00:00 2024\nY: 1\n\n".to_vec();
            let line = b"filler filler filler filler filler filler filler filler filler fi\n";
            while body.len() < filler_len {
                body.extend_from_slice(line);
            }
            let mut mbox = format!(
                "From a@one.example Tue Jun  4 10:00:00 2024\nContent-Length: {}\n\n",
                body.len()
            )
            .into_bytes();
            mbox.extend_from_slice(&body);
            mbox.extend_from_slice(b"From b@two.example Tue Jun  4 10:00:01 2024\nZ: 2\n\n");
            let want = summary(reference_split(&mbox));
            assert_eq!(summary(split(&mbox)), want);
            assert_eq!(summary(windowed_split(&mbox, 4096, 1000)), want);
            let envelopes: Vec<&str> = want.iter().map(|m| m.0.as_str()).collect();
            let trusted = extra < 0;
            assert_eq!(envelopes.contains(&"c@d.example"), !trusted, "{extra}");
        }
    }

    #[test]
    fn oversized_header_splits_like_the_reference() {
        let mut mbox = b"From a@b.example Tue Jun  4 10:00:00 2024\nX: 1\n".to_vec();
        for _ in 0..(MAX_HEADER_BYTES / 39 + 10) {
            mbox.extend_from_slice(b"X-Filler: abcdefghijklmnopqrstuvwxyz01\n");
        }
        mbox.extend_from_slice(b"\nbody\n\nFrom c@d.example Tue Jun  4 10:00:00 2024\nY: 2\n\n");
        let want = summary(reference_split(&mbox));
        assert!(want[0].2, "oversized");
        assert_eq!(summary(split(&mbox)), want);
        assert_eq!(summary(windowed_split(&mbox, 4096, 999)), want);
    }

    #[test]
    fn newlines_are_counted_in_every_block_size() {
        // Every byte value next to newlines, and runs of newlines that fill a lane.
        let mut text: Vec<u8> = (0..10_000u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { (i % 256) as u8 })
            .collect();
        text.extend(std::iter::repeat_n(b'\n', 10_000));
        for len in [0, 1, 7, 8, 9, 31, 255 * 8, 255 * 8 + 9, 20_000] {
            let want = text[..len].iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_newlines(&text[..len]), want, "{len}");
        }
    }
    #[test]
    fn content_length_is_the_first_numeric_field() {
        assert_eq!(content_length(b"Content-Length: 12\n"), Some(12));
        assert_eq!(
            content_length(b"X: 1\ncontent-LENGTH:  7 \r\nContent-Length: 9\n"),
            Some(7)
        );
        assert_eq!(
            content_length(b"Content-Length: many\nContent-Length: 5"),
            Some(5)
        );
        assert_eq!(
            content_length(b"X-Content-Length: 5\n Content-Length: 5\n"),
            None
        );
        assert_eq!(content_length(b""), None);
    }
    #[test]
    fn times_have_two_or_three_short_numeric_parts() {
        for ok in ["10:00", "1:2", "10:00:00", "0:00:0"] {
            assert!(is_time(ok.as_bytes()), "{ok}");
        }
        for no in [
            "",
            "10",
            "10:",
            ":10",
            "10:00:00:00",
            "100:00",
            "1a:00",
            "10::00",
            "2024",
        ] {
            assert!(!is_time(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn a_long_from_line_is_no_separator_and_no_limit_overflows() {
        let long = format!(
            "From a@b.example {} Tue Jun  4 10:00:00 2024\n",
            "x".repeat(100)
        );
        let mbox = format!("From a@b.example Tue Jun  4 10:00:00 2024\nX: 1\n\n{long}Y: 2\n");
        let items = |max: usize| {
            let mut r = MboxReader::with_buffer(mbox.as_bytes(), 16).with_limit(max);
            std::iter::from_fn(|| r.next_item().unwrap()).count()
        };
        assert_eq!(items(usize::MAX), 2, "a separator under the limit");
        assert_eq!(items(64), 1, "a longer one is body text");
    }
}

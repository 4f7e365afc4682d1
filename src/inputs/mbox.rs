//! The project's own mbox splitter (SPEC §3). mail-parser's iterator splits on every line
//! that starts with `From `; here a `From ` line starts a message only at the start of the
//! file or after an empty line, and only when it ends in a date (a time and a year), so an
//! unquoted `From the warehouse: ...` paragraph in a body stays in the body. Only
//! header blocks are kept: bodies are skipped as they stream past, so `>From ` unquoting
//! (mboxrd) never matters and memory stays bounded by the largest header block.
//!
//! mboxcl and mboxcl2 do not quote `From ` in bodies and say where a body ends with
//! `Content-Length`. A length is trusted only when the bytes after it agree (end of file,
//! or an optional blank line and then a `From ` line); otherwise what was read past the
//! header is replayed and the blank-line rule decides, so a wrong or forged length in an
//! ordinary mbox costs nothing.

use std::io::{self, BufRead};

/// A header block larger than this is not a header block; the message counts as malformed.
pub const MAX_HEADER_BYTES: usize = 4 << 20;

/// How much of a body that a `Content-Length` covers is kept for replay, from the first
/// line inside it that could start a message. Beyond this the length is not trusted.
const MAX_REPLAY_BYTES: usize = 16 << 20;

/// One message's envelope line and header block.
#[derive(Debug, Default)]
pub struct MboxMessage {
    /// The sender written on the `From ` line.
    pub envelope: String,
    /// Header lines up to (excluding) the blank line; empty when oversized.
    pub header: Vec<u8>,
    /// True when the header block exceeded [`MAX_HEADER_BYTES`].
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

pub struct MboxReader<R> {
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

impl<R: BufRead> MboxReader<R> {
    pub fn new(reader: R) -> Self {
        MboxReader {
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
                if held.len() > MAX_REPLAY_BYTES {
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

/// The value of the first `Content-Length:` header field, if it is a number.
fn content_length(header: &[u8]) -> Option<u64> {
    const NAME: &[u8] = b"content-length:";
    header.split(|&b| b == b'\n').find_map(|line| {
        let head = line.get(..NAME.len())?;
        if !head.eq_ignore_ascii_case(NAME) {
            return None;
        }
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

fn is_time(t: &[u8]) -> bool {
    let parts: Vec<&[u8]> = t.split(|b| *b == b':').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
}

fn is_blank(line: &[u8]) -> bool {
    matches!(line, b"\n" | b"\r\n")
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
}

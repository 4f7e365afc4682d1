//! The syslog line prefix of MTA logs: traditional `Mmm dd hh:mm:ss host prog[pid]: msg`
//! and RFC 3339 `2026-11-28T10:00:01.123456+00:00 host prog[pid]: msg`, and journalctl's
//! text forms (`short-full`/`with-unit` `Sat 2026-11-28 10:00:01 UTC`, `short-unix`
//! `1764324001.123456`; the others are one of the first two).
//!
//! This runs on every line of multi-gigabyte logs and also decides format detection, so it
//! works on bytes by hand (no regex, no allocation) and insists on a real timestamp: a mail
//! header line such as `Received: from ...` must never pass for a log line. Every index it
//! slices at is the position of an ASCII byte, hence a char boundary, whatever the input.

use std::borrow::Cow;

/// A log line split into the parts the extractors dispatch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    pub host: &'a str,
    /// The program name without `[pid]`, e.g. `postfix/smtpd`, `postfix-in/smtpd`.
    pub program: &'a str,
    /// The process id between the brackets, empty when the line has none. Sendmail logs
    /// its AUTH lines before a queue id exists, so only the pid ties them to the message.
    pub pid: &'a str,
    /// Everything after `prog[pid]: `.
    pub message: &'a str,
}

/// The same parts as [`SyslogLine`], cut from raw bytes. The bulk reader splits lines
/// before any UTF-8 check, so that the many lines it dismisses are never validated; every
/// cut is at an ASCII byte, so a piece converted on its own reads exactly as that piece of
/// the whole line converted (lossily or not) would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawSyslogLine<'a> {
    pub host: &'a [u8],
    pub program: &'a [u8],
    pub pid: &'a [u8],
    pub message: &'a [u8],
}

impl<'a> RawSyslogLine<'a> {
    /// Views the parts of a [`SyslogLine`] as bytes. Part of the library API the fuzz
    /// targets use to compare the byte splitter with the text one.
    pub fn of(line: &SyslogLine<'a>) -> Self {
        RawSyslogLine {
            host: line.host.as_bytes(),
            program: line.program.as_bytes(),
            pid: line.pid.as_bytes(),
            message: line.message.as_bytes(),
        }
    }
}

/// Bytes as text, invalid UTF-8 replaced by `U+FFFD` (as `String::from_utf8_lossy` does,
/// without its slower scan when the bytes are valid, which they nearly always are).
pub fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Splits a line; `None` when it has no recognisable syslog prefix.
pub fn split(line: &str) -> Option<SyslogLine<'_>> {
    let raw = split_bytes(line.as_bytes())?;
    // Each part is a sub-slice of `line` cut at ASCII bytes (or after a whole BOM), so its
    // offsets are char boundaries.
    let piece = |part: &[u8]| {
        let start = part.as_ptr() as usize - line.as_ptr() as usize;
        &line[start..start + part.len()]
    };
    Some(SyslogLine {
        host: piece(raw.host),
        program: piece(raw.program),
        pid: piece(raw.pid),
        message: piece(raw.message),
    })
}

/// [`split`] on bytes. Every part it returns is a sub-slice of `line`.
pub fn split_bytes(line: &[u8]) -> Option<RawSyslogLine<'_>> {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let b = &line[..end];
    let mut pos = 0;
    if b.first() == Some(&b'<') {
        pos = pri_end(b)?;
        if b[pos..].starts_with(b"1 ") {
            return split_5424(b, pos + 2);
        }
    }
    pos = timestamp_end(b, pos)?;
    pos = skip_spaces(b, pos);
    if pos == 0 || b.get(pos - 1) != Some(&b' ') {
        return None;
    }
    // Some syslog daemons (BSD syslogd `-v`, some appliances) write `<facility.level>`
    // between the time and the host: `Jun 17 14:37:39 <mail.info> robin sm-mta[2794]: ...`.
    if b.get(pos) == Some(&b'<') {
        let end = token_end(b, pos);
        if b[end - 1] == b'>' && b[pos..end].contains(&b'.') {
            pos = skip_spaces(b, end);
        }
    }
    let host_end = token_end(b, pos);
    if host_end == pos {
        return None;
    }
    // Some relays drop the host name: `Jun  1 19:00:55 postfix/smtpd[42]: ...`.
    if b[host_end - 1] == b':' {
        return tag_and_message(b, pos, &b[pos..pos]);
    }
    let host = &b[pos..host_end];
    let tag = skip_spaces(b, host_end);
    if tag == host_end {
        return None;
    }
    tag_and_message(b, tag, host)
}

/// `<PRI>` with one to three digits; returns the index after `>`.
fn pri_end(b: &[u8]) -> Option<usize> {
    let digits = b[1..].iter().take(4).position(|c| !c.is_ascii_digit())?;
    (digits > 0 && digits <= 3 && b[1 + digits] == b'>').then_some(digits + 2)
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    pos
}

fn token_end(b: &[u8], pos: usize) -> usize {
    match b.get(pos..) {
        Some(rest) => pos + memchr::memchr(b' ', rest).unwrap_or(rest.len()),
        None => pos,
    }
}

fn digits_at(b: &[u8], pos: usize, n: usize) -> bool {
    b.len() >= pos + n && b[pos..pos + n].iter().all(u8::is_ascii_digit)
}

/// Any timestamp form starting at `pos`; returns the index just after it.
fn timestamp_end(b: &[u8], pos: usize) -> Option<usize> {
    if digits_at(b, pos, 4) {
        rfc3339_end(b, pos).or_else(|| unix_end(b, pos))
    } else if is_month(b.get(pos..pos + 3)?) {
        bsd_end(b, pos)
    } else {
        full_end(b, pos)
    }
}

/// journalctl `short-unix`: `SECONDS.MICROS`, the fraction required (a bare number is too
/// common a start of a line to be taken for a time).
fn unix_end(b: &[u8], pos: usize) -> Option<usize> {
    let mut p = pos;
    while b.get(p).is_some_and(u8::is_ascii_digit) {
        p += 1;
    }
    (p - pos <= 12 && b.get(p) == Some(&b'.') && digits_at(b, p + 1, 1)).then(|| fraction_end(b, p))
}

fn is_weekday(d: &[u8]) -> bool {
    matches!(
        d,
        b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun"
    )
}

/// journalctl `short-full` and `with-unit`: `Www YYYY-MM-DD hh:mm:ss[.frac] ZONE`, the zone
/// an abbreviation (`UTC`, `CET`) or an offset (`+03`, `+0530`).
fn full_end(b: &[u8], pos: usize) -> Option<usize> {
    if !is_weekday(b.get(pos..pos + 3)?) || b.get(pos + 3) != Some(&b' ') {
        return None;
    }
    let d = pos + 4;
    let date = digits_at(b, d, 4)
        && b.get(d + 4) == Some(&b'-')
        && digits_at(b, d + 5, 2)
        && b.get(d + 7) == Some(&b'-')
        && digits_at(b, d + 8, 2)
        && b.get(d + 10) == Some(&b' ');
    if !date {
        return None;
    }
    let p = fraction_end(b, clock_end(b, d + 11)?);
    if b.get(p) != Some(&b' ') {
        return None;
    }
    let zone = token_end(b, p + 1);
    let len = zone - (p + 1);
    let zone_ok = (1..=6).contains(&len)
        && b[p + 1..zone]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-'));
    zone_ok.then_some(zone)
}

fn is_month(m: &[u8]) -> bool {
    matches!(
        m,
        b"Jan"
            | b"Feb"
            | b"Mar"
            | b"Apr"
            | b"May"
            | b"Jun"
            | b"Jul"
            | b"Aug"
            | b"Sep"
            | b"Oct"
            | b"Nov"
            | b"Dec"
    )
}

/// `Mmm dd hh:mm:ss` with the day space-padded (or not), optional fraction.
fn bsd_end(b: &[u8], pos: usize) -> Option<usize> {
    if !is_month(b.get(pos..pos + 3)?) {
        return None;
    }
    // What syslog daemons write, `Mmm dd ` or `Mmm  d `, at fixed offsets.
    if let Some(&[b' ', d1, d2, b' ']) = b.get(pos + 3..pos + 7)
        && (d1 == b' ' || d1.is_ascii_digit())
        && d2.is_ascii_digit()
    {
        return Some(fraction_end(b, clock_end(b, pos + 7)?));
    }
    let mut p = pos + 3;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p = skip_spaces(b, p);
    let day_len = b[p..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if day_len == 0 || day_len > 2 || b.get(p + day_len) != Some(&b' ') {
        return None;
    }
    p += day_len + 1;
    p = clock_end(b, p)?;
    Some(fraction_end(b, p))
}

/// `hh:mm:ss`
fn clock_end(b: &[u8], p: usize) -> Option<usize> {
    let c: &[u8; 8] = b.get(p..p + 8)?.try_into().ok()?;
    let d = |i: usize| c[i].is_ascii_digit();
    let ok = d(0) && d(1) && c[2] == b':' && d(3) && d(4) && c[5] == b':' && d(6) && d(7);
    ok.then_some(p + 8)
}

fn fraction_end(b: &[u8], p: usize) -> usize {
    if b.get(p) == Some(&b'.') && digits_at(b, p + 1, 1) {
        let mut q = p + 1;
        while q < b.len() && b[q].is_ascii_digit() {
            q += 1;
        }
        q
    } else {
        p
    }
}

/// `YYYY-MM-DDThh:mm:ss[.frac][Z|+hh:mm|+hhmm]` (journalctl `short-iso` omits the colon).
fn rfc3339_end(b: &[u8], pos: usize) -> Option<usize> {
    let date = digits_at(b, pos, 4)
        && b.get(pos + 4) == Some(&b'-')
        && digits_at(b, pos + 5, 2)
        && b.get(pos + 7) == Some(&b'-')
        && digits_at(b, pos + 8, 2)
        && matches!(b.get(pos + 10), Some(b'T' | b't'));
    if !date {
        return None;
    }
    let p = fraction_end(b, clock_end(b, pos + 11)?);
    match b.get(p) {
        Some(b'Z' | b'z') => Some(p + 1),
        Some(b'+' | b'-') if digits_at(b, p + 1, 2) => {
            if b.get(p + 3) == Some(&b':') && digits_at(b, p + 4, 2) {
                Some(p + 6)
            } else if digits_at(b, p + 3, 2) {
                Some(p + 5)
            } else {
                None
            }
        }
        _ => Some(p),
    }
}

/// `prog[pid]: msg` or `prog: msg` starting at `pos`, with Solaris' `[ID n facility.level]`
/// removed from the message.
fn tag_and_message<'a>(b: &'a [u8], pos: usize, host: &'a [u8]) -> Option<RawSyslogLine<'a>> {
    // memchr's vector search beats a byte loop from about a dozen bytes on, and program
    // names (`postfix/submission/smtpd`) are longer than that.
    let mut p = pos + memchr::memchr3(b'[', b':', b' ', &b[pos..]).unwrap_or(b.len() - pos);
    if p == pos {
        return None;
    }
    let program = &b[pos..p];
    let mut pid = &b[p..p];
    if b.get(p) == Some(&b'[') {
        let close = memchr::memchr2(b']', b' ', &b[p..])?;
        if b[p + close] != b']' {
            return None;
        }
        pid = &b[p + 1..p + close];
        p += close + 1;
    }
    if b.get(p) != Some(&b':') {
        return None;
    }
    p += 1;
    if b.get(p) == Some(&b' ') {
        p += 1;
    }
    let mut message = &b[p..];
    if let Some(rest) = message.strip_prefix(b"[ID ")
        && let Some(close) = memchr::memchr(b']', rest)
    {
        message = rest[close + 1..]
            .strip_prefix(b" ")
            .unwrap_or(&rest[close + 1..]);
    }
    Some(RawSyslogLine {
        host,
        program,
        pid,
        message,
    })
}

/// RFC 5424 after `<PRI>1 `: `TIMESTAMP HOST APP PROCID MSGID SD [MSG]`.
fn split_5424(b: &[u8], pos: usize) -> Option<RawSyslogLine<'_>> {
    let mut fields = [(0usize, 0usize); 5];
    let mut p = pos;
    for field in &mut fields {
        let end = token_end(b, p);
        if end == p || b.get(end) != Some(&b' ') {
            return None;
        }
        *field = (p, end);
        p = end + 1;
    }
    let nil = |(s, e): (usize, usize)| if &b[s..e] == b"-" { &b[s..s] } else { &b[s..e] };
    let host = nil(fields[1]);
    let program = nil(fields[2]);
    p = sd_end(b, p)?;
    let message = match b.get(p) {
        None => &b[p..],
        Some(b' ') => &b[p + 1..],
        Some(_) => return None,
    };
    let message = message
        .strip_prefix("\u{feff}".as_bytes())
        .unwrap_or(message);
    Some(RawSyslogLine {
        host,
        program,
        pid: nil(fields[3]),
        message,
    })
}

/// Structured data: `-` or one or more `[id param="value" ...]` elements, where `]`, `"`
/// and `\` inside values are backslash-escaped.
fn sd_end(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos) {
        Some(b'-') => return Some(pos + 1),
        Some(b'[') => {}
        _ => return None,
    }
    let mut p = pos;
    while b.get(p) == Some(&b'[') {
        let mut in_quotes = false;
        let mut escaped = false;
        p += 1;
        loop {
            let c = *b.get(p)?;
            p += 1;
            match c {
                _ if escaped => escaped = false,
                b'\\' if in_quotes => escaped = true,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> (&str, &str, &str) {
        let l = split(line).unwrap_or_else(|| panic!("no split: {line:?}"));
        (l.host, l.program, l.message)
    }

    #[test]
    fn bsd_timestamps() {
        assert_eq!(
            parts("Jun  1 19:00:55 mx1 postfix/smtpd[123]: ABCDE12345: client=a[192.0.2.1]"),
            ("mx1", "postfix/smtpd", "ABCDE12345: client=a[192.0.2.1]")
        );
        assert_eq!(
            parts("Aug 13 15:45:46 server postfix/qmgr[9]: 00ADB3C0899: removed"),
            ("server", "postfix/qmgr", "00ADB3C0899: removed")
        );
        assert_eq!(parts("Jun 1 19:00:55 h p[1]: m"), ("h", "p", "m"));
        assert_eq!(parts("Jun  1 19:00:55.123 h p[1]: m"), ("h", "p", "m"));
        assert_eq!(parts("Jun  1 19:00:55 h p[1]: m\r\n"), ("h", "p", "m"));
    }

    #[test]
    fn rfc3339_timestamps() {
        let line = "2023-03-14T00:08:33.579644+01:00 helga postfix/10025/smtpd[302614]: \
                    4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]";
        assert_eq!(
            parts(line),
            (
                "helga",
                "postfix/10025/smtpd",
                "4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]"
            )
        );
        assert_eq!(
            parts("2023-03-14T00:08:33Z h postfix/qmgr[1]: x"),
            ("h", "postfix/qmgr", "x")
        );
        assert_eq!(parts("2023-03-14T00:08:33-0500 h p[1]: x"), ("h", "p", "x"));
        assert_eq!(parts("2023-03-14T00:08:33.5 h p: x"), ("h", "p", "x"));
        assert!(split("2023-03-14T00:08:33+01 h p[1]: x").is_none());
        assert!(split("2023-03-14 00:08:33 h p[1]: x").is_none());
    }

    #[test]
    fn journalctl_text_forms() {
        let m = "postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]";
        let want = ("mx", "postfix/smtpd", "4A1B2C3D4E: client=x[192.0.2.1]");
        for stamp in [
            "Jun 04 10:01:00",                  // short
            "2024-06-04T10:01:00+0000",         // short-iso
            "Jun 04 10:01:00.123456",           // short-precise
            "2024-06-04T10:01:00.123456+00:00", // short-iso-precise
            "Tue 2024-06-04 10:01:00 UTC",      // short-full
            "Tue 2024-06-04 10:01:00 +0530",    // short-full, zone without a name
            "1717495260.123456",                // short-unix
        ] {
            assert_eq!(parts(&format!("{stamp} mx {m}")), want, "{stamp}");
        }
        assert_eq!(
            parts("Tue 2024-06-04 10:01:00 CEST mx postfix@-.service[100]: X: removed"),
            ("mx", "postfix@-.service", "X: removed"),
            "with-unit names the unit"
        );
        for line in [
            "1717495260 mx p[1]: m",
            "Tue 2024-06-04 10:01:00 VERYLONGZONE mx p[1]: m",
            "Xyz 2024-06-04 10:01:00 UTC mx p[1]: m",
            "2026-11-28 10:00:01 10HmaX-000000005vi-0000 <= a@b.example H=[192.0.2.1] P=esmtp",
        ] {
            assert!(split(line).is_none(), "{line}");
        }
    }

    #[test]
    fn without_pid_and_instance_names() {
        assert_eq!(
            parts("Jun  1 19:00:55 h postfix/smtpd: NOQUEUE: x"),
            ("h", "postfix/smtpd", "NOQUEUE: x")
        );
        for prog in [
            "postfix-in/smtpd",
            "postfix/submission/smtpd",
            "postfix-smo/submission/smtpd",
            "postfix/smtps/smtpd",
            "postfix/amavis/smtp",
        ] {
            let line = format!("Jun  1 19:00:55 h {prog}[77]: msg: here");
            let l = split(&line).unwrap();
            assert_eq!((l.program, l.message), (prog, "msg: here"));
        }
        assert_eq!(parts("Jun  1 19:00:55 h p[1]:"), ("h", "p", ""));
        assert_eq!(
            parts("Jun  1 19:00:55 postfix/qmgr[1]: X: removed"),
            ("", "postfix/qmgr", "X: removed")
        );
    }

    #[test]
    fn solaris_id_and_priority_prefixes() {
        assert_eq!(
            parts("Jun  1 19:00:55 sol postfix/smtpd[1]: [ID 197553 mail.info] ABCDE: removed"),
            ("sol", "postfix/smtpd", "ABCDE: removed")
        );
        assert_eq!(
            parts("<22>Jun  1 19:00:55 h postfix/qmgr[1]: m"),
            ("h", "postfix/qmgr", "m")
        );
        assert_eq!(
            parts("<22>1 2023-03-14T00:08:33.5Z mx postfix/qmgr 42 - - ABCDE: removed"),
            ("mx", "postfix/qmgr", "ABCDE: removed")
        );
        assert_eq!(
            parts(r#"<22>1 2023-03-14T00:08:33Z mx postfix/qmgr 42 ID1 [a x="1\]" y="2"][b] m"#),
            ("mx", "postfix/qmgr", "m")
        );
        assert_eq!(parts("<22>1 - - app - - -"), ("", "app", ""));
        assert_eq!(
            parts("Jun 17 14:37:39 <mail.info> robin sm-mta[2794]: 55HIbcGI002794: from=<a@b>"),
            ("robin", "sm-mta", "55HIbcGI002794: from=<a@b>")
        );
        assert!(split("<22>1 2023 mx app 1 - [unterminated").is_none());
        assert!(split("<2222>Jun  1 19:00:55 h p[1]: m").is_none());
    }

    #[test]
    fn garbage_is_none() {
        for line in [
            "",
            "Received: from mail.example.org (mail.example.org [192.0.2.1])",
            "From MAILER-DAEMON Thu Jun  1 19:00:55 2023",
            "Foo  1 19:00:55 h p[1]: m",
            "Jun  1 19:00 h p[1]: m",
            "Jun 123 19:00:55 h p[1]: m",
            "Jun  1 19:00:55",
            "Jun  1 19:00:55 h",
            "Jun  1 19:00:55 h p[1 m",
            "Jun  1 19:00:55 h p no colon",
            "Jun  1 19:00:55 h [1]: m",
            "2023-03-14T00:08:33.579644+01:00",
            "2023-13",
            "<",
            "<>",
            "<1",
            "# failJSON: { \"time\": \"2005-06-01T19:00:55\" }",
        ] {
            assert!(split(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let alphabet: Vec<char> = "Jun 1:0-9T+Z<>[]\" \\.ab/é€\u{feff}ID".chars().collect();
        let prefixes = [
            "",
            "Jun  1 19:00:55 ",
            "2023-03-14T00:08:33.5+01:00 ",
            "<13>",
            "<13>1 ",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut s = prefixes[(next() % prefixes.len() as u64) as usize].to_string();
            for _ in 0..next() % 40 {
                s.push(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            let _ = split(&s);
        }
    }
}

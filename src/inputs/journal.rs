//! `journalctl -o json` (and `-o json-seq`) read as a mail log (docs/design.md §3): each object is
//! turned back into the syslog line it stands for, `TIME HOST IDENT[PID]: MESSAGE` with an
//! RFC 3339 UTC time, and the log reader takes it from there, so joins, rotation sets and
//! once-per-record counting work exactly as for `/var/log/mail.log`.
//!
//! The journal stores any field as text or, when it is not valid UTF-8 or holds control
//! characters, as an array of bytes; a field set twice becomes an array of values (the
//! first is taken). A line that is not a journal object is passed through unchanged, so a
//! stray text line still reads as whatever it is.
//!
//! The text forms (`short`, `short-iso`, `short-precise`, `short-iso-precise`,
//! `short-full`, `short-unix`, `with-unit`) are syslog lines and read by
//! [`crate::extract::syslog`]; `-o cat` has no program names and is refused
//! ([`looks_like_cat`]).

use std::io::{self, BufRead, Read};

use serde_json::Value;

use crate::model::date::civil_from_days;

/// True when the first non-blank line of `head` is a journal JSON object.
pub fn is_json(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    let first = first.trim_start_matches(['\u{1e}', ' ']);
    first.starts_with('{')
        && ["\"__REALTIME_TIMESTAMP\"", "\"MESSAGE\"", "\"__CURSOR\""]
            .iter()
            .any(|field| first.contains(field))
}

/// True when `head` reads like `journalctl -o cat` output of a mail server: message texts
/// (`4A1B2C3D4E: client=...`, `NOQUEUE: reject: ...`, `connect from ...`) with no time,
/// host or program in front.
pub fn looks_like_cat(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).take(20);
    let mut seen = 0;
    let all = lines.all(|l| {
        seen += 1;
        is_postfix_text(l)
    });
    all && seen > 0
}

fn is_postfix_text(line: &str) -> bool {
    const STARTS: [&str; 7] = [
        "NOQUEUE: ",
        "connect from ",
        "disconnect from ",
        "lost connection ",
        "warning: ",
        "statistics: ",
        "Anonymous TLS ",
    ];
    if STARTS.iter().any(|s| line.starts_with(s)) {
        return true;
    }
    // `QUEUEID: field=...`: a queue id is letters and digits only.
    match line.split_once(": ") {
        Some((qid, rest)) => {
            qid.len() >= 5
                && qid.bytes().all(|b| b.is_ascii_alphanumeric())
                && (rest.contains('=') || rest == "removed")
        }
        None => false,
    }
}

/// The message for a `-o cat` input.
pub const CAT_REFUSED: &str = "journalctl -o cat output has no program names, so mail \
    lines cannot be told apart; export with `journalctl -o short-iso` (or `-o json`)";

/// Reads journal JSON lines and yields syslog lines.
pub struct JsonToSyslog<R> {
    inner: R,
    line: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
}

impl<R: BufRead> JsonToSyslog<R> {
    pub fn new(inner: R) -> Self {
        JsonToSyslog {
            inner,
            line: Vec::new(),
            out: Vec::new(),
            pos: 0,
        }
    }

    /// Converts the next input line into `out`; false at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        self.out.clear();
        self.pos = 0;
        if self.inner.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(false);
        }
        match to_syslog(&self.line) {
            Some(text) => {
                self.out.extend_from_slice(text.as_bytes());
                self.out.push(b'\n');
            }
            None => {
                self.out.extend_from_slice(&self.line);
                if self.out.last() != Some(&b'\n') {
                    self.out.push(b'\n');
                }
            }
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for JsonToSyslog<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if !self.next_line()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One journal object as a syslog line; `None` when the line is not one.
pub fn to_syslog(line: &[u8]) -> Option<String> {
    let mut line = line;
    while let [b'\x1e' | b' ' | b'\t', rest @ ..] = line {
        line = rest;
    }
    let value: Value = serde_json::from_slice(line).ok()?;
    let obj = value.as_object()?;
    let field = |name: &str| obj.get(name).and_then(field_text);
    let message = field("MESSAGE")?;
    let micros: u64 = field("__REALTIME_TIMESTAMP")?.trim().parse().ok()?;
    let ident = field("SYSLOG_IDENTIFIER")
        .or_else(|| field("_COMM"))
        .unwrap_or_else(|| "unknown".into());
    let host = field("_HOSTNAME").unwrap_or_default();
    let pid = field("SYSLOG_PID").or_else(|| field("_PID"));
    let mut out = rfc3339_utc(micros);
    for part in [" ", &one_token(&host), " ", &one_token(&ident)] {
        out.push_str(part);
    }
    if let Some(pid) = pid {
        out.push('[');
        out.push_str(&one_token(&pid));
        out.push(']');
    }
    out.push_str(": ");
    // A message holding line breaks stays one line, as syslog writes it.
    let message = message.trim_end_matches(['\n', '\r']);
    out.extend(
        message
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
    );
    Some(out)
}

/// A field's value: a string, an array of bytes, or the first of several values.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => items.first().and_then(field_text),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Host and program names hold no spaces in a syslog line.
fn one_token(s: &str) -> String {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() { "-".into() } else { t }
}

/// Microseconds since the epoch as `YYYY-MM-DDThh:mm:ss.ffffff+00:00`.
pub fn rfc3339_utc(micros: u64) -> String {
    let secs = micros / 1_000_000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        s / 3600,
        s / 60 % 60,
        s % 60,
        micros % 1_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_become_syslog_lines() {
        let line = br#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1717495260123456","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"100","MESSAGE":"4A1B2C3D4E: client=x[192.0.2.1]"}"#;
        assert_eq!(
            to_syslog(line).unwrap(),
            "2024-06-04T10:01:00.123456+00:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]"
        );
        assert!(is_json(line));
        let line = crate::inputs::journal::to_syslog(line).unwrap();
        assert!(crate::extract::logs::is_log_line(&line), "{line}");
    }

    #[test]
    fn byte_arrays_repeated_fields_and_missing_ones() {
        let msg: Vec<String> = "AB12345: removed\n"
            .bytes()
            .map(|b| b.to_string())
            .collect();
        let line = format!(
            r#"{{"__REALTIME_TIMESTAMP":"0","SYSLOG_IDENTIFIER":["postfix/qmgr","x"],"MESSAGE":[{}]}}"#,
            msg.join(",")
        );
        assert_eq!(
            to_syslog(line.as_bytes()).unwrap(),
            "1970-01-01T00:00:00.000000+00:00 - postfix/qmgr: AB12345: removed"
        );
        assert_eq!(to_syslog(br#"{"MESSAGE":"x"}"#), None, "no time");
        assert_eq!(to_syslog(b"not json"), None);
        assert_eq!(to_syslog(b"[1,2]"), None);
    }

    #[test]
    fn the_reader_passes_other_lines_through() {
        let input = b"\x1e{\"__REALTIME_TIMESTAMP\":\"86400000000\",\"_HOSTNAME\":\"h\",\"SYSLOG_IDENTIFIER\":\"p\",\"MESSAGE\":\"m\"}\nplain line";
        let mut out = String::new();
        JsonToSyslog::new(&input[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "1970-01-02T00:00:00.000000+00:00 h p: m\nplain line\n");
    }

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(&rfc3339_utc(951_782_400_000_000)[..10], "2000-02-29");
        assert_eq!(
            &rfc3339_utc(1_798_761_599_000_000)[..19],
            "2026-12-31T23:59:59"
        );
    }

    #[test]
    fn cat_output_is_recognised() {
        assert!(looks_like_cat(
            b"4A1B2C3D4E: client=x[192.0.2.1]\nconnect from x[192.0.2.1]\n4A1B2C3D4E: removed\n"
        ));
        assert!(!looks_like_cat(b"just some text\n"));
        assert!(!looks_like_cat(b""));
        assert!(!looks_like_cat(
            b"Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\n"
        ));
    }
}

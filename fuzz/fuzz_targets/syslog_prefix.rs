//! The syslog prefix splitter (traditional and RFC 3339 timestamps, `<PRI>`, RFC 5424): the
//! byte splitter and the text splitter agree on every valid UTF-8 line, and every part is a
//! piece of the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::extract::syslog;

fn inside(part: &[u8], line: &[u8]) -> bool {
    let (start, end) = (line.as_ptr() as usize, line.as_ptr() as usize + line.len());
    let p = part.as_ptr() as usize;
    part.is_empty() || (start <= p && p + part.len() <= end)
}

fuzz_target!(|data: &[u8]| {
    let raw = syslog::split_bytes(data);
    if let Some(raw) = &raw {
        for part in [raw.host, raw.program, raw.pid, raw.message] {
            assert!(inside(part, data));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let split = syslog::split(text);
        assert_eq!(split.is_some(), raw.is_some());
        if let (Some(s), Some(r)) = (split, raw) {
            assert_eq!(syslog::RawSyslogLine::of(&s), r);
        }
    }
});

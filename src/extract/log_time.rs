//! The time a log line was written, as far as the postfix joiner needs it: open queue ids
//! are evicted after a window of *log* time (issue 14.3), so memory stays bounded on logs
//! whose `removed` lines are missing (filtered, truncated, another MTA setup) whatever their
//! length, and a log read a year later behaves as it did on the day.
//!
//! Traditional syslog stamps carry no year, so [`LogClock`] does not turn stamps into dates:
//! it advances by the progress the stamps show (a jump back of more than half a year is
//! taken as the turn of a year; a small one, lines of several hosts interleaved, as none).
//! The reports' dates come from [`LogTime::date`], which applies the year rule of
//! `crate::model::date` from the file's modification time.

/// A line's timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTime {
    /// `Mmm dd hh:mm:ss`: seconds since January 1st of a year nobody wrote down, laid out
    /// as a leap year.
    Yearless(u32),
    /// RFC 3339: seconds since the Unix epoch, in UTC.
    Absolute(u64),
}

use crate::model::When;
use crate::model::date::{self, UtcTime, Yearless};

const DAY: u32 = 86_400;
/// The yearless calendar counts Feb 29 (a leap year's layout), so a stamp turns back into
/// its month and day exactly; a non-leap year's Feb 28 to Mar 1 reads as two days, which
/// a window of days does not notice.
const YEAR: u32 = 366 * DAY;

/// Day of the (leap) year each month starts on.
const MONTH_START: [u32; 12] = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335];

/// The timestamp a syslog line starts with (after an optional `<PRI>` and RFC 5424 `1 `).
pub fn parse(line: &[u8]) -> Option<LogTime> {
    let mut b = line;
    if let Some(rest) = b.strip_prefix(b"<") {
        let digits = rest.iter().take(4).position(|c| !c.is_ascii_digit())?;
        b = rest[digits..].strip_prefix(b">")?;
        b = b.strip_prefix(b"1 ").unwrap_or(b);
    }
    if b.first().is_some_and(u8::is_ascii_digit) {
        let t = date::parse_rfc3339(b)?;
        Some(LogTime::Absolute(u64::try_from(t.0).unwrap_or(0)))
    } else {
        let s = date::parse_syslog(b)?;
        Some(LogTime::Yearless(
            (MONTH_START[s.month as usize - 1] + s.day - 1) * DAY + s.secs,
        ))
    }
}

impl LogTime {
    /// The stamp as a date: a yearless one through the year rule of docs/inputs.md, from
    /// `anchor`, the time its file was last written; `None` when no year fits it.
    pub fn date(self, anchor: UtcTime) -> Option<UtcTime> {
        match self {
            LogTime::Absolute(t) => Some(UtcTime(i64::try_from(t).unwrap_or(i64::MAX))),
            LogTime::Yearless(secs) => {
                let (day, secs) = (secs / DAY, secs % DAY);
                let month = MONTH_START.iter().rposition(|&m| m <= day)?;
                Yearless {
                    month: month as u32 + 1,
                    day: day - MONTH_START[month] + 1,
                    secs,
                }
                .infer(anchor)
            }
        }
    }
}

/// When the log line `line` was written: its stamp in any form the log reader accepts
/// (traditional syslog through the year rule from `anchor`, RFC 3339, journalctl's
/// `short-unix` and `short-full`). Exim's own mainlog writes local time without a zone; it
/// reads as UTC. A line whose stamp does not read is `Unparseable`.
pub fn line_date(line: &[u8], anchor: UtcTime) -> When {
    let date = match parse(line) {
        Some(t) => t.date(anchor),
        None => journal_date(line),
    };
    date.map_or(When::Unparseable, When::At)
}

/// journalctl `short-unix` (`1717495260.123456`) and `short-full`
/// (`Tue 2024-06-04 10:01:00 UTC`, a numeric zone too).
fn journal_date(line: &[u8]) -> Option<UtcTime> {
    let dot = line.iter().position(|c| !c.is_ascii_digit())?;
    if dot > 0 && line.get(dot) == Some(&b'.') {
        let secs = std::str::from_utf8(&line[..dot]).ok()?.parse().ok()?;
        return Some(UtcTime(secs));
    }
    let rest = line.get(4..)?;
    let t = date::parse_rfc3339(rest)?;
    let mut after = 19;
    if rest.get(after) == Some(&b'.') {
        after += 1 + rest[after + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
    }
    let zone = rest.get(after + 1..)?;
    let zone = &zone[..zone.iter().position(|&c| c == b' ').unwrap_or(zone.len())];
    let offset = date::zone_offset(std::str::from_utf8(zone).ok()?)?;
    Some(UtcTime(t.0 - offset))
}

/// Log time elapsed since the first stamp seen, in seconds, never going back.
#[derive(Clone, Debug, Default)]
pub struct LogClock {
    now: u32,
    last_yearless: Option<u32>,
    last_absolute: Option<u64>,
}

impl LogClock {
    /// Moves the clock on by what `t` says has passed; returns the new time.
    pub fn see(&mut self, t: LogTime) -> u32 {
        let passed = match t {
            LogTime::Yearless(t) => {
                let passed = match self.last_yearless {
                    Some(last) if t >= last => t - last,
                    // The turn of a year: Dec 31 is followed by Jan 1.
                    Some(last) if last - t > YEAR / 2 => t + YEAR - last,
                    Some(_) => return self.now,
                    None => 0,
                };
                self.last_yearless = Some(t);
                u64::from(passed)
            }
            LogTime::Absolute(t) => {
                let passed = match self.last_absolute {
                    Some(last) if t >= last => t - last,
                    Some(_) => return self.now,
                    None => 0,
                };
                self.last_absolute = Some(t);
                passed
            }
        };
        self.now = self
            .now
            .saturating_add(u32::try_from(passed).unwrap_or(u32::MAX));
        self.now
    }

    pub fn now(&self) -> u32 {
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_stamp_forms_and_their_prefixes() {
        let jun1 = (152 * DAY) + 19 * 3600 + 55;
        assert_eq!(
            parse(b"Jun  1 19:00:55 mx postfix/smtpd[1]: x"),
            Some(LogTime::Yearless(jun1))
        );
        assert_eq!(parse(b"Jun 01 19:00:55 mx"), Some(LogTime::Yearless(jun1)));
        assert_eq!(
            parse(b"<22>Jun  1 19:00:55 mx"),
            Some(LogTime::Yearless(jun1))
        );
        assert_eq!(
            parse(b"2026-11-28T10:00:01.123456+00:00 mx postfix/qmgr[2]: x"),
            Some(LogTime::Absolute(1_795_860_001))
        );
        assert_eq!(
            parse(b"<22>1 1970-01-02T00:00:00Z mx"),
            Some(LogTime::Absolute(86_400))
        );
        for bad in [
            &b"Jux  1 19:00:55"[..],
            b"Jun 32 19:00:55",
            b"Jun  1 25:00:55",
            b"Jun  1 19:00",
            b"2026-13-01T00:00:00",
            b"<1234>Jun  1 19:00:55",
            b"",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn stamps_become_dates_through_the_year_rule() {
        let anchor = UtcTime::from_civil(2027, 1, 3, 0);
        let date = |line: &[u8]| parse(line).unwrap().date(anchor).unwrap().rfc3339();
        assert_eq!(date(b"Dec 31 23:59:00 mx"), "2026-12-31T23:59:00Z");
        assert_eq!(date(b"Jan  1 00:01:00 mx"), "2027-01-01T00:01:00Z");
        assert_eq!(date(b"Feb 29 00:01:00 mx"), "2024-02-29T00:01:00Z");
        assert_eq!(date(b"Mar  1 00:01:00 mx"), "2026-03-01T00:01:00Z");
        assert_eq!(
            date(b"2026-11-28T10:00:01.5+01:00 mx"),
            "2026-11-28T09:00:01Z"
        );
    }

    #[test]
    fn every_stamp_form_of_a_line_is_dated() {
        let anchor = UtcTime::from_civil(2024, 7, 1, 0);
        let date = |line: &str| match line_date(line.as_bytes(), anchor) {
            When::At(t) => t.rfc3339(),
            other => format!("{other:?}"),
        };
        let want = "2024-06-04T10:01:00Z";
        assert_eq!(date("Jun  4 10:01:00 mx postfix/qmgr[1]: x"), want);
        assert_eq!(
            date("2024-06-04T12:01:00+02:00 mx postfix/qmgr[1]: x"),
            want
        );
        assert_eq!(
            date("2024-06-04 10:01:00 1sXyZ-000123-AB <= a@b.example"),
            want
        );
        assert_eq!(date("1717495260.123456 mx postfix/qmgr[1]: x"), want);
        assert_eq!(
            date("Tue 2024-06-04 10:01:00 UTC mx postfix/qmgr[1]: x"),
            want
        );
        assert_eq!(
            date("Tue 2024-06-04 15:31:00 +0530 mx postfix/qmgr[1]: x"),
            want
        );
        assert_eq!(
            date("Tue 2024-06-04 10:01:00.5 UTC mx postfix/qmgr[1]: x"),
            want
        );
        assert_eq!(date("garbage mx postfix/qmgr[1]: x"), "Unparseable");
    }

    #[test]
    fn the_clock_crosses_a_year_and_ignores_small_steps_back() {
        let mut c = LogClock::default();
        let dec31 = parse(b"Dec 31 23:59:00 mx").unwrap();
        let jan1 = parse(b"Jan  1 00:01:00 mx").unwrap();
        let earlier = parse(b"Dec 31 23:58:00 mx").unwrap();
        assert_eq!(c.see(dec31), 0);
        assert_eq!(c.see(earlier), 0, "an interleaved host a minute behind");
        assert_eq!(c.see(jan1), 120);
        assert_eq!(
            c.see(LogTime::Absolute(1_000)),
            120,
            "a first absolute stamp"
        );
        assert_eq!(c.see(LogTime::Absolute(1_500)), 620);
        assert_eq!(c.see(LogTime::Absolute(900)), 620);
        assert_eq!(c.now(), 620);
    }
}

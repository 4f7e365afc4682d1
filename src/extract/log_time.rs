//! The time a log line was written, as far as the postfix joiner needs it: open queue ids
//! are evicted after a window of *log* time (issue 14.3), so memory stays bounded on logs
//! whose `removed` lines are missing (filtered, truncated, another MTA setup) whatever their
//! length, and a log read a year later behaves as it did on the day.
//!
//! Traditional syslog stamps carry no year, so [`LogClock`] does not turn stamps into dates:
//! it advances by the progress the stamps show (a jump back of more than half a year is
//! taken as the turn of a year; a small one, lines of several hosts interleaved, as none).

/// A line's timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTime {
    /// `Mmm dd hh:mm:ss`: seconds since January 1st of a year nobody wrote down.
    Yearless(u32),
    /// RFC 3339: seconds since the Unix epoch (the zone offset is ignored; an error of a
    /// few hours does not matter to a window of days).
    Absolute(u64),
}

const DAY: u32 = 86_400;
const YEAR: u32 = 365 * DAY;

/// Day of the year each month starts on (no leap day: Feb 29 reads as Mar 1).
const MONTH_START: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The timestamp a syslog line starts with (after an optional `<PRI>` and RFC 5424 `1 `).
pub fn parse(line: &[u8]) -> Option<LogTime> {
    let mut b = line;
    if let Some(rest) = b.strip_prefix(b"<") {
        let digits = rest.iter().take(4).position(|c| !c.is_ascii_digit())?;
        b = rest[digits..].strip_prefix(b">")?;
        b = b.strip_prefix(b"1 ").unwrap_or(b);
    }
    if b.first().is_some_and(u8::is_ascii_digit) {
        rfc3339(b)
    } else {
        bsd(b)
    }
}

fn number(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let digits = b.get(at..at + len)?;
    digits.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `hh:mm:ss` at `at`, in seconds.
fn clock_time(b: &[u8], at: usize) -> Option<u32> {
    let (h, m, s) = (
        number(b, at, 2)?,
        number(b, at + 3, 2)?,
        number(b, at + 6, 2)?,
    );
    let separators = b.get(at + 2) == Some(&b':') && b.get(at + 5) == Some(&b':');
    (separators && h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s)
}

/// `Mmm dd hh:mm:ss` (the day space-padded or not).
fn bsd(b: &[u8]) -> Option<LogTime> {
    let month = MONTHS.iter().position(|m| b.starts_with(*m))?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let day = match (b.get(4), b.get(5)) {
        (Some(b' '), Some(d)) if d.is_ascii_digit() => u32::from(d - b'0'),
        _ => number(b, 4, 2)?,
    };
    if !(1..=31).contains(&day) || b.get(6) != Some(&b' ') {
        return None;
    }
    let secs = clock_time(b, 7)?;
    Some(LogTime::Yearless(
        (MONTH_START[month] + day - 1) * DAY + secs,
    ))
}

/// `YYYY-MM-DDThh:mm:ss...`.
fn rfc3339(b: &[u8]) -> Option<LogTime> {
    let (y, m, d) = (number(b, 0, 4)?, number(b, 5, 2)?, number(b, 8, 2)?);
    let shape = b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-');
    if !shape || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let secs = clock_time(b, 11)?;
    let days = days_from_civil(i64::from(y), m, d);
    let epoch = days * i64::from(DAY) + i64::from(secs);
    Some(LogTime::Absolute(u64::try_from(epoch).unwrap_or(0)))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        let jun1 = (151 * DAY) + 19 * 3600 + 55;
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

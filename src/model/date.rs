//! Time as the reports speak of it: a UTC instant to the second ([`UtcTime`]), a UTC day
//! ([`Day`]), the civil calendar conversions behind both, the date forms inputs carry (RFC
//! 3339, traditional syslog without a year, RFC 5322 `Date`/`Received`, the mbox `From `
//! line) and the period a run covers ([`Period`]). One module, so the log clock, journald's
//! conversion and the history's timestamps agree on the calendar (issue 15).
//!
//! A date that is absent or cannot be read is never guessed: the observation carries
//! [`When::Absent`] or [`When::Unparseable`] and the period counts it.

use std::fmt;

const DAY_SECS: i64 = 86_400;

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(pub i64);

/// Days since 1970-01-01, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl UtcTime {
    /// The instant of a civil UTC date and time of day.
    pub fn from_civil(y: i64, m: u32, d: u32, secs_of_day: u32) -> UtcTime {
        UtcTime(days_from_civil(y, m, d) * DAY_SECS + i64::from(secs_of_day))
    }

    pub fn day(self) -> Day {
        Day(
            i32::try_from(self.0.div_euclid(DAY_SECS)).unwrap_or(if self.0 < 0 {
                i32::MIN
            } else {
                i32::MAX
            }),
        )
    }

    /// `2026-11-28T02:15:00Z`: sorts as text, spreadsheets read it as a date.
    pub fn rfc3339(self) -> String {
        let rem = self.0.rem_euclid(DAY_SECS);
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            self.day(),
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    pub fn now() -> UtcTime {
        Self::of(std::time::SystemTime::now())
    }

    /// A system time; before the epoch reads as the epoch.
    pub fn of(t: std::time::SystemTime) -> UtcTime {
        UtcTime(
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        )
    }
}

impl Day {
    pub fn civil(self) -> (i64, u32, u32) {
        civil_from_days(i64::from(self.0))
    }

    /// `YYYY-MM-DD` back to a day (the `--by-day` and sidecar spelling).
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, m, d) = (number(b, 0, 4)?, number(b, 5, 2)?, number(b, 8, 2)?);
        valid_date(i64::from(y), m, d)?;
        i32::try_from(days_from_civil(i64::from(y), m, d))
            .ok()
            .map(Day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// When one observation happened, as far as its input says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum When {
    At(UtcTime),
    /// The input carried a date that could not be read.
    Unparseable,
    /// The input carried no date at all.
    #[default]
    Absent,
}

/// The period a set of observations covers: the first and last time seen, and how many
/// messages had no usable date. Counts saturate (a pairs file may claim any count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub first: Option<UtcTime>,
    pub last: Option<UtcTime>,
    /// Messages whose date was present but could not be read.
    pub unparseable: u64,
    /// Messages whose input carried no date.
    pub absent: u64,
}

impl Period {
    /// Counts `messages` observed at `when`.
    pub fn see(&mut self, when: When, messages: u64) {
        match when {
            When::At(t) => self.cover(t, t),
            When::Unparseable => self.unparseable = self.unparseable.saturating_add(messages),
            When::Absent => self.absent = self.absent.saturating_add(messages),
        }
    }

    /// Widens the period to take in `first ..= last`.
    pub fn cover(&mut self, first: UtcTime, last: UtcTime) {
        self.first = Some(self.first.map_or(first, |f| f.min(first)));
        self.last = Some(self.last.map_or(last, |l| l.max(last)));
    }

    pub fn merge(&mut self, other: &Period) {
        if let (Some(f), Some(l)) = (other.first, other.last) {
            self.cover(f, l);
        }
        self.unparseable = self.unparseable.saturating_add(other.unparseable);
        self.absent = self.absent.saturating_add(other.absent);
    }

    /// Messages without a usable date.
    pub fn undated(&self) -> u64 {
        self.unparseable.saturating_add(self.absent)
    }

    /// `2026-11-01 to 2026-11-28` (days, UTC), or `none` when nothing was dated.
    pub fn describe_days(&self) -> String {
        match (self.first, self.last) {
            (Some(f), Some(l)) => format!("{} to {}", f.day(), l.day()),
            _ => "none".into(),
        }
    }
}

/// A traditional syslog stamp, `Mmm dd hh:mm:ss`: a date without its year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Yearless {
    pub month: u32,
    pub day: u32,
    pub secs: u32,
}

impl Yearless {
    /// The stamp in `year`; `None` when that year has no such day (Feb 29).
    pub fn in_year(self, year: i64) -> Option<UtcTime> {
        valid_date(year, self.month, self.day)?;
        Some(UtcTime::from_civil(year, self.month, self.day, self.secs))
    }

    /// The year rule of docs/inputs.md: the latest year that does not put the stamp more
    /// than a day after `anchor` (the time its file was last written, a day of slack for
    /// clocks and zones). A file written on Jan 3 holds Dec 30 of the year before; a stamp
    /// that fits no nearby year (Feb 29) gives `None`.
    pub fn infer(self, anchor: UtcTime) -> Option<UtcTime> {
        let (year, _, _) = anchor.day().civil();
        (0..8).find_map(|back| {
            self.in_year(year - back)
                .filter(|t| t.0 <= anchor.0 + DAY_SECS)
        })
    }
}

fn month_of(b: &[u8]) -> Option<u32> {
    // Every postfix line's stamp is read (the joiner's window): one match on the folded
    // bytes, not twelve case-insensitive comparisons (issue 15 item 5).
    let month = match b.get(..3)? {
        [a, b, c] => [a | 0x20, b | 0x20, c | 0x20],
        _ => return None,
    };
    Some(match &month {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

fn number(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let digits = b.get(at..at + len)?;
    digits.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `hh:mm:ss` at `at`, in seconds (a leap second reads as the next second).
fn clock_time(b: &[u8], at: usize) -> Option<u32> {
    let (h, m, s) = (
        number(b, at, 2)?,
        number(b, at + 3, 2)?,
        number(b, at + 6, 2)?,
    );
    let separators = b.get(at + 2) == Some(&b':') && b.get(at + 5) == Some(&b':');
    (separators && h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn valid_date(y: i64, m: u32, d: u32) -> Option<()> {
    const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let max = match m {
        2 if !is_leap(y) => 28,
        1..=12 => DAYS[m as usize - 1],
        _ => return None,
    };
    (1..=max).contains(&d).then_some(())
}

/// `Mmm dd hh:mm:ss` (the day space-padded or not) at the start of `b`.
pub fn parse_syslog(b: &[u8]) -> Option<Yearless> {
    let month = month_of(b)?;
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
    Some(Yearless {
        month,
        day,
        secs: clock_time(b, 7)?,
    })
}

/// `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm]` at the start of `b`; without a zone, UTC.
pub fn parse_rfc3339(b: &[u8]) -> Option<UtcTime> {
    let (y, m, d) = (number(b, 0, 4)?, number(b, 5, 2)?, number(b, 8, 2)?);
    let shape = b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-');
    if !shape || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    valid_date(i64::from(y), m, d)?;
    let secs = clock_time(b, 11)?;
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        at += 1;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    let offset = match b.get(at) {
        Some(&sign @ (b'+' | b'-')) => {
            // `+hh:mm` (RFC 3339), or `+hhmm` as `journalctl -o short-iso` writes it.
            let colon = usize::from(b.get(at + 3) == Some(&b':'));
            let (h, m) = (number(b, at + 1, 2)?, number(b, at + 3 + colon, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = i64::from(h * 3600 + m * 60);
            if sign == b'-' { -o } else { o }
        }
        _ => 0,
    };
    let t = UtcTime::from_civil(i64::from(y), m, d, secs);
    Some(UtcTime(t.0 - offset))
}

/// RFC 5322 `date-time` (`[Tue, ]4 Jun 2024 10:00:00 +0000 (UTC)`), the obsolete forms
/// included: two- and three-digit years, a missing seconds field, named zones (UT, GMT and
/// the US zones; any other name, a military letter, reads as `-0000`, which RFC 5322 says
/// means "no zone information" — taken as UTC).
pub fn parse_rfc5322(s: &str) -> Option<UtcTime> {
    let s = s.trim();
    // The day of the week is optional and says nothing the date does not.
    let s = match s.find(',') {
        Some(i) if i <= 10 => &s[i + 1..],
        _ => s,
    };
    let mut words = s.split_ascii_whitespace();
    let day: u32 = words.next()?.parse().ok()?;
    let month = month_of(words.next()?.as_bytes())?;
    let year = words.next()?;
    let year: i64 = match (year.len(), year.parse::<i64>().ok()?) {
        (2, y) if y < 50 => 2000 + y,
        (2 | 3, y) => 1900 + y,
        (4, y) => y,
        _ => return None,
    };
    let time = words.next()?.as_bytes();
    let secs = match time.len() {
        5 if time[2] == b':' => {
            let (h, m) = (number(time, 0, 2)?, number(time, 3, 2)?);
            (h < 24 && m < 60).then_some(h * 3600 + m * 60)?
        }
        _ if time.len() == 8 => clock_time(time, 0)?,
        _ => return None,
    };
    valid_date(year, month, day)?;
    let offset = words.next().map_or(Some(0), zone_offset)?;
    Some(UtcTime(
        UtcTime::from_civil(year, month, day, secs).0 - offset,
    ))
}

/// A zone (`+hhmm`, `-hhmm` or a name) as seconds east of UTC.
pub fn zone_offset(zone: &str) -> Option<i64> {
    let b = zone.as_bytes();
    if let Some(&sign @ (b'+' | b'-')) = b.first() {
        if b.len() != 5 {
            return None;
        }
        let (h, m) = (number(b, 1, 2)?, number(b, 3, 2)?);
        if m > 59 {
            return None;
        }
        let o = i64::from(h * 3600 + m * 60);
        return Some(if sign == b'-' { -o } else { o });
    }
    let hours = match zone.to_ascii_uppercase().as_str() {
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        // UT, GMT, Z, other letters and comments: no zone information.
        _ => 0,
    };
    Some(hours * 3600)
}

/// The date of an mbox `From ` line after its sender: asctime's
/// `Wed Nov 28 10:00:01 2026`, optionally with a zone before or after the year
/// (`... 10:00:01 +0100 2026`, `... 2026 -0500`); without one, UTC. Mailman's
/// `From user at host  Wed Nov 28 ...` is read the same way, from the end.
pub fn parse_from_line(line: &str) -> Option<UtcTime> {
    // From the end, without collecting: every message of an mbox has such a line.
    let mut words = line.split_ascii_whitespace().rev();
    let mut after = [""; 4];
    let mut n_after = 0;
    let secs = loop {
        let w = words.next()?;
        if let Some(secs) = clock_word(w.as_bytes()) {
            break secs;
        }
        *after.get_mut(n_after)? = w;
        n_after += 1;
    };
    let day: u32 = words.next()?.parse().ok()?;
    let month = month_of(words.next()?.as_bytes())?;
    let mut offset = 0;
    let mut year = None;
    for w in &after[..n_after] {
        if w.len() == 4 && w.bytes().all(|c| c.is_ascii_digit()) {
            year = w.parse::<i64>().ok();
        } else if w.starts_with(['+', '-']) {
            offset = zone_offset(w)?;
        }
    }
    let year = year?;
    valid_date(year, month, day)?;
    Some(UtcTime(
        UtcTime::from_civil(year, month, day, secs).0 - offset,
    ))
}

/// `hh:mm:ss` or `hh:mm` as a whole word, in seconds.
fn clock_word(b: &[u8]) -> Option<u32> {
    match b.len() {
        8 => clock_time(b, 0),
        5 if b[2] == b':' => {
            let (h, m) = (number(b, 0, 2)?, number(b, 3, 2)?);
            (h < 24 && m < 60).then_some(h * 3600 + m * 60)
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests;

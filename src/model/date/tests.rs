use super::*;

fn at(s: &str) -> UtcTime {
    parse_rfc3339(s.as_bytes()).unwrap()
}

#[test]
fn civil_conversions_round_trip_across_eras_and_leap_days() {
    for days in [-800_000, -1, 0, 1, 11_016, 19_782, 20_513, 2_932_896] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
    }
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(
        days_from_civil(2024, 2, 29) + 1,
        days_from_civil(2024, 3, 1)
    );
    assert_eq!(Day(-1).to_string(), "1969-12-31");
    assert_eq!(Day::parse("2024-02-29"), Some(Day(19_782)));
    for bad in [
        "2023-02-29",
        "2024-13-01",
        "2024-1-01",
        "20240101",
        "2024-01-00",
    ] {
        assert_eq!(Day::parse(bad), None, "{bad}");
    }
}

#[test]
fn rfc3339_honours_fractions_and_offsets() {
    assert_eq!(at("1970-01-02T00:00:00Z"), UtcTime(86_400));
    assert_eq!(at("2026-11-28T10:00:01.123456+00:00").0, 1_795_860_001);
    assert_eq!(at("2026-11-28T10:00:01+02:00").0, 1_795_860_001 - 7200);
    // `journalctl -o short-iso` writes the offset without its colon.
    assert_eq!(
        at("2026-11-28T10:00:01+0200 mx postfix/smtpd[1]: x"),
        at("2026-11-28T10:00:01+02:00")
    );
    assert_eq!(at("2026-11-28T10:00:01-0530"), at("2026-11-28T15:30:01Z"));
    assert_eq!(
        at("2026-11-28 10:00:01 mx exim"),
        at("2026-11-28T10:00:01Z")
    );
    assert_eq!(
        at("2026-11-28T00:30:00-05:00").day().to_string(),
        "2026-11-28"
    );
    assert_eq!(
        at("2026-11-28T23:30:00-05:00").day().to_string(),
        "2026-11-29"
    );
    for bad in [
        "2026-13-01T00:00:00",
        "2026-02-30T00:00:00",
        "2026-11-28T25:00:00",
        "x",
    ] {
        assert_eq!(parse_rfc3339(bad.as_bytes()), None, "{bad}");
    }
    assert_eq!(at("2026-11-28T02:15:09Z").rfc3339(), "2026-11-28T02:15:09Z");
}

#[test]
fn rfc5322_dates_with_obsolete_forms() {
    let t = |s| parse_rfc5322(s);
    assert_eq!(
        t("Tue, 4 Jun 2024 10:00:00 +0000 (UTC)"),
        Some(at("2024-06-04T10:00:00Z"))
    );
    assert_eq!(
        t("4 Jun 2024 12:00:00 +0200"),
        Some(at("2024-06-04T10:00:00Z"))
    );
    assert_eq!(
        t("Mon, 22 Jul 2002 21:41:36 +0100"),
        Some(at("2002-07-22T20:41:36Z"))
    );
    assert_eq!(
        t("Fri, 19 Jul 02 14:28 EDT"),
        Some(at("2002-07-19T18:28:00Z"))
    );
    assert_eq!(
        t("Fri, 19 Jul 99 14:28:00 GMT"),
        Some(at("1999-07-19T14:28:00Z"))
    );
    assert_eq!(
        t("Fri, 19 Jul 102 14:28:00 -0000"),
        Some(at("2002-07-19T14:28:00Z"))
    );
    assert_eq!(
        t("  Thu,  1 Jan 2026 00:00:00"),
        Some(at("2026-01-01T00:00:00Z"))
    );
    for bad in [
        "",
        "yesterday",
        "Thu, 31 Feb 2026 00:00:00 +0000",
        "Thu, 1 Jan 2026 24:00:00 +0000",
        "Thu, 1 Foo 2026 00:00:00 +0000",
        "Thu, 1 Jan 2026 00:00:00 +00",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
}

#[test]
fn mbox_from_line_dates() {
    let t = |s| parse_from_line(s);
    assert_eq!(
        t("From a@example.org Wed Nov 28 10:00:01 2026"),
        Some(at("2026-11-28T10:00:01Z"))
    );
    assert_eq!(
        t("From a@example.org  Wed Nov  4 10:00:01 2026"),
        Some(at("2026-11-04T10:00:01Z"))
    );
    assert_eq!(
        t("From a@b Wed Nov 28 10:00:01 +0100 2026"),
        Some(at("2026-11-28T09:00:01Z"))
    );
    assert_eq!(
        t("From a@b Wed Nov 28 10:00:01 2026 -0500"),
        Some(at("2026-11-28T15:00:01Z"))
    );
    assert_eq!(
        t("From a at example.org  Wed Nov 28 10:00 2026"),
        Some(at("2026-11-28T10:00:00Z"))
    );
    for bad in [
        "From a@b",
        "From a@b Wed Nov 28 2026",
        "From a@b Wed Nov 31 10:00:01 2026",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
}

#[test]
fn syslog_stamps_and_their_year() {
    let s = |s: &str| parse_syslog(s.as_bytes()).unwrap();
    assert_eq!(
        s("Jun  1 19:00:55 mx"),
        Yearless {
            month: 6,
            day: 1,
            secs: 68_455
        }
    );
    assert_eq!(s("Jun 01 19:00:55"), s("Jun  1 19:00:55"));
    assert!(parse_syslog(b"Jun 32 19:00:55").is_none());
    // A file last written on Jan 3 2027: its December lines are of 2026, its January
    // lines of 2027 (the turn of a year inside one file).
    let anchor = at("2027-01-03T06:25:00Z");
    assert_eq!(
        s("Dec 30 23:59:59").infer(anchor),
        Some(at("2026-12-30T23:59:59Z"))
    );
    assert_eq!(
        s("Jan  2 00:00:01").infer(anchor),
        Some(at("2027-01-02T00:00:01Z"))
    );
    // A day of slack after the anchor for clocks and zones, no more.
    assert_eq!(
        s("Jan  4 05:00:00").infer(anchor),
        Some(at("2027-01-04T05:00:00Z"))
    );
    assert_eq!(
        s("Jan  4 07:00:00").infer(anchor),
        Some(at("2026-01-04T07:00:00Z"))
    );
    // Feb 29 goes back to the last leap year before the anchor.
    assert_eq!(
        s("Feb 29 12:00:00").infer(anchor),
        Some(at("2024-02-29T12:00:00Z"))
    );
}

#[test]
fn a_period_counts_what_it_cannot_date() {
    let mut p = Period::default();
    assert_eq!(p.describe_days(), "none");
    p.see(When::At(at("2026-11-02T10:00:00Z")), 1);
    p.see(When::At(at("2026-11-01T23:00:00Z")), 3);
    p.see(When::Unparseable, 2);
    p.see(When::Absent, u64::MAX);
    let mut q = Period::default();
    q.see(When::At(at("2026-11-05T00:00:00Z")), 1);
    q.see(When::Absent, 1);
    p.merge(&q);
    assert_eq!(p.first, Some(at("2026-11-01T23:00:00Z")));
    assert_eq!(p.last, Some(at("2026-11-05T00:00:00Z")));
    assert_eq!((p.unparseable, p.absent), (2, u64::MAX));
    assert_eq!(p.describe_days(), "2026-11-01 to 2026-11-05");
}

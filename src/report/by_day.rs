//! `--by-day FILE` (issue 15): one row per UTC day with the messages of that day by verdict
//! and, when SPF was evaluated, by SPF result, so a spreadsheet or the HTML chart shows
//! whether forgery grows and when a burst happened. A pair's verdict is known only after the
//! DNS stage, so the days come from the tally's (pair, day) counts and the pairs' rows.
//! Messages without a usable date are in no row; the period on every report counts them.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::fileio::guard::Kind;
use crate::model::{Day, PairRow, SpfResult, Verdict};
use crate::pairs_file::csv_writer;

/// What `--by-day` writes, so an existing file of another kind is never replaced.
pub const KIND: Kind = Kind {
    what: "a repudiate by-day report (first line `day,messages,...`)",
    is_ours: |prefix| prefix.starts_with(b"day,messages,"),
    regular_only: false,
};

/// The columns before the SPF ones: the verdicts' column names ([`Verdict::column`]).
pub const HEADER: [&str; 2 + Verdict::ALL.len()] =
    Verdict::columns_into(["day", "messages", "", "", "", "", "", "", ""], 2);

/// The SPF columns, written when SPF was evaluated (not with `--no-spf`).
pub const SPF_HEADER: [&str; SpfResult::ALL.len()] =
    SpfResult::columns_into([""; SpfResult::ALL.len()], 0);

/// One day's messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayRow {
    pub day: Option<Day>,
    pub messages: u64,
    /// Indexed by [`Verdict::index`].
    pub by_verdict: [u64; Verdict::ALL.len()],
    /// Indexed by [`SpfResult::index`].
    pub by_spf: [u64; SpfResult::ALL.len()],
}

/// The days in order, each pair's dated messages counted under its verdict.
pub fn day_rows(rows: &[PairRow]) -> Vec<DayRow> {
    let mut by_day: BTreeMap<Day, DayRow> = BTreeMap::new();
    for r in rows {
        for (day, n) in r.days.iter() {
            let row = by_day.entry(day).or_insert_with(|| DayRow {
                day: Some(day),
                ..DayRow::default()
            });
            row.messages = row.messages.saturating_add(n);
            let v = &mut row.by_verdict[r.verdict.index()];
            *v = v.saturating_add(n);
            if let Some(spf) = r.spf {
                let s = &mut row.by_spf[spf.index()];
                *s = s.saturating_add(n);
            }
        }
    }
    by_day.into_values().collect()
}

pub fn write_by_day(out: &mut dyn Write, days: &[DayRow], spf: bool) -> io::Result<()> {
    let mut w = csv_writer(out);
    let mut header: Vec<&str> = HEADER.to_vec();
    if spf {
        header.extend(SPF_HEADER);
    }
    w.write_record(&header)?;
    for d in days {
        let mut record = vec![
            d.day.map(|d| d.to_string()).unwrap_or_default(),
            d.messages.to_string(),
        ];
        record.extend(
            Verdict::ALL
                .iter()
                .map(|v| d.by_verdict[v.index()].to_string()),
        );
        if spf {
            record.extend(
                SpfResult::ALL
                    .iter()
                    .map(|s| d.by_spf[s.index()].to_string()),
            );
        }
        w.write_record(&record)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PairKey, Sender, UtcTime};

    fn row(d: &str, verdict: Verdict, spf: Option<SpfResult>) -> PairRow {
        PairRow {
            key: PairKey {
                sender: Sender::Domain(d.into()),
                ip: "192.0.2.1".parse().ok(),
            },
            messages: 0,
            verdict,
            matched: None,
            relays: Vec::new().into(),
            reason: None,
            authenticated: None,
            spf,
            days: Default::default(),
        }
    }

    #[test]
    fn days_in_order_with_verdict_and_spf_columns() {
        let day = |d| UtcTime::from_civil(2026, 11, d, 0).day();
        let mut rows = [
            row("a.example", Verdict::Repudiated, Some(SpfResult::Fail)),
            row("b.example", Verdict::NullSender, None),
            row("c.example", Verdict::Nonrepudiated, None),
        ];
        rows[0].days = [(day(2), 3), (day(1), 1)].into_iter().collect();
        rows[1].days = [(day(2), 2)].into_iter().collect();
        let out = day_rows(&rows);
        let mut csv = Vec::new();
        write_by_day(&mut csv, &out, true).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "day,messages,nonrepudiated,repudiated,no_policy,tempfail,permerror,null_sender,\
             unknown,spf_pass,spf_fail,spf_softfail,spf_neutral,spf_none,spf_temperror,\
             spf_permerror\n\
             2026-11-01,1,0,1,0,0,0,0,0,0,1,0,0,0,0,0\n\
             2026-11-02,5,0,3,0,0,0,2,0,0,3,0,0,0,0,0\n"
        );
        let mut plain = Vec::new();
        write_by_day(&mut plain, &out, false).unwrap();
        assert!(
            String::from_utf8(plain)
                .unwrap()
                .ends_with("\n2026-11-02,5,0,3,0,0,0,2,0\n")
        );
        assert!((KIND.is_ours)(b"day,messages,nonrepudiated"));
    }
}

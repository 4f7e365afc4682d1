//! The domain summary CSV of docs/design.md §5 (`--summary`): one row per sender domain, so a
//! spreadsheet shows at a glance which domains would lose mail. Every domain column value of
//! the pairs CSV gets a row (`<>` for the null sender, empty when no sender was recorded), so
//! the `messages` column adds up to the report's total; `null-sender` and `unknown` messages
//! are in `messages` but have no column of their own, as the spec's column list says. After
//! them, one column per SPF result (`spf_pass` ... `spf_permerror`), in messages, so a
//! domain's SPF `fail`s stand beside its MAIL-FROM verdicts. Last, the first and last UTC
//! day the domain's dated messages cover (issue 15), empty when none was dated.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::model::{Day, SpfResult, Verdict};
use crate::pairs_file::sender_column;

use super::summary::{Evidence, pct};
use crate::fileio::guard::Kind;
use crate::model::PairRow;
use crate::pairs_file::csv_writer;

/// What `--summary` writes, so an existing file of another kind is never replaced.
pub const KIND: Kind = Kind {
    what: "a repudiate summary (first line `domain,messages,pairs,...`)",
    is_ours: is_summary,
    regular_only: false,
};

fn is_summary(prefix: &[u8]) -> bool {
    // The first columns: later versions may add columns at the end.
    prefix.starts_with(format!("{},", HEADER[..3].join(",")).as_bytes())
}

pub const HEADER: [&str; 20] = SpfResult::columns_into(
    [
        "domain",
        "messages",
        "pairs",
        "nonrepudiated",
        "repudiated",
        "no_policy",
        "tempfail",
        "permerror",
        "repudiated_pct",
        // The SPF results' column names ([`SpfResult::column`]), in their order.
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "repudiated_authenticated",
        "repudiated_unauthenticated",
        "first_day",
        "last_day",
    ],
    9,
);

/// The verdicts with a column, in column order.
const COLUMNS: [Verdict; 5] = [
    Verdict::Nonrepudiated,
    Verdict::Repudiated,
    Verdict::NoPolicy,
    Verdict::Tempfail,
    Verdict::Permerror,
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainRow {
    pub domain: String,
    pub messages: u64,
    pub pairs: u64,
    /// Messages per verdict, indexed by [`Verdict::index`].
    pub by_verdict: [u64; Verdict::ALL.len()],
    /// Messages per SPF result, indexed by [`SpfResult::index`].
    pub by_spf: [u64; SpfResult::ALL.len()],
    /// The repudiated messages split by authentication, for the domain's pairs whose input
    /// could tell (DMARC reports); both columns are empty when none could.
    pub evidence: Evidence,
    /// The first and last day of the domain's dated messages.
    pub first_day: Option<Day>,
    pub last_day: Option<Day>,
}

/// Rows per domain, sorted as the pairs CSV is: messages descending, then domain.
pub fn domain_rows(rows: &[PairRow]) -> Vec<DomainRow> {
    let mut by_domain: HashMap<&str, DomainRow> = HashMap::new();
    for r in rows {
        let domain = sender_column(&r.key.sender);
        let d = by_domain.entry(domain).or_insert_with(|| DomainRow {
            domain: domain.to_string(),
            ..Default::default()
        });
        d.messages = d.messages.saturating_add(r.messages);
        d.pairs += 1;
        let n = &mut d.by_verdict[r.verdict.index()];
        *n = n.saturating_add(r.messages);
        if let Some(spf) = r.spf {
            let n = &mut d.by_spf[spf.index()];
            *n = n.saturating_add(r.messages);
        }
        d.evidence.add(r);
        if let Some((list_first, list_last)) = r.days.span() {
            d.first_day = Some(d.first_day.map_or(list_first, |f| f.min(list_first)));
            d.last_day = Some(d.last_day.map_or(list_last, |l| l.max(list_last)));
        }
    }
    let mut out: Vec<DomainRow> = by_domain.into_values().collect();
    out.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then_with(|| a.domain.cmp(&b.domain))
    });
    out
}

/// A percentage column: two decimals, so small shares of big sites stay visible.
pub fn pct_column(n: u64, total: u64) -> String {
    format!("{:.2}", pct(n, total))
}

pub fn write_domains(out: &mut dyn Write, rows: &[PairRow]) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record(HEADER)?;
    for d in domain_rows(rows) {
        let mut record = vec![
            d.domain.clone(),
            d.messages.to_string(),
            d.pairs.to_string(),
        ];
        record.extend(COLUMNS.iter().map(|v| d.by_verdict[v.index()].to_string()));
        record.push(pct_column(
            d.by_verdict[Verdict::Repudiated.index()],
            d.messages,
        ));
        record.extend(d.by_spf.iter().map(u64::to_string));
        let known = d.evidence.messages > 0;
        for n in [
            d.evidence.repudiated_authenticated,
            d.evidence.repudiated_unauthenticated,
        ] {
            record.push(if known { n.to_string() } else { String::new() });
        }
        for day in [d.first_day, d.last_day] {
            record.push(day.map(|d| d.to_string()).unwrap_or_default());
        }
        w.write_record(&record)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::row;

    #[test]
    fn repudiated_mail_is_split_by_authentication_where_known() {
        let evidenced = |ip, messages, verdict, authenticated| PairRow {
            authenticated: Some(authenticated),
            ..row("owner.example", ip, messages, verdict)
        };
        let rows = vec![
            evidenced("192.0.2.1", 10, Verdict::Repudiated, 4),
            evidenced("192.0.2.2", 5, Verdict::Repudiated, 0),
            evidenced("192.0.2.3", 7, Verdict::Nonrepudiated, 7),
            row("owner.example", "192.0.2.4", 3, Verdict::Repudiated),
        ];
        let mut out = Vec::new();
        write_domains(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().nth(1),
            Some("owner.example,25,4,7,18,0,0,0,72.00,0,0,0,0,0,0,0,4,11,,")
        );
    }

    #[test]
    fn one_row_per_domain_with_sums_and_share() {
        let spf = |r: PairRow, spf| PairRow {
            spf: Some(spf),
            ..r
        };
        let mut rows = vec![
            spf(
                row("a.example", "192.0.2.1", 3, Verdict::Repudiated),
                SpfResult::Fail,
            ),
            row("a.example", "192.0.2.2", 1, Verdict::Nonrepudiated),
            spf(
                row("a.example", "192.0.2.3", 4, Verdict::Tempfail),
                SpfResult::TempError,
            ),
            spf(
                row("b,quoted.example", "192.0.2.1", 2, Verdict::NoPolicy),
                SpfResult::None,
            ),
            row("c.example", "192.0.2.1", 2, Verdict::Permerror),
        ];
        // Days of two of a.example's pairs, none of the others'.
        let day = |d| crate::model::UtcTime::from_civil(2026, 11, d, 0).day();
        rows[0].days = [(day(3), 1), (day(9), 2)].into_iter().collect();
        rows[1].days = [(day(1), 1)].into_iter().collect();
        let mut out = Vec::new();
        write_domains(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "domain,messages,pairs,nonrepudiated,repudiated,no_policy,tempfail,permerror,repudiated_pct,\
             spf_pass,spf_fail,spf_softfail,spf_neutral,spf_none,spf_temperror,spf_permerror,\
             repudiated_authenticated,repudiated_unauthenticated,first_day,last_day\n\
             a.example,8,3,1,3,0,4,0,37.50,0,3,0,0,0,4,0,,,2026-11-01,2026-11-09\n\
             \"b,quoted.example\",2,1,0,0,2,0,0,0.00,0,0,0,0,2,0,0,,,,\n\
             c.example,2,1,0,0,0,0,2,0.00,0,0,0,0,0,0,0,,,,\n"
        );
    }
}

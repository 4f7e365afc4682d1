//! One run's summary as plain data, for machines: the single place where the counts behind
//! the table on standard error ([`Totals`]) become named fields. `--json` writes this struct
//! as it is (its field names are the JSON schema of docs/summary.schema.json) and `--metrics`
//! walks it to name its samples ([`super::metrics`]), so the two files, the table and the
//! history row all say the same numbers. Verdicts, SPF results and skip reasons are keyed by
//! their spellings in [`crate::model`], never spelled again here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::history::rfc3339_utc;
use super::summary::{DnsTotals, Totals};
use crate::model::{SkipReason, SpfResult, Verdict};

/// What the file's first field says, so a file of ours is recognised before it is replaced.
pub const FORMAT: &str = "repudiate-summary";
/// Raised when a field changes meaning or goes away; new fields keep the version.
pub const VERSION: u32 = 1;

/// Counts keyed by a name, kept in the order of the enum they come from (`Verdict::ALL`, ...)
/// rather than sorted, so the JSON reads like the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Named<T>(pub Vec<(&'static str, T)>);

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The run's summary. Fields that only `audit` has are `None` for `scan` (`null` in JSON):
/// every field is always there, so a reader never guesses whether a count was left out.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub format: &'static str,
    pub version: u32,
    /// `audit` or `scan`.
    pub command: &'static str,
    /// When the run started: RFC 3339 in UTC, as the history's `run_at`.
    pub run_at: String,
    /// The same instant in seconds since the Unix epoch.
    pub run_at_unix: u64,
    /// Wall time of the run up to its reports, in seconds.
    pub duration_seconds: f64,
    /// The exit code the run ends with when this file is written (docs/design.md §6).
    pub exit_status: u8,
    pub inputs: Inputs,
    /// Messages of the report: every verdict (audit) or every pair (scan).
    pub messages: u64,
    pub pairs: u64,
    /// Records that are not pairs, by reason (every reason, zeros included).
    pub skipped: Named<u64>,
    pub verdicts: Option<Named<Counts>>,
    /// Repudiated messages as a percentage of all messages (what `--fail-above` compares).
    pub repudiated_pct: Option<f64>,
    /// Tempfail messages as a percentage of the evaluated ones (what `--max-tempfail`
    /// compares).
    pub tempfail_pct: Option<f64>,
    /// Messages by MAIL-FROM verdict, then SPF result; `None` with `--no-spf`.
    pub spf: Option<Named<Named<u64>>>,
    pub evidence: Option<Evidence>,
    pub dns: Option<Dns>,
    /// The time the report's messages cover, and the messages without a usable date.
    pub period: Period,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Inputs {
    pub read: u64,
    pub failed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub messages: u64,
    pub pairs: u64,
}

/// Of the messages whose input knew authentication (DMARC reports), the repudiated ones
/// that were authenticated (legitimate mail the check would lose) and the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub messages: u64,
    pub repudiated_authenticated: u64,
    pub repudiated_unauthenticated: u64,
}

/// Where the DNS answers came from, as the table counts them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Dns {
    pub queries_sent: u64,
    pub cache_file_answers: u64,
    pub zone_file_answers: u64,
    pub reused_answers: u64,
    pub failed_questions: u64,
    /// Of the failed questions, those `--offline` kept from the network.
    pub offline_questions: u64,
    pub resolution_seconds: f64,
}

/// The first and last time of the messages (`null` when none was dated) and the messages
/// that could not be dated, which the period does not cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// RFC 3339 in UTC, as `run_at`.
    pub first: Option<String>,
    pub first_unix: Option<i64>,
    pub last: Option<String>,
    pub last_unix: Option<i64>,
    /// Messages whose date was present but could not be read.
    pub unparseable: u64,
    /// Messages whose input carried no date.
    pub absent: u64,
}

impl Period {
    fn of(p: &crate::model::Period) -> Period {
        Period {
            first: p.first.map(|t| t.rfc3339()),
            first_unix: p.first.map(|t| t.0),
            last: p.last.map(|t| t.rfc3339()),
            last_unix: p.last.map(|t| t.0),
            unparseable: p.unparseable,
            absent: p.absent,
        }
    }
}

/// What the counts do not say about a run: when and how it went.
#[derive(Clone, Copy, Debug)]
pub struct RunFacts {
    pub started: SystemTime,
    pub duration: Duration,
    pub exit_status: u8,
}

impl Snapshot {
    /// An audit's summary; `spf` is whether SPF was evaluated (not `--no-spf`).
    pub fn audit(t: &Totals, run: RunFacts, spf: bool) -> Snapshot {
        let verdicts = Verdict::ALL.map(|v| {
            let counts = Counts {
                messages: t.of(v),
                pairs: t.pairs[v.index()],
            };
            (v.as_str(), counts)
        });
        let spf = spf.then(|| {
            Named(
                Verdict::ALL
                    .map(|v| (v.as_str(), by_spf(&t.spf[v.index()])))
                    .to_vec(),
            )
        });
        Snapshot {
            verdicts: Some(Named(verdicts.to_vec())),
            repudiated_pct: Some(t.repudiated_pct()),
            tempfail_pct: Some(t.tempfail_pct()),
            spf,
            evidence: Some(Evidence {
                messages: t.evidence.messages,
                repudiated_authenticated: t.evidence.repudiated_authenticated,
                repudiated_unauthenticated: t.evidence.repudiated_unauthenticated,
            }),
            dns: Some(dns(&t.dns)),
            ..Snapshot::common("audit", t, run, t.total_messages(), t.total_pairs())
        }
    }

    /// A scan's summary: its messages and pairs are not in `Totals`, which counts verdicts.
    pub fn scan(t: &Totals, run: RunFacts, messages: u64, pairs: u64) -> Snapshot {
        Snapshot::common("scan", t, run, messages, pairs)
    }

    fn common(
        command: &'static str,
        t: &Totals,
        run: RunFacts,
        messages: u64,
        pairs: u64,
    ) -> Snapshot {
        let run_at_unix = run
            .started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Snapshot {
            format: FORMAT,
            version: VERSION,
            command,
            run_at: rfc3339_utc(run.started),
            run_at_unix,
            duration_seconds: run.duration.as_secs_f64(),
            exit_status: run.exit_status,
            inputs: Inputs {
                read: t.inputs_ok as u64,
                failed: t.inputs_failed as u64,
            },
            messages,
            pairs,
            skipped: Named(
                SkipReason::ALL
                    .map(|r| (r.as_str(), t.skipped[r.index()]))
                    .to_vec(),
            ),
            verdicts: None,
            repudiated_pct: None,
            tempfail_pct: None,
            spf: None,
            evidence: None,
            dns: None,
            period: Period::of(&t.period),
        }
    }
}

fn by_spf(row: &[u64; SpfResult::ALL.len()]) -> Named<u64> {
    Named(
        SpfResult::ALL
            .map(|r| (r.as_str(), row[r.index()]))
            .to_vec(),
    )
}

fn dns(d: &DnsTotals) -> Dns {
    Dns {
        queries_sent: d.queries,
        cache_file_answers: d.file_answers,
        zone_file_answers: d.zone_answers,
        reused_answers: d.reused,
        failed_questions: d.failures,
        offline_questions: d.offline,
        resolution_seconds: d.elapsed.as_secs_f64(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{UtcTime, When};
    use crate::report::summary::tests::row;

    pub(crate) fn facts() -> RunFacts {
        RunFacts {
            started: UNIX_EPOCH + Duration::from_secs(1_795_832_107),
            duration: Duration::from_millis(1500),
            exit_status: 3,
        }
    }

    pub(crate) fn totals() -> Totals {
        let mut t = Totals::default();
        let mut rows = vec![
            row("a.example", "192.0.2.1", 5, Verdict::Repudiated),
            row("b.example", "192.0.2.2", 3, Verdict::NoPolicy),
            row("c.example", "192.0.2.3", 2, Verdict::Tempfail),
        ];
        rows[0].spf = Some(SpfResult::Fail);
        t.count_rows(&rows);
        t.skipped[SkipReason::Internal.index()] = 4;
        t.inputs_ok = 2;
        t.inputs_failed = 1;
        t.dns.queries = 9;
        t.dns.elapsed = Duration::from_millis(250);
        t
    }

    #[test]
    fn an_audit_keys_its_counts_by_the_models_spellings_in_their_order() {
        let s = Snapshot::audit(&totals(), facts(), true);
        assert_eq!((s.messages, s.pairs, s.exit_status), (10, 3, 3));
        assert_eq!(s.run_at, "2026-11-28T02:15:07Z");
        assert_eq!(s.run_at_unix, 1_795_832_107);
        let verdicts = s.verdicts.unwrap();
        let names: Vec<&str> = verdicts.0.iter().map(|(n, _)| *n).collect();
        let model: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(names, model);
        assert_eq!(
            verdicts.0[Verdict::Repudiated.index()].1,
            Counts {
                messages: 5,
                pairs: 1
            }
        );
        assert_eq!(s.skipped.0[SkipReason::Internal.index()], ("internal", 4));
        let spf = s.spf.unwrap();
        assert_eq!(spf.0[Verdict::Repudiated.index()].1.0[1], ("fail", 5));
        assert_eq!(s.repudiated_pct, Some(50.0));
        assert_eq!(s.tempfail_pct, Some(20.0));
        assert_eq!(s.dns.unwrap().queries_sent, 9);
        assert_eq!(s.inputs, Inputs { read: 2, failed: 1 });
    }

    #[test]
    fn the_period_is_said_in_both_forms_and_undated_messages_apart() {
        let mut t = totals();
        let s = Snapshot::scan(&t, facts(), 1, 1);
        assert_eq!((s.period.first, s.period.last_unix), (None, None));
        t.period.see(When::At(UtcTime(1_795_832_107)), 3);
        t.period.see(When::At(UtcTime(1_795_700_000)), 1);
        t.period.see(When::Absent, 2);
        t.period.see(When::Unparseable, 1);
        let p = Snapshot::audit(&t, facts(), true).period;
        assert_eq!(p.first_unix, Some(1_795_700_000));
        assert_eq!(p.last.as_deref(), Some("2026-11-28T02:15:07Z"));
        assert_eq!((p.absent, p.unparseable), (2, 1));
    }

    #[test]
    fn a_scan_has_no_verdicts_and_no_spf_without_spf() {
        let s = Snapshot::scan(&totals(), facts(), 42, 7);
        assert_eq!((s.messages, s.pairs), (42, 7));
        assert!(s.verdicts.is_none() && s.dns.is_none() && s.spf.is_none());
        assert!(Snapshot::audit(&totals(), facts(), false).spf.is_none());
    }
}

//! The short human table on standard error at the end of a run: messages by verdict with
//! percentages, skipped records by reason, the domains and relays with the most repudiated
//! messages, the cross-table of MAIL-FROM verdict × SPF result, DNS statistics, and the
//! inputs that failed. The counts behind it ([`Totals`],
//! [`Ranked`]) feed the history row and the HTML page too, so all reports agree.

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

use crate::model::text::one_line;
use crate::model::{PairRow, Period, SkipReason, SpfResult, Verdict};
use crate::pairs_file::sender_column;
use crate::report::numbers::{counted, rate, span};

/// How many domains and relays the table lists.
pub const TOP: usize = 10;

/// Counts behind the table.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Messages per verdict (indexed by [`Verdict::index`]); unused by `scan`.
    pub messages: [u64; Verdict::ALL.len()],
    pub pairs: [u64; Verdict::ALL.len()],
    pub skipped: [u64; SkipReason::ALL.len()],
    /// Messages by MAIL-FROM verdict (outer, [`Verdict::index`]) and SPF result (inner,
    /// [`SpfResult::index`]); pairs without an SPF result are not in it.
    pub spf: [[u64; SpfResult::ALL.len()]; Verdict::ALL.len()],
    pub inputs_ok: usize,
    pub inputs_failed: usize,
    pub dns: DnsTotals,
    /// What inputs that know authentication (DMARC reports) say of the repudiated mail.
    pub evidence: Evidence,
    /// The period the counted messages cover (first and last time, in UTC) and how many of
    /// them had no usable date (issue 15); every report states it.
    pub period: Period,
}

/// Repudiated messages of the pairs whose input could tell which were authenticated: those
/// that were (legitimate mail the check would lose) apart from the rest (forgery stopped, or
/// mail whose signature did not survive). Pairs without evidence count in neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Messages of every pair with evidence, whatever its verdict.
    pub messages: u64,
    pub repudiated_authenticated: u64,
    pub repudiated_unauthenticated: u64,
}

impl Evidence {
    /// Adds one pair's messages; `authenticated` is `None` when its input could not tell.
    pub fn add(&mut self, row: &PairRow) {
        let Some(authenticated) = row.authenticated else {
            return;
        };
        // A pairs file may claim anything; never more authenticated than messages.
        let authenticated = authenticated.min(row.messages);
        self.messages = self.messages.saturating_add(row.messages);
        if row.verdict == Verdict::Repudiated {
            self.repudiated_authenticated =
                self.repudiated_authenticated.saturating_add(authenticated);
            self.repudiated_unauthenticated = self
                .repudiated_unauthenticated
                .saturating_add(row.messages - authenticated);
        }
    }
}

/// What resolution cost (`audit` only).
#[derive(Clone, Debug, Default)]
pub struct DnsTotals {
    /// Questions sent to a DNS server.
    pub queries: u64,
    /// Questions answered by the `--cache` file (each counted once).
    pub file_answers: u64,
    /// Lookups answered by `--zone` files.
    pub zone_answers: u64,
    /// Questions without a usable answer (SERVFAIL, timeout, ...), `--offline` ones included.
    pub failures: u64,
    /// Of `failures`, the questions `--offline` kept from the network.
    pub offline: u64,
    /// Lookups answered by a question this run had already sent (not the `--cache` file).
    pub reused: u64,
    /// Wall time of the resolution stage.
    pub elapsed: Duration,
}

impl Totals {
    /// Adds up the evaluated pairs.
    pub fn count_rows(&mut self, rows: &[PairRow]) {
        for r in rows {
            let n = &mut self.messages[r.verdict.index()];
            *n = n.saturating_add(r.messages);
            self.pairs[r.verdict.index()] += 1;
            if let Some(spf) = r.spf {
                let n = &mut self.spf[r.verdict.index()][spf.index()];
                *n = n.saturating_add(r.messages);
            }
            self.evidence.add(r);
        }
    }

    /// Messages with this SPF result, whatever their verdict.
    pub fn of_spf(&self, result: SpfResult) -> u64 {
        crate::aggregate::saturating_sum(self.spf.iter().map(|row| row[result.index()]))
    }

    /// Whether any pair has an SPF result (not with `--no-spf`).
    pub fn has_spf(&self) -> bool {
        self.spf.iter().flatten().any(|&n| n > 0)
    }

    pub fn total_messages(&self) -> u64 {
        crate::aggregate::saturating_sum(self.messages.iter().copied())
    }

    pub fn total_pairs(&self) -> u64 {
        self.pairs.iter().sum()
    }

    pub fn total_skipped(&self) -> u64 {
        self.skipped.iter().sum()
    }

    pub fn inputs(&self) -> usize {
        self.inputs_ok + self.inputs_failed
    }

    pub fn of(&self, v: Verdict) -> u64 {
        self.messages[v.index()]
    }

    /// Repudiated messages as a share of every message in the report (every verdict,
    /// null sender and unknown included; skipped records are not messages of the report),
    /// in percent. The table, the history and `--fail-above` all use this one number.
    pub fn repudiated_pct(&self) -> f64 {
        pct(self.of(Verdict::Repudiated), self.total_messages())
    }

    /// Messages whose sender's policy was evaluated: every verdict but `null-sender` and
    /// `unknown`, which never reach DNS.
    pub fn evaluated_messages(&self) -> u64 {
        crate::aggregate::saturating_sum(
            Verdict::ALL
                .iter()
                .filter(|v| !matches!(v, Verdict::NullSender | Verdict::Unknown))
                .map(|v| self.of(*v)),
        )
    }

    /// Tempfail messages as a share of the evaluated ones, in percent: what
    /// `--max-tempfail` compares.
    pub fn tempfail_pct(&self) -> f64 {
        pct(self.of(Verdict::Tempfail), self.evaluated_messages())
    }
}

pub use crate::model::pct;

/// A domain or relay with repudiated messages, and all its messages for scale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub name: String,
    pub repudiated: u64,
    pub messages: u64,
    /// Pairs with a repudiated verdict (distinct relays of a domain, domains of a relay).
    pub repudiated_pairs: u64,
}

/// Sender domains with at least one repudiated message, most repudiated first.
pub fn rank_domains(rows: &[PairRow]) -> Vec<Ranked> {
    rank(rows, |r| sender_column(&r.key.sender).to_string())
}

/// Client IPs with at least one repudiated message, most repudiated first.
pub fn rank_relays(rows: &[PairRow]) -> Vec<Ranked> {
    rank(rows, |r| {
        r.key.ip.map(|ip| ip.to_string()).unwrap_or_default()
    })
}

fn rank(rows: &[PairRow], name: impl Fn(&PairRow) -> String) -> Vec<Ranked> {
    let mut by_name: HashMap<String, Ranked> = HashMap::new();
    for r in rows {
        let entry = by_name.entry(name(r)).or_insert_with_key(|n| Ranked {
            name: n.clone(),
            repudiated: 0,
            messages: 0,
            repudiated_pairs: 0,
        });
        entry.messages = entry.messages.saturating_add(r.messages);
        if r.verdict == Verdict::Repudiated {
            entry.repudiated = entry.repudiated.saturating_add(r.messages);
            entry.repudiated_pairs += 1;
        }
    }
    let mut ranked: Vec<Ranked> = by_name.into_values().filter(|r| r.repudiated > 0).collect();
    ranked.sort_by(|a, b| {
        b.repudiated
            .cmp(&a.repudiated)
            .then_with(|| a.name.cmp(&b.name))
    });
    ranked
}

pub fn render_audit(t: &Totals, domains: &[Ranked], relays: &[Ranked]) -> String {
    let total = t.total_messages();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "repudiate audit: {} in {} from {}",
        counted(total, "messages"),
        counted(t.total_pairs(), "pairs"),
        counted(t.inputs() as u64, "inputs")
    );
    render_period(&mut s, &t.period, total);
    let _ = writeln!(
        s,
        "  {:<15} {:>10} {:>7} {:>8}",
        "verdict", "messages", "%", "pairs"
    );
    for v in Verdict::ALL {
        let n = t.messages[v.index()];
        let _ = writeln!(
            s,
            "  {:<15} {:>10} {:>6.1}% {:>8}",
            v.as_str(),
            n,
            pct(n, total),
            t.pairs[v.index()]
        );
    }
    render_evidence(&mut s, t);
    render_spf(&mut s, t);
    render_skipped(&mut s, t);
    render_ranked(&mut s, DOMAINS, domains);
    render_ranked(&mut s, CLIENTS, relays);
    render_dns(&mut s, &t.dns);
    render_failed_inputs(&mut s, t);
    s
}

/// The cross-table: one row per verdict that SPF was evaluated beside, one column per SPF
/// result, in messages.
fn render_spf(s: &mut String, t: &Totals) {
    if !t.has_spf() {
        return;
    }
    let _ = write!(
        s,
        "  MAIL-FROM verdict x SPF result, in messages:\n  {:<15}",
        ""
    );
    for r in SpfResult::ALL {
        let _ = write!(s, " {:>9}", r.as_str());
    }
    s.push('\n');
    for v in Verdict::ALL {
        let row = &t.spf[v.index()];
        if row.iter().all(|&n| n == 0) {
            continue;
        }
        let _ = write!(s, "    {:<13}", v.as_str());
        for n in row {
            let _ = write!(s, " {n:>9}");
        }
        s.push('\n');
    }
    let _ = write!(s, "    {:<13}", "all");
    for r in SpfResult::ALL {
        let _ = write!(s, " {:>9}", t.of_spf(r));
    }
    s.push('\n');
}

/// Only when some input could tell authenticated mail apart (DMARC reports).
fn render_evidence(s: &mut String, t: &Totals) {
    let e = &t.evidence;
    if e.messages == 0 {
        return;
    }
    let repudiated = e
        .repudiated_authenticated
        .saturating_add(e.repudiated_unauthenticated);
    let _ = writeln!(
        s,
        "  repudiated, of the {} messages whose input knew authentication (DMARC reports):",
        e.messages
    );
    let _ = writeln!(
        s,
        "    {:<34} {:>10} {:>6.1}%",
        "authenticated (legitimate, lost)",
        e.repudiated_authenticated,
        pct(e.repudiated_authenticated, repudiated)
    );
    let _ = writeln!(
        s,
        "    {:<34} {:>10} {:>6.1}%",
        "not authenticated (forgery stopped)",
        e.repudiated_unauthenticated,
        pct(e.repudiated_unauthenticated, repudiated)
    );
}

/// What a ranking lists: its title, the header of its name column, and of the column that
/// counts the other side of its repudiated pairs.
struct Ranking {
    title: &'static str,
    name: &'static str,
    others: &'static str,
}

/// The sender domains; `client IPs` counts the distinct connecting clients whose messages
/// for the domain would be repudiated (not the relays its policy lists).
const DOMAINS: Ranking = Ranking {
    title: "sender domains",
    name: "sender domain",
    others: "client IPs",
};

const CLIENTS: Ranking = Ranking {
    title: "client IPs",
    name: "client IP",
    others: "domains",
};

fn render_ranked(s: &mut String, what: Ranking, ranked: &[Ranked]) {
    if ranked.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "  {} with the most repudiated messages ({} of {}):",
        what.title,
        ranked.len().min(TOP),
        ranked.len()
    );
    let _ = writeln!(
        s,
        "    {:<39} {:>10}    {:>10} {:>7} {:>10}",
        what.name, "repudiated", "messages", "%", what.others
    );
    for r in ranked.iter().take(TOP) {
        let name = if r.name.is_empty() {
            "(none)".into()
        } else {
            one_line(&r.name)
        };
        let _ = writeln!(
            s,
            "    {:<39} {:>10} of {:>10} {:>6.1}% {:>10}",
            name,
            r.repudiated,
            r.messages,
            pct(r.repudiated, r.messages),
            r.repudiated_pairs
        );
    }
}

/// Where the answers came from. Each question is counted once by its source; lookups that
/// reused an answer of this run are said apart, because they cost nothing.
fn render_dns(s: &mut String, d: &DnsTotals) {
    let _ = writeln!(s, "  {:<31} {:>10}", "DNS questions", "number");
    let _ = writeln!(
        s,
        "    {:<29} {:>10}  {} over {}",
        "sent to a server",
        d.queries,
        rate(d.queries, d.elapsed),
        span(d.elapsed)
    );
    let _ = writeln!(
        s,
        "    {:<29} {:>10}",
        "answered by the --cache file", d.file_answers
    );
    let _ = writeln!(
        s,
        "    {:<29} {:>10}",
        "answered by zone files", d.zone_answers
    );
    let failed = if d.offline > 0 {
        format!("failed ({} offline)", d.offline)
    } else {
        "failed".to_string()
    };
    let _ = writeln!(s, "    {failed:<29} {:>10}", d.failures);
    let _ = writeln!(
        s,
        "    {:<29} {:>10}",
        "answers reused within the run", d.reused
    );
}

pub fn render_scan(t: &Totals, messages: u64, pairs: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "repudiate scan: {} in {} from {}",
        counted(messages, "messages"),
        counted(pairs as u64, "pairs"),
        counted(t.inputs() as u64, "inputs")
    );
    render_period(&mut s, &t.period, messages);
    render_skipped(&mut s, t);
    render_failed_inputs(&mut s, t);
    s
}

/// The period the messages cover, and what could not be dated: said even when nothing
/// could, so a report never looks dated when it is not.
fn render_period(s: &mut String, p: &Period, messages: u64) {
    let _ = match (p.first, p.last) {
        (Some(first), Some(last)) => write!(
            s,
            "  period: {} to {} (UTC)",
            first.rfc3339(),
            last.rfc3339()
        ),
        // No dated message: say whether there were messages at all, or a run that found
        // none reads as a date problem.
        _ if messages == 0 => write!(s, "  period: none (no messages)"),
        _ => write!(s, "  period: no message carried a usable date"),
    };
    if p.undated() > 0 {
        let _ = write!(
            s,
            "; without a usable date: {} messages ({} unparseable, {} absent)",
            p.undated(),
            p.unparseable,
            p.absent
        );
    }
    s.push('\n');
}

fn render_skipped(s: &mut String, t: &Totals) {
    let _ = writeln!(s, "  {:<15} {:>10}", "skipped (why)", "records");
    for r in SkipReason::ALL {
        let n = t.skipped[r.index()];
        if n > 0 {
            let _ = writeln!(s, "    {:<13} {:>10}", r.as_str(), n);
        }
    }
    let _ = writeln!(s, "    {:<13} {:>10}", "total", t.total_skipped());
}

fn render_failed_inputs(s: &mut String, t: &Totals) {
    if t.inputs_failed > 0 {
        let _ = writeln!(
            s,
            "  {} input(s) failed: see the errors above",
            t.inputs_failed
        );
    }
}

/// The commonest ways the tempfail rows' questions failed, with their message counts:
/// `timeout 812, SERVFAIL 40, offline 3`.
pub fn tempfail_causes(rows: &[PairRow]) -> String {
    let mut causes: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for row in rows.iter().filter(|r| r.verdict == Verdict::Tempfail) {
        let reason = row.reason.as_deref().unwrap_or("");
        // `NAME TYPE: failure[; NAME TYPE: failure]`: the first question's failure.
        let first = reason.split("; ").next().unwrap_or(reason);
        let cause = first.split_once(": ").map_or(first, |(_, why)| why);
        let n = causes.entry(cause).or_default();
        *n = n.saturating_add(row.messages);
    }
    let mut causes: Vec<(&str, u64)> = causes.into_iter().collect();
    causes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let shown: Vec<String> = causes
        .iter()
        .take(3)
        .map(|(cause, n)| format!("{cause} {n}"))
        .collect();
    shown.join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{PairKey, Sender};

    pub(crate) fn row(domain: &str, ip: &str, messages: u64, verdict: Verdict) -> PairRow {
        PairRow {
            key: PairKey {
                sender: Sender::Domain(domain.into()),
                ip: ip.parse().ok(),
            },
            messages,
            verdict,
            matched: None,
            relays: std::sync::Arc::from([]),
            reason: None,
            authenticated: None,
            spf: None,
            days: Default::default(),
        }
    }

    #[test]
    fn repudiated_mail_with_evidence_is_split_in_the_table() {
        let evidenced = |ip, messages, verdict, authenticated| PairRow {
            authenticated: Some(authenticated),
            ..row("owner.example", ip, messages, verdict)
        };
        let rows = vec![
            evidenced("192.0.2.1", 30, Verdict::Repudiated, 10),
            evidenced("192.0.2.2", 10, Verdict::Nonrepudiated, 10),
            row("other.example", "192.0.2.3", 5, Verdict::Repudiated),
        ];
        let mut t = Totals::default();
        t.count_rows(&rows);
        assert_eq!(
            t.evidence,
            Evidence {
                messages: 40,
                repudiated_authenticated: 10,
                repudiated_unauthenticated: 20
            }
        );
        let text = render_audit(&t, &[], &[]);
        assert_eq!(
            squeezed(&text, "authenticated"),
            "authenticated (legitimate, lost) 10 33.3%"
        );
        assert_eq!(
            squeezed(&text, "not"),
            "not authenticated (forgery stopped) 20 66.7%"
        );
        let plain = render_audit(&Totals::default(), &[], &[]);
        assert!(!plain.contains("authenticated ("), "{plain}");
    }

    /// Whether `s` has a line reading `words` once its spacing is squeezed.
    fn has_line(s: &str, words: &str) -> bool {
        s.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == words)
    }

    fn squeezed(s: &str, first: &str) -> String {
        s.lines()
            .find(|l| l.split_whitespace().next() == Some(first))
            .unwrap_or_else(|| panic!("no line for {first} in\n{s}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn audit_table_has_every_verdict_and_percentages() {
        let mut t = Totals::default();
        t.messages[Verdict::Repudiated.index()] = 1;
        t.messages[Verdict::Nonrepudiated.index()] = 3;
        t.skipped[SkipReason::Local.index()] = 2;
        t.inputs_ok = 1;
        let s = render_audit(&t, &[], &[]);
        assert_eq!(squeezed(&s, "repudiated"), "repudiated 1 25.0% 0");
        assert_eq!(squeezed(&s, "nonrepudiated"), "nonrepudiated 3 75.0% 0");
        assert_eq!(squeezed(&s, "local"), "local 2");
        assert_eq!(squeezed(&s, "skipped"), "skipped (why) records");
        assert_eq!(squeezed(&s, "total"), "total 2");
        assert!(s.contains("null-sender"));
        assert_eq!(t.repudiated_pct(), 25.0);
        t.messages[Verdict::Tempfail.index()] = 1;
        t.messages[Verdict::NullSender.index()] = 5;
        t.messages[Verdict::Unknown.index()] = 5;
        assert_eq!(
            t.evaluated_messages(),
            5,
            "null sender and unknown are not evaluated"
        );
        assert_eq!(t.tempfail_pct(), 20.0);
    }

    #[test]
    fn rankings_sum_repudiated_messages_per_domain_and_per_relay() {
        let rows = vec![
            row("a.example", "192.0.2.1", 5, Verdict::Repudiated),
            row("a.example", "192.0.2.2", 1, Verdict::Repudiated),
            row("a.example", "192.0.2.9", 4, Verdict::Nonrepudiated),
            row("b.example", "192.0.2.1", 7, Verdict::Repudiated),
            row("c.example", "192.0.2.3", 9, Verdict::NoPolicy),
        ];
        let domains = rank_domains(&rows);
        let names: Vec<_> = domains.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["b.example", "a.example"],
            "c has nothing repudiated"
        );
        assert_eq!(
            (
                domains[1].repudiated,
                domains[1].messages,
                domains[1].repudiated_pairs
            ),
            (6, 10, 2)
        );
        let relays = rank_relays(&rows);
        assert_eq!(relays[0].name, "192.0.2.1");
        assert_eq!((relays[0].repudiated, relays[0].repudiated_pairs), (12, 2));
        assert_eq!(relays[1].name, "192.0.2.2");

        let mut t = Totals::default();
        t.count_rows(&rows);
        t.dns.queries = 17;
        let s = render_audit(&t, &domains, &relays);
        assert_eq!(squeezed(&s, "b.example"), "b.example 7 of 7 100.0% 1");
        assert_eq!(squeezed(&s, "192.0.2.1"), "192.0.2.1 12 of 12 100.0% 2");
        assert!(
            has_line(&s, "sender domain repudiated messages % client IPs"),
            "each table has its column headers: {s}"
        );
        assert!(
            has_line(&s, "client IP repudiated messages % domains"),
            "{s}"
        );
        assert_eq!(squeezed(&s, "verdict"), "verdict messages % pairs");
        assert_eq!(squeezed(&s, "sent"), "sent to a server 17 - over 0 ms");
    }

    #[test]
    fn a_run_without_messages_says_so_rather_than_blaming_dates() {
        let s = render_scan(&Totals::default(), 0, 0);
        assert!(has_line(&s, "period: none (no messages)"), "{s}");
        let s = render_scan(&Totals::default(), 3, 1);
        assert!(
            has_line(&s, "period: no message carried a usable date"),
            "{s}"
        );
    }

    #[test]
    fn the_dns_table_says_where_answers_came_from() {
        let t = Totals {
            dns: DnsTotals {
                queries: 191,
                file_answers: 40,
                zone_answers: 2,
                failures: 7,
                offline: 3,
                reused: 900,
                elapsed: Duration::from_secs(5),
            },
            ..Default::default()
        };
        let s = render_audit(&t, &[], &[]);
        assert_eq!(
            squeezed(&s, "sent"),
            "sent to a server 191 38.2/s over 5.0 s"
        );
        let fast = Totals {
            dns: DnsTotals {
                queries: 104,
                elapsed: Duration::from_millis(13),
                ..Default::default()
            },
            ..Default::default()
        };
        let quick = render_audit(&fast, &[], &[]);
        assert_eq!(
            squeezed(&quick, "sent"),
            "sent to a server 104 8000.0/s over 13 ms"
        );
        assert_eq!(squeezed(&s, "answered"), "answered by the --cache file 40");
        assert!(has_line(&s, "answered by zone files 2"), "{s}");
        assert_eq!(squeezed(&s, "failed"), "failed (3 offline) 7");
        assert_eq!(squeezed(&s, "answers"), "answers reused within the run 900");
        assert!(!s.contains("cache hits"), "{s}");
    }

    #[test]
    fn cross_table_counts_messages_by_verdict_and_spf_result() {
        let with = |r: PairRow, spf| PairRow {
            spf: Some(spf),
            ..r
        };
        let rows = vec![
            with(
                row("a.example", "192.0.2.1", 5, Verdict::NoPolicy),
                SpfResult::Fail,
            ),
            with(
                row("b.example", "192.0.2.1", 2, Verdict::NoPolicy),
                SpfResult::Fail,
            ),
            with(
                row("c.example", "192.0.2.2", 3, Verdict::Repudiated),
                SpfResult::Pass,
            ),
            with(
                row("d.example", "192.0.2.3", 1, Verdict::Nonrepudiated),
                SpfResult::Pass,
            ),
            row("e.example", "192.0.2.4", 9, Verdict::Unknown),
        ];
        let mut t = Totals::default();
        t.count_rows(&rows);
        assert_eq!(t.of_spf(SpfResult::Fail), 7);
        assert_eq!(t.of_spf(SpfResult::Pass), 4);
        let s = render_audit(&t, &[], &[]);
        let table = &s[s.find("MAIL-FROM verdict x SPF result").expect(&s)..];
        let line = |first: &str| squeezed(table, first);
        assert_eq!(
            line("pass"),
            "pass fail softfail neutral none temperror permerror",
            "{s}"
        );
        assert_eq!(line("no-policy"), "no-policy 0 7 0 0 0 0 0");
        assert_eq!(line("repudiated"), "repudiated 3 0 0 0 0 0 0");
        assert_eq!(line("nonrepudiated"), "nonrepudiated 1 0 0 0 0 0 0");
        assert_eq!(line("all"), "all 4 7 0 0 0 0 0");
        assert!(!table.contains("unknown "), "no row without SPF: {s}");
        assert!(!render_audit(&Totals::default(), &[], &[]).contains("SPF"));
    }

    #[test]
    fn the_table_stops_at_ten() {
        let rows: Vec<PairRow> = (0..15)
            .map(|i| {
                row(
                    &format!("d{i:02}.example"),
                    "192.0.2.1",
                    1,
                    Verdict::Repudiated,
                )
            })
            .collect();
        let s = render_audit(&Totals::default(), &rank_domains(&rows), &[]);
        assert!(s.contains("(10 of 15)"), "{s}");
        assert!(
            s.contains("d09.example") && !s.contains("d10.example"),
            "{s}"
        );
    }

    #[test]
    fn tempfail_causes_are_the_first_failed_question_of_each_row_by_messages() {
        let mut rows = vec![
            row("a.example", "192.0.2.1", 5, Verdict::Tempfail),
            row("b.example", "192.0.2.1", 2, Verdict::Tempfail),
            row("c.example", "192.0.2.1", 4, Verdict::Tempfail),
            row("d.example", "192.0.2.1", 9, Verdict::Nonrepudiated),
        ];
        rows[0].reason = Some("mail-from.a.example MX: timeout".into());
        rows[1].reason =
            Some("relay.b.example A: SERVFAIL; mail-from.relay.b.example MX: timeout".into());
        rows[2].reason = Some("mail-from.c.example MX: network error: 127.0.0.1:9 connection refused, 127.0.0.2:53 timeout".into());
        assert_eq!(
            tempfail_causes(&rows),
            "timeout 5, network error: 127.0.0.1:9 connection refused, 127.0.0.2:53 timeout 4, \
             SERVFAIL 2"
        );
    }
}

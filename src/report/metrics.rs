//! `--metrics FILE`: the run's [`Snapshot`] in the Prometheus text exposition format, for
//! node_exporter's textfile collector (a cron job writes `*.prom` into the collector's
//! folder; the write is atomic, through [`crate::fileio`], so a scrape never reads half a
//! file, and the temporary file's name does not end in `.prom`).
//!
//! Every sample is a gauge: the file holds one run's figures, which start again from zero
//! the next night, so none is a counter whose `rate()` would mean anything (a counter must
//! only grow within a process's life). For the same reason no name ends in `_total`, which
//! Prometheus reserves for counters. No sample carries a timestamp (the textfile collector
//! refuses them); the run's time is the gauge `repudiate_last_run_timestamp_seconds`, the
//! textfile convention for "when did the job last run", which an alert compares with
//! `time()`. Every sample has a `command` label (`audit` or `scan`), so a host that runs both
//! can give the collector both files without two files exposing the same series. Units are
//! Prometheus's base units: seconds, and ratios from 0 to 1 rather than percentages.
//! docs/monitoring.md lists every name; a test keeps that list and this file in step.

use std::fmt::{Display, Write};

use super::snapshot::{Named, Snapshot};
use crate::fileio::guard::Kind;

/// What `--metrics` writes, so an existing file of another kind is never replaced.
pub const KIND: Kind = Kind {
    what: "a repudiate metrics file (first line `# HELP repudiate_...`)",
    is_ours: is_metrics,
    regular_only: false,
};

/// The first family's name, which every file of ours begins with.
const FIRST: &str = "repudiate_last_run_timestamp_seconds";

fn is_metrics(prefix: &[u8]) -> bool {
    prefix.starts_with(format!("# HELP {FIRST} ").as_bytes())
}

/// The exposition text of `s`.
pub fn render(s: &Snapshot) -> String {
    let mut e = Exposition {
        text: String::new(),
        command: s.command,
        name: "",
    };
    run(&mut e, s);
    if let Some(verdicts) = &s.verdicts {
        e.gauge(
            "repudiate_verdict_messages",
            "Messages by MAIL-FROM verdict.",
        );
        for (verdict, counts) in &verdicts.0 {
            e.put(&[("verdict", verdict)], counts.messages);
        }
        e.gauge("repudiate_verdict_pairs", "Pairs by MAIL-FROM verdict.");
        for (verdict, counts) in &verdicts.0 {
            e.put(&[("verdict", verdict)], counts.pairs);
        }
    }
    shares(&mut e, s);
    if let Some(spf) = &s.spf {
        spf_table(&mut e, spf);
    }
    evidence(&mut e, s);
    dns(&mut e, s);
    period(&mut e, s);
    e.text
}

/// What every command has: when the run was, how it ended, what it read and skipped.
fn run(e: &mut Exposition, s: &Snapshot) {
    e.gauge(
        FIRST,
        "When the run started, in seconds since the Unix epoch.",
    );
    e.put(&[], s.run_at_unix);
    e.gauge(
        "repudiate_run_duration_seconds",
        "Wall time of the run up to its reports, in seconds.",
    );
    e.put(&[], s.duration_seconds);
    e.gauge(
        "repudiate_exit_status",
        "The exit code the run ended with (0 clean, 2 inputs failed, 3 above --fail-above, \
         4 above --max-tempfail).",
    );
    e.put(&[], s.exit_status);
    e.gauge("repudiate_inputs", "Inputs read, and inputs that failed.");
    e.put(&[("state", "read")], s.inputs.read);
    e.put(&[("state", "failed")], s.inputs.failed);
    e.gauge("repudiate_messages", "Messages in the report.");
    e.put(&[], s.messages);
    e.gauge(
        "repudiate_pairs",
        "Distinct (sender domain, client IP) pairs in the report.",
    );
    e.put(&[], s.pairs);
    e.gauge(
        "repudiate_skipped_records",
        "Messages and log records that are not pairs, by reason.",
    );
    for (reason, n) in &s.skipped.0 {
        e.put(&[("reason", reason)], *n);
    }
}

fn shares(e: &mut Exposition, s: &Snapshot) {
    if let Some(pct) = s.repudiated_pct {
        e.gauge(
            "repudiate_repudiated_ratio",
            "Repudiated messages as a share of all messages, 0 to 1 (what --fail-above \
             compares, as a percentage).",
        );
        e.put(&[], pct / 100.0);
    }
    if let Some(pct) = s.tempfail_pct {
        e.gauge(
            "repudiate_tempfail_ratio",
            "Tempfail messages as a share of the evaluated ones, 0 to 1 (what --max-tempfail \
             compares, as a percentage).",
        );
        e.put(&[], pct / 100.0);
    }
}

fn spf_table(e: &mut Exposition, spf: &Named<Named<u64>>) {
    e.gauge(
        "repudiate_spf_messages",
        "Messages by MAIL-FROM verdict and SPF result (absent with --no-spf).",
    );
    for (verdict, results) in &spf.0 {
        for (result, n) in &results.0 {
            e.put(&[("verdict", verdict), ("spf_result", result)], *n);
        }
    }
}

fn evidence(e: &mut Exposition, s: &Snapshot) {
    let Some(ev) = &s.evidence else { return };
    e.gauge(
        "repudiate_evidence_messages",
        "Messages whose input knew whether they were authenticated (DMARC reports).",
    );
    e.put(&[], ev.messages);
    e.gauge(
        "repudiate_evidence_repudiated_messages",
        "Of those, the repudiated messages, authenticated (legitimate mail the check would \
         lose) or not.",
    );
    e.put(&[("authenticated", "true")], ev.repudiated_authenticated);
    e.put(&[("authenticated", "false")], ev.repudiated_unauthenticated);
}

fn dns(e: &mut Exposition, s: &Snapshot) {
    let Some(d) = &s.dns else { return };
    let gauges: [(&str, &str, u64); 6] = [
        (
            "repudiate_dns_queries_sent",
            "DNS questions sent to a server.",
            d.queries_sent,
        ),
        (
            "repudiate_dns_cache_file_answers",
            "DNS questions answered by the --cache file.",
            d.cache_file_answers,
        ),
        (
            "repudiate_dns_zone_file_answers",
            "DNS lookups answered by --zone files.",
            d.zone_file_answers,
        ),
        (
            "repudiate_dns_reused_answers",
            "DNS lookups answered by a question this run had already asked.",
            d.reused_answers,
        ),
        (
            "repudiate_dns_failed_questions",
            "DNS questions without a usable answer (timeout, SERVFAIL, offline).",
            d.failed_questions,
        ),
        (
            "repudiate_dns_offline_questions",
            "Of the failed DNS questions, those --offline kept from the network.",
            d.offline_questions,
        ),
    ];
    for (name, help, n) in gauges {
        e.gauge(name, help);
        e.put(&[], n);
    }
    e.gauge(
        "repudiate_dns_resolution_duration_seconds",
        "Wall time of the resolution stage, in seconds.",
    );
    e.put(&[], d.resolution_seconds);
}

/// The covered period: its ends only when some message was dated (a made-up 0 would read as
/// 1970), the undated counts always.
fn period(e: &mut Exposition, s: &Snapshot) {
    let p = &s.period;
    if let (Some(first), Some(last)) = (p.first_unix, p.last_unix) {
        e.gauge(
            "repudiate_period_first_timestamp_seconds",
            "The earliest date of the report's messages, in seconds since the Unix epoch.",
        );
        e.put(&[], first);
        e.gauge(
            "repudiate_period_last_timestamp_seconds",
            "The latest date of the report's messages, in seconds since the Unix epoch.",
        );
        e.put(&[], last);
    }
    e.gauge(
        "repudiate_undated_messages",
        "Messages the period does not cover: their date could not be read, or was absent.",
    );
    e.put(&[("date", "unparseable")], p.unparseable);
    e.put(&[("date", "absent")], p.absent);
}

/// The text being written: the current family's name and the `command` label every sample
/// carries.
struct Exposition {
    text: String,
    command: &'static str,
    name: &'static str,
}

impl Exposition {
    /// Starts a family: its `# HELP` and `# TYPE` lines.
    fn gauge(&mut self, name: &'static str, help: &str) {
        self.name = name;
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} gauge");
    }

    /// One sample of the current family.
    fn put(&mut self, labels: &[(&str, &str)], value: impl Display) {
        let _ = write!(
            self.text,
            "{}{{command=\"{}\"",
            self.name,
            escape_label(self.command)
        );
        for (name, v) in labels {
            let _ = write!(self.text, ",{name}=\"{}\"", escape_label(v));
        }
        let _ = writeln!(self.text, "}} {value}");
    }
}

/// The exposition format's escapes: `\\` and `\n` in help text, and `\"` in label values.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(text: &str) -> String {
    escape_help(text).replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{UtcTime, When};
    use crate::report::snapshot::tests::{facts, totals};

    fn sample<'a>(text: &'a str, series: &str) -> &'a str {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    }

    #[test]
    fn every_family_has_help_and_type_before_its_samples_and_every_sample_a_command() {
        let text = render(&Snapshot::audit(&totals(), facts(), true));
        assert!(is_metrics(text.as_bytes()), "{text}");
        let mut declared = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let help = line.strip_prefix("# HELP ").expect(line);
            let name = help.split(' ').next().unwrap();
            assert_eq!(lines.next(), Some(format!("# TYPE {name} gauge").as_str()));
            assert!(!declared.contains(&name), "{name} declared twice");
            declared.push(name);
            let mut samples = 0;
            while lines.peek().is_some_and(|l| !l.starts_with('#')) {
                let l = lines.next().unwrap();
                assert!(l.starts_with(&format!("{name}{{command=\"audit\"")), "{l}");
                samples += 1;
            }
            assert!(samples > 0, "{name} has no sample");
            assert!(!name.ends_with("_total"), "{name}: gauges are not _total");
        }
    }

    #[test]
    fn the_samples_are_the_snapshots_figures_in_base_units() {
        let text = render(&Snapshot::audit(&totals(), facts(), true));
        let s = |series| sample(&text, series);
        assert_eq!(
            s("repudiate_last_run_timestamp_seconds{command=\"audit\"}"),
            "1795832107"
        );
        assert_eq!(
            s("repudiate_run_duration_seconds{command=\"audit\"}"),
            "1.5"
        );
        assert_eq!(s("repudiate_exit_status{command=\"audit\"}"), "3");
        assert_eq!(
            s("repudiate_verdict_messages{command=\"audit\",verdict=\"no-policy\"}"),
            "3"
        );
        assert_eq!(s("repudiate_repudiated_ratio{command=\"audit\"}"), "0.5");
        assert_eq!(
            s(
                "repudiate_spf_messages{command=\"audit\",verdict=\"repudiated\",spf_result=\"fail\"}"
            ),
            "5"
        );
        assert_eq!(
            s("repudiate_skipped_records{command=\"audit\",reason=\"internal\"}"),
            "4"
        );
        assert_eq!(
            s("repudiate_inputs{command=\"audit\",state=\"failed\"}"),
            "1"
        );
        assert_eq!(
            s("repudiate_dns_resolution_duration_seconds{command=\"audit\"}"),
            "0.25"
        );
    }

    #[test]
    fn a_scan_exposes_what_it_has_and_no_spf_means_no_spf_family() {
        let text = render(&Snapshot::scan(&totals(), facts(), 42, 7));
        assert_eq!(sample(&text, "repudiate_messages{command=\"scan\"}"), "42");
        assert!(!text.contains("verdict") && !text.contains("repudiate_dns_"));
        let no_spf = render(&Snapshot::audit(&totals(), facts(), false));
        assert!(!no_spf.contains("spf_result"), "{no_spf}");
    }

    #[test]
    fn the_period_has_its_ends_only_when_some_message_was_dated() {
        let mut t = totals();
        t.period.see(When::Absent, 2);
        let undated = render(&Snapshot::audit(&t, facts(), true));
        assert!(!undated.contains("repudiate_period_"), "{undated}");
        assert_eq!(
            sample(
                &undated,
                "repudiate_undated_messages{command=\"audit\",date=\"absent\"}"
            ),
            "2"
        );
        t.period.see(When::At(UtcTime(1_795_700_000)), 1);
        let dated = render(&Snapshot::audit(&t, facts(), true));
        assert_eq!(
            sample(
                &dated,
                "repudiate_period_first_timestamp_seconds{command=\"audit\"}"
            ),
            "1795700000"
        );
        assert_eq!(
            sample(
                &dated,
                "repudiate_period_last_timestamp_seconds{command=\"audit\"}"
            ),
            "1795700000"
        );
    }

    #[test]
    fn escapes_keep_a_label_value_on_its_line() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
    }

    #[test]
    fn only_our_own_files_are_replaced() {
        assert!(is_metrics(
            b"# HELP repudiate_last_run_timestamp_seconds When\n"
        ));
        assert!(!is_metrics(b"# HELP node_cpu_seconds_total x\n"));
        assert!(!is_metrics(b"domain,ip,messages\n"));
    }
}

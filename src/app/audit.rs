//! `audit`: the main job. Reads the inputs into pairs, resolves the perimeter, evaluates
//! every pair's policy, and writes the pairs CSV and the reports asked for.

use std::time::{Instant, SystemTime};

use super::{
    Fatal, RunStatus, async_runtime, output_error, read_inputs, resolution_stack, resolve_relays,
    save_cache, say, status_of, write_monitor,
};

use crate::aggregate::Tally;
use crate::config::AuditConfig;
use crate::dns::Dns;
use crate::fileio::output::write_output;
use crate::model::{DayList, PairRow};
use crate::pairs_file::write_audit;
use crate::policy::{self, evaluate_all};
use crate::report::by_day::{DayRow, day_rows, write_by_day};
use crate::report::domains::write_domains;
use crate::report::html::{HtmlReport, write_html};
use crate::report::progress::Progress;
use crate::report::snapshot::{RunFacts, Snapshot};
use crate::report::summary::{
    DnsTotals, Ranked, Totals, rank_domains, rank_relays, render_audit, tempfail_causes,
};
use crate::report::{hints, history};

pub(super) fn run(cfg: &AuditConfig) -> Result<RunStatus, Fatal> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let run_at = history::rfc3339_utc(started);
    let runtime = async_runtime()?;
    let dns = resolution_stack(&cfg.dns, &runtime)?;
    let relays = resolve_relays(&runtime, &dns, &cfg.input.perimeter, &cfg.forwarders)?;
    let policy_cfg = policy::PolicyConfig {
        trusted: relays.trusted,
        ..cfg.policy.clone()
    };
    let mut read = cfg.input.read.clone();
    read.extract.perimeter.extend(relays.perimeter_nets);

    let report = read_inputs(&cfg.input, &read, &cfg.run)?;
    let status = status_of(&report);
    let Tally {
        pairs,
        skipped,
        authenticated,
        period,
        ..
    } = report.tally;
    // Each pair's days, kept for the reports that show them (--by-day, the HTML chart, the
    // summary's first and last day); freed before evaluation otherwise.
    let reports = &cfg.reports;
    let keep_days = reports.by_day.is_some() || reports.html.is_some() || reports.summary.is_some();
    let resolving = Instant::now();
    let bar = Progress::new(cfg.run.quiet).resolving(pairs.len() as u64);
    let purge = crate::allocator::Resolving::start();
    let mut rows = runtime.block_on(evaluate_all(
        &dns,
        &policy_cfg,
        pairs.into_iter().map(|(k, c)| {
            let days = if keep_days { c.days } else { DayList::Empty };
            (k, c.messages, days)
        }),
        cfg.dns.concurrency,
        &|| bar.inc(1),
    ));
    drop(purge);
    bar.finish();
    // A dead resolver is fatal, before any report or cache file is touched: every verdict
    // of the run would be a tempfail that says nothing about the domains.
    if let Some(unusable) = dns.health.unusable() {
        return Err(Fatal(unusable.to_string()));
    }
    for row in &mut rows {
        row.authenticated = authenticated.get(&row.key).copied();
    }
    save_cache(&cfg.dns, &dns);
    let mut totals = Totals {
        skipped,
        period,
        inputs_ok: report.inputs_ok,
        inputs_failed: report.errors.len(),
        dns: dns_totals(&dns, resolving),
        ..Default::default()
    };
    totals.count_rows(&rows);
    // The HTML page draws the days too.
    let drawn = reports.by_day.is_some() || reports.html.is_some();
    let day_list = if drawn { day_rows(&rows) } else { Vec::new() };
    // Ranked once: the table on standard error and the HTML page show the same lists; a
    // quiet run without the page shows neither, and skips the work.
    let ranked = if cfg.run.quiet && reports.html.is_none() {
        Rankings::default()
    } else {
        Rankings {
            domains: rank_domains(&rows),
            relays: rank_relays(&rows),
        }
    };
    // Decided before the reports, which say it (--metrics, --json); said after the table.
    let (status, alarms) = alerts(cfg, &totals, &rows, status);
    write_reports(cfg, &mut rows, &totals, &ranked, &day_list, &run_at)?;
    let facts = RunFacts {
        started,
        duration: clock.elapsed(),
        exit_status: status.exit_code(),
    };
    write_monitor(
        &cfg.monitor,
        &Snapshot::audit(&totals, facts, cfg.policy.spf),
    )?;
    if !cfg.run.quiet {
        eprint!("{}", render_audit(&totals, &ranked.domains, &ranked.relays));
        if !cfg.dns.offline
            && let Some(note) = hints::spf_silence(&rows)
        {
            say(&note);
        }
    }
    alarms.iter().for_each(|alarm| say(alarm));
    crate::allocator::finishing();
    Ok(status)
}

/// The exit conditions of a completed run, with what to say of each on standard error even
/// with `--quiet` (cron mails what a job prints, and these are the alerts): 4 (tempfail
/// above `--max-tempfail`) wins over 3 (repudiated above `--fail-above`), which wins over 2.
fn alerts(
    cfg: &AuditConfig,
    totals: &Totals,
    rows: &[PairRow],
    status: RunStatus,
) -> (RunStatus, Vec<String>) {
    let mut status = status;
    let mut said = Vec::new();
    if let Some(limit) = cfg.reports.fail_above
        && totals.repudiated_pct() > limit
    {
        said.push(format!(
            "{:.2} % of messages would be repudiated, above --fail-above {limit}",
            totals.repudiated_pct()
        ));
        status = RunStatus::ShareExceeded;
    }
    let limit = cfg.reports.max_tempfail;
    if totals.tempfail_pct() > limit {
        said.push(format!(
            "{:.2} % of evaluated messages are tempfail ({}), above --max-tempfail {limit}: {}",
            totals.tempfail_pct(),
            tempfail_causes(rows),
            tempfail_meaning(cfg.dns.offline)
        ));
        status = RunStatus::TempfailExceeded;
    }
    (status, said)
}

/// What a tempfail share above the limit means. Offline, no question reached DNS: the
/// senders the zone files do not cover are tempfail by design, and blaming DNS would send
/// the administrator after a resolver that was never asked.
fn tempfail_meaning(offline: bool) -> &'static str {
    if offline {
        "the --zone files do not cover those senders (--offline); \
         add --max-tempfail 100 to a what-if run"
    } else {
        "DNS was too unreliable to trust this report"
    }
}

/// The sender domains and relay IPs with the most repudiated messages.
#[derive(Default)]
struct Rankings {
    domains: Vec<Ranked>,
    relays: Vec<Ranked>,
}

/// Writes every report the run asked for; the history goes last, so a run whose other
/// reports failed leaves no row behind.
fn write_reports(
    cfg: &AuditConfig,
    rows: &mut [PairRow],
    totals: &Totals,
    ranked: &Rankings,
    days: &[DayRow],
    run_at: &str,
) -> Result<(), Fatal> {
    write_output(cfg.output.as_deref(), |w| write_audit(w, rows))
        .map_err(|e| output_error(cfg.output.as_deref(), e))?;
    if let Some(path) = &cfg.reports.summary {
        write_output(Some(path), |w| write_domains(w, rows))
            .map_err(|e| output_error(Some(path), e))?;
    }
    if let Some(path) = &cfg.reports.by_day {
        write_output(Some(path), |w| write_by_day(w, days, cfg.policy.spf))
            .map_err(|e| output_error(Some(path), e))?;
    }
    if let Some(path) = &cfg.reports.html {
        let page = HtmlReport {
            run_at,
            totals,
            domains: &ranked.domains,
            relays: &ranked.relays,
            settings: &cfg.describe(),
            days,
        };
        write_output(Some(path), |w| write_html(w, &page))
            .map_err(|e| output_error(Some(path), e))?;
    }
    if let Some(path) = &cfg.reports.history {
        history::append(path, &history::row(run_at, totals))
            .map_err(|e| output_error(Some(path), e))?;
    }
    Ok(())
}

fn dns_totals(dns: &Dns, started: Instant) -> DnsTotals {
    use std::sync::atomic::Ordering::Relaxed;
    DnsTotals {
        queries: dns.stats.queries.load(Relaxed),
        file_answers: dns.file_answers(),
        zone_answers: dns.stats.zone_answers.load(Relaxed),
        failures: dns.stats.failures.load(Relaxed),
        offline: dns.stats.offline.load(Relaxed),
        reused: dns.stats.reused.load(Relaxed),
        elapsed: started.elapsed(),
    }
}

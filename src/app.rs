//! Runs the pipeline in order — inputs → extract → aggregate → dns → policy → report — for
//! `audit` and `scan`, evaluates and explains one pair for `check`, and says how the run went
//! so `main` can pick the exit code. The output locks are taken first and held to the end,
//! so an overlapping run waits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use futures::StreamExt;
use indicatif::ProgressBar;

use crate::aggregate::Tally;
use crate::config::{CheckRequest, Config, Mode, RelaySpec};
use crate::dns::occupancy::Sampler;
use crate::dns::persist;
use crate::dns::upstream::Upstream;
use crate::dns::zones::Zones;
use crate::dns::{Data, Dns, Lookup, Outcome, QType};
use crate::fileio::lock::lock_outputs;
use crate::fileio::output::write_output;
use crate::inputs::{self, ReadReport};
use crate::model::{PairKey, PairRow, Sender, Verdict};
use crate::net::IpNet;
use crate::pairs_file::{write_audit, write_scan};
use crate::policy::{self, Evaluation, Trusted};
use crate::report::check::{CheckReport, write_check};
use crate::report::domains::write_domains;
use crate::report::history;
use crate::report::html::{HtmlReport, write_html};
use crate::report::progress::Progress;
use crate::report::summary::{
    DnsTotals, Ranked, Totals, rank_domains, rank_relays, render_audit, render_scan,
};

/// How a run that produced its report went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every input was read.
    Clean,
    /// The report was written but some inputs failed (each named on standard error).
    InputsFailed,
    /// The reports were written and the repudiated share is above `--fail-above`. It wins
    /// over `InputsFailed`: the alert is what the cron job asked for, and failed inputs are
    /// named on standard error either way.
    ShareExceeded,
}

/// A run that could not produce its report.
#[derive(Debug)]
pub struct Fatal(pub String);

pub fn run(cfg: &Config) -> Result<RunStatus, Fatal> {
    if let Some(jobs) = cfg.jobs {
        // Fails only when the global pool already exists (a second run in one process).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global();
    }
    let outputs: Vec<&Path> = cfg.output_files().into_iter().map(|(_, p)| p).collect();
    let _locks = lock_outputs(&outputs, cfg.lock_wait).map_err(Fatal)?;
    match &cfg.mode {
        Mode::Scan => run_scan(cfg),
        Mode::Audit => run_audit(cfg),
        Mode::Check(request) => run_check(cfg, request),
    }
}

fn run_scan(cfg: &Config) -> Result<RunStatus, Fatal> {
    let report = read_inputs(cfg, &cfg.read)?;
    let status = status_of(&report);
    let messages = report.tally.messages();
    let mut pairs: Vec<(PairKey, u64)> = report.tally.pairs.into_iter().collect();
    write_output(cfg.output.as_deref(), |w| write_scan(w, &mut pairs))
        .map_err(|e| output_error(cfg.output.as_deref(), e))?;
    if !cfg.quiet {
        let totals = Totals {
            skipped: report.tally.skipped,
            inputs_ok: report.inputs_ok,
            inputs_failed: report.errors.len(),
            ..Default::default()
        };
        eprint!("{}", render_scan(&totals, messages, pairs.len()));
    }
    Ok(status)
}

fn run_audit(cfg: &Config) -> Result<RunStatus, Fatal> {
    let run_at = history::rfc3339_utc(SystemTime::now());
    let runtime = async_runtime()?;
    let dns = resolution_stack(cfg, &runtime)?;
    let (policy_cfg, perimeter_nets) = runtime.block_on(policy_config(cfg, &dns))?;
    let mut read = cfg.read.clone();
    read.extract.perimeter.extend(perimeter_nets);

    let report = read_inputs(cfg, &read)?;
    let status = status_of(&report);
    let Tally { pairs, skipped } = report.tally;
    let resolving = Instant::now();
    let bar = Progress::new(cfg.quiet).resolving(pairs.len() as u64);
    let mut rows = runtime.block_on(evaluate_all(
        &dns,
        &policy_cfg,
        pairs,
        cfg.dns.concurrency,
        &bar,
    ));
    bar.finish();
    save_cache(cfg, &dns);
    let mut totals = Totals {
        skipped,
        inputs_ok: report.inputs_ok,
        inputs_failed: report.errors.len(),
        dns: dns_totals(&dns, resolving),
        ..Default::default()
    };
    totals.count_rows(&rows);
    // Ranked once: the table on standard error and the HTML page show the same lists.
    let ranked = Rankings {
        domains: rank_domains(&rows),
        relays: rank_relays(&rows),
    };
    write_reports(cfg, &mut rows, &totals, &ranked, &run_at)?;
    if !cfg.quiet {
        eprint!("{}", render_audit(&totals, &ranked.domains, &ranked.relays));
    }
    Ok(match cfg.reports.fail_above {
        Some(limit) if totals.repudiated_pct() > limit => {
            // Printed even with --quiet: cron mails what a job prints, and this is the alert.
            eprintln!(
                "repudiate: {:.2} % of messages would be repudiated, above --fail-above {limit}",
                totals.repudiated_pct()
            );
            RunStatus::ShareExceeded
        }
        _ => status,
    })
}

/// Writes every report the run asked for; the history goes last, so a run whose other
/// reports failed leaves no row behind.
/// The sender domains and relay IPs with the most repudiated messages.
struct Rankings {
    domains: Vec<Ranked>,
    relays: Vec<Ranked>,
}

fn write_reports(
    cfg: &Config,
    rows: &mut [PairRow],
    totals: &Totals,
    ranked: &Rankings,
    run_at: &str,
) -> Result<(), Fatal> {
    write_output(cfg.output.as_deref(), |w| write_audit(w, rows))
        .map_err(|e| output_error(cfg.output.as_deref(), e))?;
    if let Some(path) = &cfg.reports.summary {
        write_output(Some(path), |w| write_domains(w, rows))
            .map_err(|e| output_error(Some(path), e))?;
    }
    if let Some(path) = &cfg.reports.html {
        let page = HtmlReport {
            run_at,
            totals,
            domains: &ranked.domains,
            relays: &ranked.relays,
            settings: &cfg.describe(),
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
        cache_hits: dns.stats.cache_hits.load(Relaxed),
        zone_answers: dns.stats.zone_answers.load(Relaxed),
        failures: dns.stats.failures.load(Relaxed),
        elapsed: started.elapsed(),
    }
}

/// `check`: one pair, evaluated with every step kept, explained on standard output.
fn run_check(cfg: &Config, request: &CheckRequest) -> Result<RunStatus, Fatal> {
    let runtime = async_runtime()?;
    let dns = resolution_stack(cfg, &runtime)?;
    let (policy_cfg, _) = runtime.block_on(policy_config(cfg, &dns))?;
    let key = PairKey {
        sender: request.sender.clone(),
        ip: Some(request.ip),
    };
    let evaluation = runtime.block_on(verdict_for(&dns, &policy_cfg, &key));
    save_cache(cfg, &dns);
    let report = CheckReport {
        sender: &request.sender,
        ip: request.ip,
        evaluation: &evaluation,
        max_lookups: policy_cfg.max_lookups,
        max_depth: policy_cfg.max_depth,
    };
    write_output(None, |w| write_check(w, &report, request.format))
        .map_err(|e| output_error(None, e))?;
    Ok(RunStatus::Clean)
}

fn async_runtime() -> Result<tokio::runtime::Runtime, Fatal> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the async runtime: {e}")))
}

/// Zone files, the run's cache (seeded from `--cache`), and the network unless offline.
fn resolution_stack(cfg: &Config, runtime: &tokio::runtime::Runtime) -> Result<Dns, Fatal> {
    let zones = Zones::load(&cfg.dns.zones).map_err(|e| Fatal(format!("--zone {e}")))?;
    let upstream = if cfg.dns.offline {
        None
    } else {
        Some(
            runtime
                .block_on(async { Upstream::new(&cfg.dns.upstream) })
                .map_err(Fatal)?,
        )
    };
    let dns = Dns::new(zones, upstream, cfg.dns.concurrency);
    if let Some(path) = &cfg.dns.cache {
        load_cache(&dns, path);
    }
    Ok(dns)
}

/// A cache file that cannot be used costs only time: it is named on standard error and
/// the run starts with an empty cache, never with part of a damaged file.
fn load_cache(dns: &Dns, path: &Path) {
    let now = persist::unix_now();
    match persist::load(path, now) {
        Ok(entries) => dns.preload(entries, now),
        Err(e) => eprintln!("repudiate: {e}; it is ignored, every question is asked again"),
    }
}

/// Writes the `--cache` file once the DNS work is done. Failing to write it does not fail
/// the run (the report is still right); it is said on standard error.
fn save_cache(cfg: &Config, dns: &Dns) {
    let Some(path) = &cfg.dns.cache else {
        return;
    };
    let now = persist::unix_now();
    if let Err(e) = persist::save(path, &dns.persistable(now)) {
        eprintln!("repudiate: cannot write --cache {}: {e}", path.display());
    }
}

/// The policy settings with `--perimeter`/`--forwarder` resolved to networks, and the
/// perimeter networks found by resolving host names (extraction skips those hops too).
async fn policy_config(
    cfg: &Config,
    dns: &Dns,
) -> Result<(policy::PolicyConfig, Vec<IpNet>), Fatal> {
    let mut trusted = Vec::new();
    let mut perimeter_nets = Vec::new();
    for (specs, kind) in [
        (&cfg.perimeter, "perimeter"),
        (&cfg.forwarders, "forwarder"),
    ] {
        for (label, net) in resolve_relays(dns, specs, kind).await? {
            if kind == "perimeter" {
                perimeter_nets.push(net);
            }
            trusted.push(Trusted { label, net });
        }
    }
    let policy_cfg = policy::PolicyConfig {
        trusted,
        ..cfg.policy.clone()
    };
    Ok((policy_cfg, perimeter_nets))
}

/// Reads every input, prints each failure, and fails the run when nothing could be read.
fn read_inputs(cfg: &Config, read: &inputs::ReadOptions) -> Result<ReadReport, Fatal> {
    let bar = Progress::new(cfg.quiet).reading();
    let report = inputs::read_all(&cfg.inputs, read, &bar);
    bar.finish();
    for e in &report.errors {
        eprintln!("repudiate: {e}");
    }
    if report.inputs_ok == 0 && !report.errors.is_empty() {
        return Err(Fatal("no input could be read".into()));
    }
    Ok(report)
}

fn status_of(report: &ReadReport) -> RunStatus {
    if report.errors.is_empty() {
        RunStatus::Clean
    } else {
        RunStatus::InputsFailed
    }
}

fn output_error(path: Option<&Path>, e: std::io::Error) -> Fatal {
    let target = path.map_or("standard output".to_string(), |p| p.display().to_string());
    Fatal(format!("cannot write {target}: {e}"))
}

/// Turns `--perimeter`/`--forwarder` values into labelled networks; host names are resolved
/// once here (zone files first, then DNS), and a name that cannot be resolved is fatal
/// because every verdict would silently depend on it.
async fn resolve_relays(
    dns: &Dns,
    specs: &[RelaySpec],
    kind: &str,
) -> Result<Vec<(String, IpNet)>, Fatal> {
    let mut out = Vec::new();
    for spec in specs {
        match spec {
            RelaySpec::Net(net) => out.push((format!("{kind}:{net}"), *net)),
            RelaySpec::Host(host) => {
                let mut found = 0;
                for qtype in [QType::A, QType::Aaaa] {
                    match dns.lookup(host, qtype).await.outcome {
                        Outcome::Found(Data::Addrs(addrs)) => {
                            found += addrs.len();
                            out.extend(
                                addrs
                                    .into_iter()
                                    .map(|ip| (format!("{kind}:{host}"), IpNet::host(ip))),
                            );
                        }
                        Outcome::Failed(f) => {
                            return Err(Fatal(format!(
                                "--{kind} {host}: {qtype:?} lookup failed: {f}"
                            )));
                        }
                        _ => {}
                    }
                }
                if found == 0 {
                    return Err(Fatal(format!("--{kind} {host}: the name has no addresses")));
                }
            }
        }
    }
    Ok(out)
}

/// Evaluates every pair, a bounded number at once (see [`evaluation_window`]), on the thread
/// that waits for them; the DNS layer bounds the queries in flight, and the queries run as
/// their own tasks on the runtime's worker threads. Spawning every evaluation as a task was
/// measured too: it cost more CPU (wake-ups and shared state across threads) and was slower
/// on a busy 2-core machine, so only the network work is spread.
async fn evaluate_all(
    dns: &Dns,
    cfg: &policy::PolicyConfig,
    pairs: HashMap<PairKey, u64>,
    concurrency: usize,
    progress: &ProgressBar,
) -> Vec<PairRow> {
    let total = pairs.len();
    let window = evaluation_window(concurrency);
    let running_now = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (queries_in_flight, running_now) = (dns.in_flight_probe(), running_now.clone());
        Sampler::start_if_asked(move || (queries_in_flight(), running_now.load(Ordering::Relaxed)))
    };
    let rows = futures::stream::iter(pairs)
        .map(|(key, messages)| {
            let running_now = &running_now;
            async move {
                running_now.fetch_add(1, Ordering::Relaxed);
                let e = verdict_for(dns, cfg, &key).await;
                running_now.fetch_sub(1, Ordering::Relaxed);
                progress.inc(1);
                PairRow {
                    key,
                    messages,
                    verdict: e.verdict,
                    matched: e.matched,
                    relays: e.relays,
                    reason: e.reason,
                    authenticated: None,
                    spf: None,
                }
            }
        })
        .buffer_unordered(window)
        .collect()
        .await;
    if let Some(sampler) = sampler {
        let (queries, evaluations) = sampler.finish().await;
        eprintln!(
            "repudiate: {total} evaluations, at most {window} at once; queries in flight \
             (--concurrency {concurrency}): {}, at the limit {:.0}% of the time; \
             evaluations running: {}",
            queries.describe(),
            queries.share_at_least(concurrency),
            evaluations.describe()
        );
    }
    rows
}

/// Evaluations running at once. Each asks one question at a time and most questions are
/// answered by the cache or wait for a query another evaluation started, so several
/// evaluations per permit keep the network busy; the window stays bounded because an
/// evaluation's deadline (`--eval-timeout`) runs from its start, queueing for a permit
/// included.
fn evaluation_window(concurrency: usize) -> usize {
    concurrency.saturating_mul(4).max(16)
}

/// The verdict for one pair: senders and clients that cannot be checked are decided here;
/// the rest go to the policy.
pub async fn verdict_for<L: Lookup>(
    dns: &L,
    cfg: &policy::PolicyConfig,
    key: &PairKey,
) -> Evaluation {
    let unevaluated = |verdict, reason: &str, rule| Evaluation {
        verdict,
        matched: None,
        relays: Vec::new(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        rule,
        lookups: 0,
        steps: Vec::new(),
    };
    let domain = match &key.sender {
        Sender::Null => {
            return unevaluated(
                Verdict::NullSender,
                "",
                "the null sender (MAIL FROM:<>, a bounce) is not evaluated",
            );
        }
        Sender::Missing => {
            return unevaluated(
                Verdict::Unknown,
                "no envelope sender",
                "without a sender domain there is no policy to look up",
            );
        }
        Sender::Malformed(_) => {
            return unevaluated(
                Verdict::Unknown,
                "malformed sender domain",
                "the sender domain is not a valid domain name",
            );
        }
        Sender::Domain(d) => d,
    };
    let Some(ip): Option<IpAddr> = key.ip else {
        return unevaluated(
            Verdict::Unknown,
            "no external hop",
            "without a client address there is nothing to check",
        );
    };
    policy::evaluate(dns, domain, ip, cfg).await
}

//! Runs the pipeline in order — inputs → extract → aggregate → dns → policy → report — for
//! `audit` and `scan`, and says how the run went so `main` can pick the exit code.

use std::net::IpAddr;

use futures::StreamExt;

use crate::aggregate::{PairKey, Tally};
use crate::config::{Config, Mode, RelaySpec};
use crate::dns::upstream::Upstream;
use crate::dns::zones::Zones;
use crate::dns::{Data, Dns, Lookup, Outcome, QType};
use crate::extract::Sender;
use crate::inputs::{self, ReadReport};
use crate::net::IpNet;
use crate::policy::{self, Evaluation, Trusted, Verdict};
use crate::report::output::write_output;
use crate::report::pairs::{PairRow, write_audit, write_scan};
use crate::report::summary::{Totals, render_audit, render_scan};

/// How a run that produced its report went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every input was read.
    Clean,
    /// The report was written but some inputs failed (each named on standard error).
    InputsFailed,
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
    match cfg.mode {
        Mode::Scan => run_scan(cfg),
        Mode::Audit => run_audit(cfg),
    }
}

fn run_scan(cfg: &Config) -> Result<RunStatus, Fatal> {
    let report = read_inputs(cfg, &cfg.read)?;
    let status = status_of(&report);
    let messages = report.tally.messages();
    let mut pairs: Vec<(PairKey, u64)> = report.tally.pairs.into_iter().collect();
    write_output(cfg.output.as_deref(), |w| write_scan(w, &mut pairs))
        .map_err(|e| output_error(cfg, e))?;
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the async runtime: {e}")))?;
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

    let mut read = cfg.read.clone();
    let mut trusted = Vec::new();
    for (specs, kind) in [
        (&cfg.perimeter, "perimeter"),
        (&cfg.forwarders, "forwarder"),
    ] {
        for (label, net) in runtime.block_on(resolve_relays(&dns, specs, kind))? {
            if kind == "perimeter" {
                read.extract.perimeter.push(net);
            }
            trusted.push(Trusted { label, net });
        }
    }
    let policy_cfg = policy::PolicyConfig {
        trusted,
        ..cfg.policy.clone()
    };

    let report = read_inputs(cfg, &read)?;
    let status = status_of(&report);
    let Tally { pairs, skipped } = report.tally;
    let mut rows = runtime.block_on(evaluate_all(&dns, &policy_cfg, pairs, cfg.dns.concurrency));
    write_output(cfg.output.as_deref(), |w| write_audit(w, &mut rows))
        .map_err(|e| output_error(cfg, e))?;
    if !cfg.quiet {
        let mut totals = Totals {
            skipped,
            inputs_ok: report.inputs_ok,
            inputs_failed: report.errors.len(),
            ..Default::default()
        };
        for r in &rows {
            let n = &mut totals.messages[r.verdict.index()];
            *n = n.saturating_add(r.messages);
            totals.pairs[r.verdict.index()] += 1;
        }
        eprint!("{}", render_audit(&totals));
    }
    Ok(status)
}

/// Reads every input, prints each failure, and fails the run when nothing could be read.
fn read_inputs(cfg: &Config, read: &inputs::ReadOptions) -> Result<ReadReport, Fatal> {
    let report = inputs::read_all(&cfg.inputs, read);
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

fn output_error(cfg: &Config, e: std::io::Error) -> Fatal {
    let target = cfg
        .output
        .as_ref()
        .map_or("standard output".to_string(), |p| p.display().to_string());
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

/// Evaluates every pair, many at once; the DNS layer bounds the queries in flight.
async fn evaluate_all(
    dns: &Dns,
    cfg: &policy::PolicyConfig,
    pairs: std::collections::HashMap<PairKey, u64>,
    concurrency: usize,
) -> Vec<PairRow> {
    futures::stream::iter(pairs)
        .map(|(key, messages)| async move {
            let e = verdict_for(dns, cfg, &key).await;
            PairRow {
                key,
                messages,
                verdict: e.verdict,
                matched: e.matched,
                relays: e.relays,
                reason: e.reason,
            }
        })
        .buffer_unordered(concurrency.saturating_mul(4).max(16))
        .collect()
        .await
}

/// The verdict for one pair: senders and clients that cannot be checked are decided here;
/// the rest go to the policy.
pub async fn verdict_for<L: Lookup>(
    dns: &L,
    cfg: &policy::PolicyConfig,
    key: &PairKey,
) -> Evaluation {
    let unevaluated = |verdict, reason: &str| Evaluation {
        verdict,
        matched: None,
        relays: Vec::new(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        rule: "not evaluated",
        lookups: 0,
        steps: Vec::new(),
    };
    let domain = match &key.sender {
        Sender::Null => return unevaluated(Verdict::NullSender, ""),
        Sender::Missing => return unevaluated(Verdict::Unknown, "no envelope sender"),
        Sender::Malformed(_) => return unevaluated(Verdict::Unknown, "malformed sender domain"),
        Sender::Domain(d) => d,
    };
    let Some(ip): Option<IpAddr> = key.ip else {
        return unevaluated(Verdict::Unknown, "no external hop");
    };
    policy::evaluate(dns, domain, ip, cfg).await
}

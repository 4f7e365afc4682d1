//! The command layer: one file per command (`audit`, `scan`, `check`, `propose`) wires the stages in
//! pipeline order — inputs → extract → aggregate → dns → policy → report — and says how the
//! run went, so `main` can pick the exit code. What several commands share (the runtime,
//! the DNS stack with its cache file, reading the inputs) is here. The output locks are
//! taken first and held to the end, so an overlapping run waits. Flag names appear only in
//! this layer and in `config`.

mod audit;
mod check;
mod generate;
mod propose;
mod scan;

use std::path::Path;
use std::time::Duration;

use crate::aggregate::store::SortedPairs;
use crate::config::{Config, DnsSettings, InputSettings, MonitorSettings, RunSettings, defaults};
use crate::dns::Dns;
use crate::dns::persist;
use crate::dns::upstream::Upstream;
use crate::dns::zones::Zones;
use crate::fileio::guard::{check_links, check_output, effective_uid};
use crate::fileio::lock::{LockError, lock_outputs};
use crate::fileio::output::{Staged, is_stdout, stage_output, stdout_was_closed};
use crate::inputs::{self, ReadReport, Setting};
use crate::model::text::one_line;
use crate::pairs_file;
use crate::policy::relays::{self, RelaySpec, ResolvedRelays};
use crate::report::progress::Progress;
use crate::report::snapshot::Snapshot;
use crate::report::{by_day, domains, history, html, json, metrics, proposal};

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
    /// The reports were written but the tempfail share is above `--max-tempfail`: DNS was
    /// too unreliable to trust them. It wins over the others, whose verdicts it undermines;
    /// every condition is said on standard error.
    TempfailExceeded,
}

impl RunStatus {
    /// The exit code of docs/design.md §6 (a fatal error is 1). Here rather than in `main`
    /// because `--metrics` and `--json` report it too.
    pub fn exit_code(self) -> u8 {
        match self {
            RunStatus::Clean => 0,
            RunStatus::InputsFailed => 2,
            RunStatus::ShareExceeded => 3,
            RunStatus::TempfailExceeded => 4,
        }
    }
}

/// Prints one `repudiate: ` line on standard error. Every message goes through here, with
/// its control characters escaped: a file or domain name holding a newline must not start
/// a line of its own that reads like another message.
pub fn say(message: &str) {
    eprintln!("repudiate: {}", one_line(message));
}

/// A run that could not produce its report.
#[derive(Debug)]
pub struct Fatal(pub String);

pub fn run(cfg: &Config) -> Result<RunStatus, Fatal> {
    let run = cfg.run_settings();
    if let Some(jobs) = run.and_then(|r| r.jobs) {
        // Fails only when the global pool already exists (a second run in one process).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global();
    }
    let outputs: Vec<&Path> = cfg.output_files().into_iter().map(|(_, p)| p).collect();
    // `check` has no --lock-wait: it waits as long as a run would by default.
    let lock_wait = run.map_or(Duration::from_secs_f64(defaults::LOCK_WAIT_SECS), |r| {
        r.lock_wait
    });
    // Links first: taking a lock creates a file beside the link's target.
    for (flag, path) in cfg.output_files() {
        check_links(path, effective_uid())
            .map_err(|e| Fatal(format!("{flag} {}: {e}", path.display())))?;
    }
    let _locks = lock_outputs(&outputs, lock_wait).map_err(|e| match e {
        LockError::Busy { .. } => Fatal(format!("{e} (--lock-wait)")),
        LockError::Failed(_) => Fatal(e.to_string()),
    })?;
    refuse_foreign_outputs(cfg)?;
    // Said before the work, not after it: the report would have nowhere to go.
    if cfg.stdout_output().is_some() && stdout_was_closed() {
        return Err(Fatal(
            "standard output is closed; the report would be lost (give -o FILE, or \
             -o /dev/null to discard it)"
                .into(),
        ));
    }
    match cfg {
        Config::Scan(scan) => scan::run(scan),
        Config::Audit(audit) => audit::run(audit),
        Config::Check(check) => check::run(check),
        Config::Generate(what) => generate::run(what),
        Config::Propose(propose) => propose::run(propose),
    }
}

/// Refuses, before any input is read and under the locks (so no other run is replacing them
/// meanwhile), every output file that exists and is not what its flag writes.
fn refuse_foreign_outputs(cfg: &Config) -> Result<(), Fatal> {
    for (flag, path) in cfg.output_files() {
        let kind = match flag {
            "--output" if matches!(cfg, Config::Propose(_)) => proposal::KIND,
            "--output" => pairs_file::OUTPUT_KIND,
            "--summary" => domains::KIND,
            "--by-day" => by_day::KIND,
            "--html" => html::KIND,
            "--history" => history::KIND,
            "--metrics" => metrics::KIND,
            "--json" => json::KIND,
            "--cache" => persist::KIND,
            other => unreachable!("output flag {other} without a kind"),
        };
        check_output(path, &kind).map_err(|e| Fatal(format!("{flag} {e}")))?;
    }
    Ok(())
}

fn async_runtime() -> Result<tokio::runtime::Runtime, Fatal> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the async runtime: {e}")))
}

/// Zone files, the run's cache (seeded from `--cache`), and the network unless offline.
fn resolution_stack(dns: &DnsSettings, runtime: &tokio::runtime::Runtime) -> Result<Dns, Fatal> {
    let zones = Zones::load(&dns.zones).map_err(|e| Fatal(format!("--zone {e}")))?;
    let upstream = if dns.offline {
        None
    } else {
        Some(
            runtime
                .block_on(async { Upstream::new(&dns.upstream) })
                .map_err(Fatal)?,
        )
    };
    let stack = Dns::new(zones, upstream, dns.concurrency);
    if let Some(path) = &dns.cache {
        load_cache(&stack, path, dns);
    }
    Ok(stack)
}

/// A cache file that cannot be used costs only time: it is named on standard error and
/// the run starts with an empty cache, never with part of a damaged file.
fn load_cache(dns: &Dns, path: &Path, settings: &DnsSettings) {
    let now = persist::unix_now();
    match persist::load(path, now, settings.cache_max_age) {
        Ok(entries) => dns.preload(entries, now),
        Err(e) => say(&format!(
            "--cache {e}; it is ignored, every question is asked again"
        )),
    }
}

/// Writes the `--cache` file once the DNS work is done. Failing to write it does not fail
/// the run (the report is still right); it is said on standard error.
fn save_cache(settings: &DnsSettings, dns: &Dns) {
    let Some(path) = &settings.cache else {
        return;
    };
    let now = persist::unix_now();
    if let Err(e) = persist::save(path, &dns.persistable(now, settings.cache_max_age)) {
        say(&format!("cannot write --cache {}: {e}", path.display()));
    }
}

/// `--perimeter` and `--forwarder` resolved; a host name that does not resolve is fatal,
/// named with its flag.
fn resolve_relays(
    runtime: &tokio::runtime::Runtime,
    dns: &Dns,
    perimeter: &[RelaySpec],
    forwarders: &[RelaySpec],
) -> Result<ResolvedRelays, Fatal> {
    runtime
        .block_on(relays::resolve(dns, perimeter, forwarders))
        .map_err(|e| Fatal(format!("--{} {}: {}", e.role.as_str(), e.host, e.problem)))
}

/// Reads every input, prints each failure, and fails the run when nothing could be read.
fn read_inputs(
    input: &InputSettings,
    read: &inputs::ReadOptions,
    run: &RunSettings,
) -> Result<ReadReport, Fatal> {
    let bar = Progress::new(run.quiet).reading();
    let report = inputs::read_all(&input.paths, read, &bar);
    bar.finish();
    tell_read(&report, run)?;
    Ok(report)
}

/// As [`read_inputs`], with the pairs sorted for `scan` beside the report
/// ([`inputs::read_all_sorted`]).
fn read_inputs_sorted(
    input: &InputSettings,
    read: &inputs::ReadOptions,
    run: &RunSettings,
) -> Result<(ReadReport, SortedPairs), Fatal> {
    let bar = Progress::new(run.quiet).reading();
    let (report, pairs) = inputs::read_all_sorted(&input.paths, read, &bar);
    bar.finish();
    tell_read(&report, run)?;
    Ok((report, pairs))
}

/// Prints each failure and what the reading noticed; fails the run when nothing could be
/// read.
fn tell_read(report: &ReadReport, run: &RunSettings) -> Result<(), Fatal> {
    for e in &report.errors {
        say(&e.render(flag));
    }
    // Skipped data is said even with --quiet: a line the run could not hold is mail it did
    // not count, and the offset lets the user look at it.
    for o in &report.oversized {
        eprintln!("repudiate: {}", o.said().render(flag));
    }
    let warnings = inputs::notes::warnings(report, run.verbose);
    warnings.iter().for_each(|l| say(&l.render(flag)));
    if !run.quiet {
        let notes = inputs::notes::notes(report, run.verbose);
        notes.iter().for_each(|l| say(&l.render(flag)));
    }
    if report.inputs_ok == 0 && !report.errors.is_empty() {
        return Err(Fatal("no input could be read".into()));
    }
    // A folder of nothing but non-mail files (the wrong folder, or a format not detected)
    // would otherwise be a clean night with an empty report.
    if report.inputs_ok == 0 && !report.not_mail.is_empty() {
        let n = report.not_mail.len();
        let files = if n == 1 { "file" } else { "files" };
        return Err(Fatal(format!(
            "no input could be read: the {n} {files} in the walked folders are not mail, \
             logs or pairs files (-v names them; --format says what they are)"
        )));
    }
    Ok(())
}

/// The flag that sets each setting the inputs stage's messages name.
fn flag(setting: Setting) -> &'static str {
    match setting {
        Setting::Strict => "--strict",
        Setting::MaxLineBytes => "--max-line-bytes",
        Setting::Format => "--format",
        Setting::Exclude => "--exclude",
        Setting::Verbose => "-v",
    }
}

fn status_of(report: &ReadReport) -> RunStatus {
    if report.errors.is_empty() {
        RunStatus::Clean
    } else {
        RunStatus::InputsFailed
    }
}

/// Writes `--json` and then `--metrics`, the last files of a run: a monitor that sees a fresh
/// timestamp in the metrics knows every other report of that run was written. Both are
/// written in full before either is put in place, and one going to standard output or a
/// device is written before the other is renamed into place: one that cannot be written makes
/// the run fatal (exit 1, which writes no monitoring file), so no file says an exit status the
/// process did not end with (short of a rename failing in the target's own folder).
fn write_monitor(monitor: &MonitorSettings, snapshot: &Snapshot) -> Result<(), Fatal> {
    let json = stage_monitor(monitor.json.as_deref(), |w| json::write_json(w, snapshot))?;
    let metrics = stage_monitor(monitor.metrics.as_deref(), |w| {
        w.write_all(metrics::render(snapshot).as_bytes())
    })?;
    let mut staged: Vec<(Option<&Path>, Staged)> =
        [(&monitor.json, json), (&monitor.metrics, metrics)]
            .into_iter()
            .filter_map(|(path, staged)| Some((path.as_deref(), staged?)))
            .collect();
    // Writes to standard output or a device first: they are the ones that can fail at this
    // point, and a failure then leaves no renamed file behind saying exit status 0.
    staged.sort_by_key(|(_, s)| !s.is_written_on_publish());
    for (path, staged) in staged {
        staged.publish().map_err(|e| output_error(path, e))?;
    }
    Ok(())
}

/// One monitoring file written but not yet in place; `None` when its flag was not given.
fn stage_monitor(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<Option<Staged>, Fatal> {
    let Some(path) = path else {
        return Ok(None);
    };
    stage_output(Some(path), write)
        .map(Some)
        .map_err(|e| output_error(Some(path), e))
}

fn output_error(path: Option<&Path>, e: std::io::Error) -> Fatal {
    let target = path
        .filter(|p| !is_stdout(p))
        .map_or("standard output".to_string(), |p| p.display().to_string());
    Fatal(format!("cannot write {target}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::report::snapshot::RunFacts;
    use crate::report::summary::Totals;

    /// The `--metrics` file cannot be written (its folder is gone): the run is fatal, and the
    /// `--json` file, which would have said exit status 0, is not written either.
    #[test]
    fn a_failed_metrics_write_publishes_no_json() {
        let d = tempfile::tempdir().unwrap();
        let json = d.path().join("run.json");
        let monitor = MonitorSettings {
            json: Some(json.clone()),
            metrics: Some(d.path().join("gone").join("run.prom")),
        };
        let facts = RunFacts {
            started: SystemTime::now(),
            duration: Duration::from_secs(1),
            exit_status: RunStatus::Clean.exit_code(),
        };
        let snapshot = Snapshot::scan(&Totals::default(), facts, 3, 2);
        let Err(Fatal(msg)) = write_monitor(&monitor, &snapshot) else {
            panic!("the metrics write cannot succeed");
        };
        assert!(msg.contains("run.prom"), "{msg}");
        assert!(!json.exists(), "the JSON was published");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        // With the folder there, both are written and say the same status.
        std::fs::create_dir(d.path().join("gone")).unwrap();
        write_monitor(&monitor, &snapshot).unwrap();
        let text = std::fs::read_to_string(&json).unwrap();
        assert!(text.contains("\"exit_status\": 0,"), "{text}");
    }
}

//! `scan`: extraction and dedupe only; writes `domain,ip,messages` for merging, and beside a
//! pairs file its sidecar (skipped counts and inputs), so merges are lossless; `--metrics` and
//! `--json` say how the run went, for a monitor watching each host's nightly scan. Its only DNS
//! is resolving the perimeter's host names, once, before reading, as `audit` would.

use std::path::Path;
use std::time::{Instant, SystemTime};

use super::{
    Fatal, RunStatus, async_runtime, output_error, read_inputs_sorted, resolution_stack,
    resolve_relays, say, status_of, write_monitor,
};
use crate::aggregate::Tally;
use crate::config::{RelaySpec, ScanConfig};
use crate::fileio::output::{is_renamed_into_place, write_output};
use crate::inputs::ReadOptions;
use crate::pairs_file::days;
use crate::pairs_file::meta::{self, Meta, Summing};
use crate::pairs_file::write_scan_piped;
use crate::report::snapshot::{RunFacts, Snapshot};
use crate::report::summary::{Totals, render_scan};

pub(super) fn run(cfg: &ScanConfig) -> Result<RunStatus, Fatal> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let read = with_resolved_perimeter(cfg)?;
    // The pairs come sorted from the merge's table, never as the tally's map (issue 16).
    let (report, pairs) = read_inputs_sorted(&cfg.input, &read, &cfg.run)?;
    let status = status_of(&report);
    let messages = pairs.messages();
    let mut sum = meta::Sum::default();
    write_output(cfg.output.as_deref(), |w| {
        let mut summed = Summing::new(w);
        write_scan_piped(&mut summed, pairs.len(), |i| pairs.get(i))?;
        sum = summed.sum;
        Ok(())
    })
    .map_err(|e| output_error(cfg.output.as_deref(), e))?;
    if let Some(path) = cfg.output.as_deref().filter(|p| is_renamed_into_place(p)) {
        let sidecar = Meta {
            skipped: report.tally.skipped,
            inputs_read: report.inputs_ok,
            inputs: report.sources.clone(),
            pairs: sum,
        };
        write_sidecar(path, &sidecar)?;
        write_days(path, sum, &report.tally)?;
    }
    let totals = Totals {
        skipped: report.tally.skipped,
        inputs_ok: report.inputs_ok,
        inputs_failed: report.errors.len(),
        period: report.tally.period,
        ..Default::default()
    };
    let facts = RunFacts {
        started,
        duration: clock.elapsed(),
        exit_status: status.exit_code(),
    };
    let snapshot = Snapshot::scan(&totals, facts, messages, pairs.len() as u64);
    write_monitor(&cfg.monitor, &snapshot)?;
    if !cfg.run.quiet {
        eprint!("{}", render_scan(&totals, messages, pairs.len()));
    }
    crate::allocator::finishing();
    Ok(status)
}

/// Writes `pairs.csv.meta`; a file of that name that is not a sidecar is left alone (and
/// the merge it would have served loses its skipped counts, which is said).
fn write_sidecar(pairs: &Path, sidecar: &Meta) -> Result<(), Fatal> {
    let path = meta::sidecar_path(pairs);
    if let Ok(existing) = std::fs::read(&path)
        && !meta::is_sidecar(&existing)
    {
        say(&format!(
            "{} exists and is not a pairs sidecar; it is left alone, and a merge of {} will \
             not know its skipped counts",
            path.display(),
            pairs.display()
        ));
        return Ok(());
    }
    write_output(Some(&path), |w| meta::write(w, sidecar)).map_err(|e| output_error(Some(&path), e))
}

/// Writes `pairs.csv.days` (the period and each pair's messages by day, issue 15); a file
/// of that name that is not a days file is left alone, and said so.
fn write_days(pairs: &Path, sum: meta::Sum, tally: &Tally) -> Result<(), Fatal> {
    let path = days::days_path(pairs);
    if let Ok(existing) = std::fs::read(&path)
        && !days::is_days_file(&existing)
    {
        say(&format!(
            "{} exists and is not a pairs days file; it is left alone, and a merge of {} will \
             not know its dates",
            path.display(),
            pairs.display()
        ));
        return Ok(());
    }
    let lists = tally.pairs.iter().map(|(k, c)| (k, &c.days));
    write_output(Some(&path), |w| days::write(w, sum, &tally.period, lists))
        .map_err(|e| output_error(Some(&path), e))
}

/// The read options with the perimeter's host names resolved to addresses; without host
/// names, no DNS at all (and no resolver is built).
fn with_resolved_perimeter(cfg: &ScanConfig) -> Result<ReadOptions, Fatal> {
    let mut read = cfg.input.read.clone();
    let perimeter = &cfg.input.perimeter;
    if !perimeter.iter().any(|r| matches!(r, RelaySpec::Host(_))) {
        return Ok(read);
    }
    // The names only: the answers are not worth a cache file of their own.
    let mut settings = cfg.dns.clone();
    settings.cache = None;
    let runtime = async_runtime()?;
    let dns = resolution_stack(&settings, &runtime)?;
    let relays = resolve_relays(&runtime, &dns, perimeter, &[])?;
    read.extract.perimeter.extend(relays.perimeter_nets);
    Ok(read)
}

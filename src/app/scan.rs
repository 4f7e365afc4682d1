//! `scan`: extraction and dedupe only, no DNS; writes `domain,ip,messages` for merging.

use super::{Fatal, RunStatus, output_error, read_inputs, status_of};
use crate::config::ScanConfig;
use crate::fileio::output::write_output;
use crate::model::PairKey;
use crate::pairs_file::write_scan;
use crate::report::summary::{Totals, render_scan};

pub(super) fn run(cfg: &ScanConfig) -> Result<RunStatus, Fatal> {
    let report = read_inputs(&cfg.input, &cfg.input.read, cfg.run.quiet)?;
    let status = status_of(&report);
    let messages = report.tally.messages();
    let mut pairs: Vec<(PairKey, u64)> = report.tally.pairs.into_iter().collect();
    write_output(cfg.output.as_deref(), |w| write_scan(w, &mut pairs))
        .map_err(|e| output_error(cfg.output.as_deref(), e))?;
    if !cfg.run.quiet {
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

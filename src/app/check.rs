//! `check`: one pair, evaluated with every step kept, explained on standard output.

use super::{
    Fatal, RunStatus, async_runtime, output_error, resolution_stack, resolve_relays, save_cache,
};
use crate::config::CheckConfig;
use crate::fileio::output::write_output;
use crate::model::PairKey;
use crate::policy::{self, verdict_for};
use crate::report::check::{CheckReport, write_check};

pub(super) fn run(cfg: &CheckConfig) -> Result<RunStatus, Fatal> {
    let request = &cfg.request;
    let runtime = async_runtime()?;
    let dns = resolution_stack(&cfg.dns, &runtime)?;
    let relays = resolve_relays(&runtime, &dns, &cfg.perimeter, &cfg.forwarders)?;
    let policy_cfg = policy::PolicyConfig {
        trusted: relays.trusted,
        ..cfg.policy.clone()
    };
    let key = PairKey {
        sender: request.sender.clone(),
        ip: Some(request.ip),
    };
    let evaluation = runtime.block_on(verdict_for(&dns, &policy_cfg, &key));
    save_cache(&cfg.dns, &dns);
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

//! `check`: one pair, evaluated with every step kept, explained on standard output: the
//! MAIL-FROM check and SPF for the same client, run at once.

use super::{
    Fatal, RunStatus, async_runtime, output_error, resolution_stack, resolve_relays, save_cache,
};
use crate::config::CheckConfig;
use crate::fileio::output::write_output;
use crate::model::PairKey;
use crate::policy::spf::{Identity, SpfEvaluation, check_host};
use crate::policy::{self, Limit, verdict_for};
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
    let identity = Identity::for_check(
        &request.sender,
        &request.raw_sender,
        request.helo.as_deref(),
    );
    let helo = request.helo.as_deref();
    let (evaluation, spf) = runtime.block_on(async {
        let spf = async {
            match &identity {
                Some(id) => {
                    check_host(&dns, request.ip, id, helo, policy_cfg.eval_timeout, true).await
                }
                None => SpfEvaluation::no_identity(),
            }
        };
        futures::join!(verdict_for(&dns, &policy_cfg, &key), spf)
    });
    save_cache(&cfg.dns, &dns);
    let report = CheckReport {
        sender: &request.sender,
        ip: request.ip,
        evaluation: &evaluation,
        rule: evaluation.rule.render(limit_flag),
        max_lookups: policy_cfg.max_lookups,
        max_depth: policy_cfg.max_depth,
        spf: &spf,
        spf_identity: identity.map(|id| format!("{}@{}", id.local, id.domain)),
        helo,
    };
    write_output(None, |w| write_check(w, &report, request.format))
        .map_err(|e| output_error(None, e))?;
    Ok(RunStatus::Clean)
}

/// The flag that sets each limit a rule names.
fn limit_flag(limit: Limit) -> &'static str {
    match limit {
        Limit::MaxLookups => "--max-lookups",
        Limit::EvalTimeout => "--eval-timeout",
    }
}

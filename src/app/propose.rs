//! `propose`: inputs → aggregate → the proposal per domain (reverse DNS unless offline) →
//! the zone fragment, and the coverage on standard error.

use std::collections::BTreeMap;

use super::{
    Fatal, RunStatus, async_runtime, output_error, read_inputs, resolution_stack, save_cache,
    status_of,
};
use crate::aggregate::Tally;
use crate::config::ProposeConfig;
use crate::fileio::output::write_output;
use crate::model::Sender;
use crate::policy::propose::{Flow, ProposeOptions, propose};
use crate::report::proposal::{render_coverage, write_zone};

pub(super) fn run(cfg: &ProposeConfig) -> Result<RunStatus, Fatal> {
    let report = read_inputs(&cfg.input, &cfg.input.read, &cfg.run)?;
    let status = status_of(&report);
    let runtime = async_runtime()?;
    let dns = resolution_stack(&cfg.dns, &runtime)?;
    let opts = ProposeOptions {
        min_messages: cfg.min_messages,
        reverse_dns: !cfg.dns.offline,
        from_spf: cfg.from_spf,
    };
    let flows = flows_by_domain(&report.tally, &cfg.domains);
    let proposals: Vec<_> = cfg
        .domains
        .iter()
        .map(|d| runtime.block_on(propose(&dns, d, &flows[d], &opts)))
        .collect();
    save_cache(&cfg.dns, &dns);
    write_output(cfg.output.as_deref(), |w| write_zone(w, &proposals))
        .map_err(|e| output_error(cfg.output.as_deref(), e))?;
    if !cfg.run.quiet {
        let also = subdomains_seen(&report.tally, &cfg.domains);
        eprint!("{}", render_coverage(&proposals, &also));
    }
    Ok(status)
}

/// Each requested domain's flows (pairs with a client IP), most messages first then by IP,
/// so the proposal does not depend on hash order.
fn flows_by_domain(tally: &Tally, domains: &[String]) -> BTreeMap<String, Vec<Flow>> {
    let mut flows: BTreeMap<String, Vec<Flow>> =
        domains.iter().map(|d| (d.clone(), Vec::new())).collect();
    for (key, count) in &tally.pairs {
        let messages = count.messages;
        let (Sender::Domain(d), Some(ip)) = (&key.sender, key.ip) else {
            continue;
        };
        if let Some(list) = flows.get_mut(d) {
            list.push(Flow {
                ip,
                messages,
                authenticated: tally.authenticated_of(key),
                logged_name: tally.client_names.get(&ip).map(|n| n.to_string()),
            });
        }
    }
    for list in flows.values_mut() {
        list.sort_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then_with(|| crate::net::cmp_ip(&a.ip, &b.ip))
        });
    }
    flows
}

/// Subdomains of a requested domain that sent mail but were not requested themselves: a
/// `MAIL-FROM` record covers one envelope domain, so the owner is told.
fn subdomains_seen(tally: &Tally, domains: &[String]) -> Vec<(String, u64)> {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for (key, count) in &tally.pairs {
        let messages = count.messages;
        let Sender::Domain(d) = &key.sender else {
            continue;
        };
        let under = domains.iter().any(|parent| {
            d.strip_suffix(parent.as_str())
                .is_some_and(|p| p.ends_with('.'))
        });
        if under && !domains.contains(d) {
            let n = seen.entry(d.clone()).or_insert(0);
            *n = n.saturating_add(messages);
        }
    }
    seen.into_iter().collect()
}
